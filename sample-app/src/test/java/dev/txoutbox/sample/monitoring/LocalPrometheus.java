package dev.txoutbox.sample.monitoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.springframework.http.HttpStatusCode;
import org.springframework.util.FileSystemUtils;
import org.springframework.web.client.RestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A real Prometheus server, Debian's {@code prometheus} package or any {@code prometheus} on the PATH, that scrapes
 * one application every five seconds, on a free port with its storage in a temporary directory; {@link #close()} stops it
 * and deletes the directory.
 */
final class LocalPrometheus implements AutoCloseable {

    // Another process may take the free port between its discovery and Prometheus's bind.
    private static final int START_ATTEMPTS = 3;

    /**
     * How often it scrapes the application: as the sample's monitoring/prometheus/prometheus.yml, for which Grafana's
     * {@code $__rate_interval} is four times as long, {@link DashboardQueriesTests#RATE_INTERVAL}.
     */
    static final Duration SCRAPE_INTERVAL = DashboardQueriesTests.RATE_INTERVAL.dividedBy(4);

    private final Process process;

    private final Path directory;

    private final RestClient http;

    private final JsonMapper json = JsonMapper.builder().build();

    // Stops the server if the JVM ends without close(), such as when the build is interrupted.
    private final Thread shutdownHook;

    private LocalPrometheus(Process process, Path directory, int port) {
        this.process = process;
        this.directory = directory;
        this.shutdownHook = new Thread(process::destroyForcibly, "prometheus-shutdown");
        Runtime.getRuntime().addShutdownHook(this.shutdownHook);
        this.http = RestClient.builder()
                .baseUrl("http://127.0.0.1:" + port)
                .defaultStatusHandler(HttpStatusCode::isError, (request, response) -> {})
                .build();
    }

    /** The {@code prometheus} executable: Debian's, or the first on the PATH. */
    static Optional<Path> executable() {
        Stream<Path> candidates = Stream.concat(
                Stream.of(Path.of("/usr/bin/prometheus")),
                Stream.of(System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
                        .filter(folder -> !folder.isBlank())
                        .map(folder -> Path.of(folder, "prometheus")));
        return candidates.filter(Files::isExecutable).findFirst();
    }

    /**
     * Starts it, scraping {@code /actuator/prometheus} of the application on {@code appPort}, and waits until ready;
     * tries again on another port when another process took the free port it was given first.
     */
    static LocalPrometheus start(Path executable, int appPort) throws IOException {
        for (int attempt = 1; ; attempt++) {
            Path directory = Files.createTempDirectory("prometheus-");
            LocalPrometheus prometheus = launch(executable, appPort, directory);
            String log;
            try {
                await().atMost(Duration.ofSeconds(30))
                        .pollInterval(Duration.ofMillis(200))
                        .failFast("Prometheus ended", () -> !prometheus.process.isAlive())
                        .ignoreExceptions()
                        .until(prometheus::ready);
                return prometheus;
            } catch (RuntimeException | Error ex) {
                try {
                    log = Files.readString(directory.resolve("prometheus.log"));
                } finally {
                    prometheus.close();
                }
                if (attempt == START_ATTEMPTS || !log.contains("address already in use")) {
                    throw new IllegalStateException("Prometheus did not start. Its log:\n" + log, ex);
                }
            }
        }
    }

    private static LocalPrometheus launch(Path executable, int appPort, Path directory) throws IOException {
        Path config = directory.resolve("prometheus.yml");
        Files.writeString(config, """
                global:
                  scrape_interval: %1$ds
                  evaluation_interval: %1$ds
                scrape_configs:
                  - job_name: sample-app
                    metrics_path: /actuator/prometheus
                    static_configs:
                      - targets: ["127.0.0.1:%2$d"]
                """.formatted(SCRAPE_INTERVAL.toSeconds(), appPort));
        int port = freePort();
        Process process = new ProcessBuilder(List.of(
                        executable.toString(),
                        "--config.file=" + config,
                        "--storage.tsdb.path=" + directory.resolve("data"),
                        "--web.listen-address=127.0.0.1:" + port,
                        "--log.level=warn"))
                .redirectErrorStream(true)
                .redirectOutput(directory.resolve("prometheus.log").toFile())
                .start();
        return new LocalPrometheus(process, directory, port);
    }

    private boolean ready() {
        return this.http
                .get()
                .uri("/-/ready")
                .retrieve()
                .toBodilessEntity()
                .getStatusCode()
                .is2xxSuccessful();
    }

    /**
     * Evaluates an expression now through the HTTP API, and returns its samples; fails when Prometheus does not
     * accept the expression.
     */
    List<Sample> query(String expression) {
        String body = this.http
                .get()
                .uri(uri -> uri.path("/api/v1/query").queryParam("query", "{q}").build(expression))
                .retrieve()
                .body(String.class);
        JsonNode answer = this.json.readTree(body);
        assertThat(answer.path("status").asString())
                .as("Prometheus's answer to %s: %s", expression, body)
                .isEqualTo("success");
        List<Sample> samples = new ArrayList<>();
        JsonNode data = answer.path("data");
        if ("vector".equals(data.path("resultType").asString())) {
            for (JsonNode sample : data.path("result")) {
                Map<String, String> labels = new TreeMap<>();
                sample.path("metric")
                        .properties()
                        .forEach(label ->
                                labels.put(label.getKey(), label.getValue().asString()));
                samples.add(new Sample(
                        labels, Double.parseDouble(sample.path("value").get(1).asString())));
            }
        } else if ("scalar".equals(data.path("resultType").asString())) {
            samples.add(new Sample(
                    Map.of(), Double.parseDouble(data.path("result").get(1).asString())));
        }
        return samples;
    }

    /**
     * One sample of a query's result.
     *
     * @param labels its labels
     * @param value its value, NaN included
     */
    record Sample(Map<String, String> labels, double value) {}

    @Override
    public void close() {
        this.process.destroy();
        try {
            if (!this.process.waitFor(10, TimeUnit.SECONDS)) {
                this.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException ex) {
            this.process.destroyForcibly();
            Thread.currentThread().interrupt();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(this.shutdownHook);
            } catch (IllegalStateException shuttingDown) {
                // The hook runs, or has run.
            }
            try {
                FileSystemUtils.deleteRecursively(this.directory);
            } catch (IOException ignored) {
                // A temporary directory.
            }
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException ex) {
            throw new UncheckedIOException("No free port for Prometheus", ex);
        }
    }
}
