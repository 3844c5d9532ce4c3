package dev.txoutbox.schemaregistry;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A real Apicurio Registry (in-memory storage), run from the application the sibling module builds, as a child
 * process on a free loopback port; started once per JVM on first use and stopped when the JVM ends.
 */
final class ApicurioRegistryServer {

    private static final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static ApicurioRegistryServer shared;

    private final Process process;

    private final String baseUrl;

    private ApicurioRegistryServer(Process process, int port) {
        this.process = process;
        this.baseUrl = "http://127.0.0.1:" + port;
    }

    /** The registry, started and ready. */
    static synchronized ApicurioRegistryServer shared() {
        if (shared == null) {
            shared = start();
            Runtime.getRuntime().addShutdownHook(new Thread(shared::stop));
        }
        return shared;
    }

    /** The URL of the registry's v2 API, which Apicurio's serializers take as {@code apicurio.registry.url}. */
    String apiUrl() {
        return this.baseUrl + "/apis/registry/v2";
    }

    /** Makes every artifact's schema changes obey a compatibility rule, such as {@code BACKWARD}, from now on. */
    void requireCompatibility(String level) {
        HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(apiUrl() + "/admin/rules"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"type\":\"COMPATIBILITY\",\"config\":\"" + level + "\"}")));
        if (response.statusCode() == 409) {
            response = send(HttpRequest.newBuilder(URI.create(apiUrl() + "/admin/rules/COMPATIBILITY"))
                    .header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString(
                            "{\"type\":\"COMPATIBILITY\",\"config\":\"" + level + "\"}")));
        }
        if (response.statusCode() / 100 != 2) {
            throw new IllegalStateException("The registry refused the global compatibility rule " + level + ": "
                    + response.statusCode() + " " + response.body());
        }
    }

    private static ApicurioRegistryServer start() {
        Path runner = Path.of(System.getProperty(
                "apicurio.registry.runner", "../apicurio-registry/target/outbox-apicurio-registry-runner.jar"));
        if (!Files.isRegularFile(runner)) {
            throw new IllegalStateException("The Apicurio Registry application " + runner + " is missing: build the"
                    + " schema-registry/apicurio-registry module first (mvn package in it, or run these tests with"
                    + " mvn -pl schema-registry/tests -am verify).");
        }
        int port = freePort();
        Path log = Path.of("target", "apicurio-registry.log");
        ProcessBuilder builder = new ProcessBuilder(List.of(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx256m",
                        "-Dquarkus.http.host=127.0.0.1",
                        "-Dquarkus.http.port=" + port,
                        "-jar",
                        runner.toString()))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Process process;
        try {
            process = builder.start();
        } catch (IOException ex) {
            throw new UncheckedIOException("Could not start Apicurio Registry from " + runner, ex);
        }
        ApicurioRegistryServer server = new ApicurioRegistryServer(process, port);
        try {
            await("Apicurio Registry ready on port " + port + " (its log: " + log.toAbsolutePath() + ")")
                    .atMost(Duration.ofMinutes(2))
                    .pollInterval(Duration.ofMillis(250))
                    .until(server::ready);
        } catch (RuntimeException ex) {
            server.stop();
            throw ex;
        }
        return server;
    }

    private boolean ready() {
        if (!this.process.isAlive()) {
            throw new IllegalStateException(
                    "Apicurio Registry stopped with exit code " + this.process.exitValue() + "; see its log");
        }
        try {
            return http.send(
                                    HttpRequest.newBuilder(URI.create(this.baseUrl + "/health/ready"))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString())
                            .statusCode()
                    == 200;
        } catch (IOException ex) {
            return false;
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
    }

    private void stop() {
        this.process.destroy();
        try {
            if (!this.process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                this.process.destroyForcibly();
            }
        } catch (InterruptedException ex) {
            this.process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }
}
