package dev.txoutbox.sample.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txoutbox.sample.SampleIntegrationTest;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.web.client.RestClient;

/**
 * The running sample exposes, at the address Prometheus scrapes, the outbox metrics that the dashboard queries, with
 * the tags it groups them by.
 */
class PrometheusEndpointTests extends SampleIntegrationTest {

    // Tagged with the error's type, which is known only once a send failed, which a burst never does.
    private static final Set<String> ONLY_AFTER_FAILURES = Set.of("outbox.send.failures");

    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][\\w:]*)(?:\\{(.*)})?\\s");

    private static final Pattern LABEL = Pattern.compile("(\\w+)=\"");

    @LocalServerPort
    private int port;

    @Test
    void scrapeShowsTheOutboxMetricsOfTheDashboardWithTheirTags() {
        RestClient http = RestClient.create("http://localhost:" + this.port);
        http.post().uri("/demo/burst?orders=20").retrieve().toBodilessEntity();

        Map<String, Set<String>> series =
                labelsByName(http.get().uri("/actuator/prometheus").retrieve().body(String.class));

        Set<String> expected = OutboxMeters.ALL.stream()
                .filter(meter -> !ONLY_AFTER_FAILURES.contains(meter.name()))
                .flatMap(meter -> meter.prometheusNames().stream())
                .collect(Collectors.toCollection(TreeSet::new));
        Set<String> exposed = series.keySet().stream()
                .filter(name -> name.startsWith("outbox_"))
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(exposed)
                .as("outbox series of /actuator/prometheus, which the dashboard queries by these names")
                .containsAll(expected);
        series.forEach((name, labels) -> OutboxMeters.meterOf(name)
                .ifPresent(meter -> assertThat(labels).as("tags of %s", name).containsAll(meter.tags())));
    }

    /** The names of the series in Prometheus's text format, each with the names of its labels. */
    private static Map<String, Set<String>> labelsByName(String scrape) {
        Map<String, Set<String>> series = new TreeMap<>();
        for (String line : scrape.split("\n")) {
            Matcher sample = SAMPLE.matcher(line);
            if (line.startsWith("#") || !sample.find()) {
                continue;
            }
            Set<String> labels = series.computeIfAbsent(sample.group(1), name -> new TreeSet<>());
            if (sample.group(2) != null) {
                Matcher label = LABEL.matcher(sample.group(2));
                while (label.find()) {
                    labels.add(label.group(1));
                }
            }
        }
        return series;
    }
}
