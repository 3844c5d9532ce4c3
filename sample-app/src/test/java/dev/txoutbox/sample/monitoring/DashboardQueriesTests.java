package dev.txoutbox.sample.monitoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import dev.txoutbox.Outbox;
import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.sample.order.OrderService;
import dev.txoutbox.sample.order.PlaceOrder;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntPredicate;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.web.client.RestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Every query of the dashboard, taken from monitoring/grafana/dashboards/outbox.json so that a new panel is covered,
 * sees its series change across a burst of orders that waits until it has been seen, and a first failure: an event too large
 * for the relay's producer (a dead letter at once) and one for a topic that does not exist (retried while it is
 * unavailable). Checked in the application's own {@code /actuator/prometheus}, and by a real Prometheus server that
 * evaluates every query as Grafana would.
 */
@SpringBootTest(
        webEnvironment = WebEnvironment.RANDOM_PORT,
        properties = {
            "spring.main.banner-mode=off",
            "logging.level.dev.txoutbox=ERROR",
            // The read model plays no part here.
            "spring.kafka.listener.auto-startup=false",
            "outbox.relay.send-timeout=4s",
            // Two relay threads and one cycle slot: cycles that find no free slot, for the panel that counts them.
            "outbox.relay.concurrency=2",
            "outbox.relay.table-concurrency=1",
            // The writer lets through what the relay's producer refuses for good.
            "outbox.relay.producer.max.request.size=20000",
            "outbox.max-record-size=1MB"
        })
@DirtiesContext
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DashboardQueriesTests {

    private static final String TOPIC = "sample-orders-dashboard";

    private static final Path DASHBOARD = Path.of("..", "monitoring/grafana/dashboards/outbox.json");

    /** What Grafana puts in for {@code $__rate_interval} with the scrape interval of {@link LocalPrometheus}. */
    static final Duration RATE_INTERVAL = Duration.ofSeconds(20);

    private static final int BURST_ORDERS = 200;

    private static final Duration PATIENCE = Duration.ofSeconds(60);

    // Tagged with the error's type, which is known only once a send failed.
    private static final Set<String> BORN_WITH_FIRST_FAILURE = Set.of("outbox_send_failures_total");

    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][\\w:]*)(\\{.*})?\\s+(\\S+)");

    private static final String DATABASE_URL = EmbeddedInfrastructure.newDatabaseUrl();

    @LocalServerPort
    private int port;

    @Autowired
    private OrderService orders;

    @Autowired
    private Outbox outbox;

    @Autowired
    private List<OutboxRelay> relays;

    @Autowired
    private PlatformTransactionManager transactionManager;

    @DynamicPropertySource
    static void embeddedServers(DynamicPropertyRegistry registry) {
        registry.add("spring.datasource.url", () -> DATABASE_URL);
        registry.add("spring.datasource.username", () -> "postgres");
        registry.add("spring.datasource.password", () -> "");
        registry.add("spring.kafka.bootstrap-servers", EmbeddedInfrastructure::kafkaBootstrapServers);
        registry.add("sample.orders-topic", () -> TOPIC);
    }

    @Test
    void everySeriesOfTheDashboardIsScrapedFromTheTopicsFirstEventAndChangesAcrossABurstAndAFirstFailure() {
        Map<String, Set<String>> metricsByQuery = metricsByQuery();
        Set<String> metrics = new TreeSet<>();
        metricsByQuery.values().forEach(metrics::addAll);
        placeOrderAndAwaitItsPublication();

        Map<String, Double> before = scrape();
        assertThat(before.keySet())
                .as("series the dashboard queries, before anything failed")
                .containsAll(metrics.stream()
                        .filter(Predicate.not(BORN_WITH_FIRST_FAILURE::contains))
                        .toList());
        // Larger than the other test's burst, whose batch may still be the largest in the window of
        // outbox_batch_size_max.
        Map<String, Double> during = burstAndFirstFailure(BURST_ORDERS + 50, rows -> true);
        // The gauges of the tables may show the first failure a refresh interval after the counters.
        await().atMost(PATIENCE).untilAsserted(() -> {
            Map<String, Double> after = scrape();
            assertThat(after.keySet())
                    .as("series the dashboard queries, after the first failure")
                    .containsAll(metrics);
            metricsByQuery.forEach((query, names) -> names.forEach(name -> assertThat(
                            Stream.of(before.getOrDefault(name, 0.0), during.getOrDefault(name, 0.0), after.get(name))
                                    .distinct()
                                    .count())
                    .as(
                            "%s of %s is the same before (%s), during the burst (%s) and after the first failure (%s)",
                            name, query, before.get(name), during.get(name), after.get(name))
                    .isGreaterThan(1L)));
        });
    }

    // First, so that the large event is the first failure of its type in the application, whose series Prometheus
    // has never seen before: what the failure panel must show.
    @Test
    @Order(1)
    void aRealPrometheusShowsTheBurstAndTheFirstFailureOnEveryPanel() throws IOException {
        Optional<Path> executable = LocalPrometheus.executable();
        assumeThat(executable)
                .as("no prometheus executable: apt-get install prometheus (Debian, Ubuntu) to run this test")
                .isPresent();
        Map<String, Set<String>> metricsByQuery = metricsByQuery();
        placeOrderAndAwaitItsPublication();
        try (LocalPrometheus prometheus = LocalPrometheus.start(executable.get(), this.port)) {
            // Every query is taken over a window in which Prometheus has scraped the application before.
            await().atMost(PATIENCE)
                    .until(() -> !prometheus
                            .query("up offset " + RATE_INTERVAL.toSeconds() + "s")
                            .isEmpty());
            // The largest value each query returned so far, per series of its result.
            Map<String, Map<Map<String, String>, Double>> largest = new ConcurrentHashMap<>();
            Runnable evaluateAll = () -> metricsByQuery.keySet().forEach(query -> {
                Map<Map<String, String>, Double> series =
                        largest.computeIfAbsent(query, key -> new ConcurrentHashMap<>());
                prometheus.query(query).stream()
                        .filter(sample -> !Double.isNaN(sample.value()))
                        .forEach(sample -> series.merge(sample.labels(), sample.value(), Math::max));
            });
            evaluateAll.run();

            burstAndFirstFailure(BURST_ORDERS, rows -> {
                evaluateAll.run();
                return metricsByQuery.entrySet().stream().allMatch(query -> {
                    Collection<Double> values = largest.get(query.getKey()).values();
                    if (query.getValue().contains("outbox_rows_waiting")) {
                        return values.stream().anyMatch(value -> value >= rows);
                    }
                    return !query.getValue().contains("outbox_oldest_row_age_seconds")
                            || values.stream().anyMatch(value -> value > 0);
                });
            });
            await().atMost(PATIENCE).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                evaluateAll.run();
                assertThat(largest)
                        .as("queries that returned a value above zero at some point")
                        .allSatisfy((query, series) ->
                                assertThat(series.values()).as(query).anyMatch(value -> value > 0));
            });
            // One event too large and one dead letter: the failure panels count each once, and none shows an older
            // count as new.
            Map<String, Map<String, String>> firstFailures = new LinkedHashMap<>();
            metricsByQuery.forEach((query, metrics) -> {
                if (metrics.contains("outbox_send_failures_total")) {
                    firstFailures.put(query, Map.of("kind", "permanent", "reason", "RecordTooLargeException"));
                    assertThat(largest.get(query).get(firstFailures.get(query)))
                            .as("largest value of %s for the first failure of its type: %s", query, largest.get(query))
                            .isEqualTo(1.0);
                }
                if (metrics.contains("outbox_events_dead_lettered_total")) {
                    firstFailures.put(query, Map.of("topic", TOPIC));
                    // Its series exists at zero before, so increase() counts it, extrapolated to the window's end
                    // (not its start: the counter was zero there); counted twice or with an older count it would be
                    // two at least.
                    assertThat(largest.get(query).get(firstFailures.get(query)))
                            .as("largest value of %s for the first dead letter: %s", query, largest.get(query))
                            .isGreaterThanOrEqualTo(1.0)
                            .isLessThan(2.0);
                }
                if (metrics.contains("outbox_rows_waiting")) {
                    assertThat(largest.get(query).values())
                            .as("%s showed the rows of the burst", query)
                            .anyMatch(value -> value >= BURST_ORDERS);
                }
            });
            assertThat(firstFailures).as("failure panels").hasSize(2);
            // Back to zero once the failures have left the window.
            await().atMost(PATIENCE)
                    .pollInterval(Duration.ofSeconds(1))
                    .untilAsserted(() -> firstFailures.forEach((query, labels) -> assertThat(prometheus.query(query))
                            .as("%s once its window has passed", query)
                            .filteredOn(sample -> sample.labels().equals(labels))
                            .singleElement()
                            .extracting(LocalPrometheus.Sample::value)
                            .isEqualTo(0.0)));
        }
    }

    /**
     * Stops the relay, places a burst of orders and writes the two failing events, leaves them waiting until a scrape
     * and the monitoring have seen them, then starts the relay again and waits until it published the orders, dead-lettered the large event and
     * saw the topic that does not exist as unavailable.
     *
     * @param burst how many orders to place
     * @param monitoring run at every poll while waiting, such as evaluating the queries in Prometheus: whether the
     *     monitoring has seen the given number of rows waiting and their age
     * @return a scrape taken while the rows waited
     */
    private Map<String, Double> burstAndFirstFailure(int burst, IntPredicate monitoring) {
        Map<String, Double> before = scrape();
        this.relays.forEach(OutboxRelay::stop);
        Map<String, Double> during;
        try {
            for (int i = 0; i < burst; i++) {
                this.orders.placeOrder(new PlaceOrder("dashboard", "item " + i, 1));
            }
            new TransactionTemplate(this.transactionManager).executeWithoutResult(status -> {
                this.outbox.write(TOPIC, "poison-" + UUID.randomUUID(), new byte[50_000]);
                this.outbox.write("sample-missing-" + UUID.randomUUID(), "k", "{}");
            });
            // The rows wait, the relay stopped, until a scrape and the monitoring have seen them and their age.
            AtomicReference<Map<String, Double>> sawTheRows = new AtomicReference<>();
            await().pollInterval(Duration.ofMillis(250)).atMost(PATIENCE).until(() -> {
                Map<String, Double> scrape = scrape();
                if (scrape.getOrDefault("outbox_rows_waiting", 0.0) >= burst
                        && scrape.getOrDefault("outbox_oldest_row_age_seconds", 0.0) > 0) {
                    sawTheRows.compareAndSet(null, scrape);
                }
                return monitoring.test(burst) && sawTheRows.get() != null;
            });
            during = sawTheRows.get();
        } finally {
            this.relays.forEach(OutboxRelay::start);
        }
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(500)).until(() -> {
            monitoring.test(burst);
            Map<String, Double> now = scrape();
            return now.get("outbox_events_published_total") >= before.get("outbox_events_published_total") + burst
                    && now.get("outbox_events_dead_lettered_total") > before.get("outbox_events_dead_lettered_total")
                    && now.get("outbox_topics_unavailable") > before.get("outbox_topics_unavailable");
        });
        return during;
    }

    /** Places an order and waits until it is published, so that the instance has seen the topic, as in service. */
    private void placeOrderAndAwaitItsPublication() {
        double published = scrape().getOrDefault("outbox_events_published_total", 0.0);
        this.orders.placeOrder(new PlaceOrder("dashboard", "first", 1));
        await().atMost(PATIENCE).until(() -> scrape().getOrDefault("outbox_events_published_total", 0.0) > published);
    }

    /** The application's outbox series, each name with the sum of its samples' values. */
    private Map<String, Double> scrape() {
        String text = RestClient.create("http://localhost:" + this.port)
                .get()
                .uri("/actuator/prometheus")
                .retrieve()
                .body(String.class);
        Map<String, Double> sums = new TreeMap<>();
        for (String line : text.split("\n")) {
            Matcher sample = SAMPLE.matcher(line);
            if (!line.startsWith("#") && sample.find() && sample.group(1).startsWith("outbox_")) {
                double value = Double.parseDouble(sample.group(3));
                sums.merge(sample.group(1), Double.isNaN(value) ? 0 : value, Double::sum);
            }
        }
        return sums;
    }

    /**
     * Each query of the dashboard, as Prometheus gets it from Grafana, with the outbox metrics it reads; a query that
     * uses a Grafana variable other than {@code $__rate_interval} and {@code $__rate_interval_ms} fails the test, so
     * that it is substituted here.
     */
    static Map<String, Set<String>> metricsByQuery() {
        Map<String, Set<String>> queries = new LinkedHashMap<>();
        try {
            JsonNode dashboard = JsonMapper.builder().build().readTree(Files.readString(DASHBOARD));
            for (JsonNode panel : dashboard.get("panels")) {
                for (JsonNode target : panel.get("targets")) {
                    String query = asGrafanaSendsIt(target.get("expr").asString());
                    assertThat(query).as("query of %s", panel.get("title")).doesNotContain("$");
                    Set<String> metrics = new TreeSet<>(MonitoringStackTests.metricNames(query));
                    metrics.removeAll(MonitoringStackTests.PROMETHEUS_SERIES);
                    queries.put(query, metrics);
                }
            }
        } catch (IOException ex) {
            throw new AssertionError("Cannot read " + DASHBOARD, ex);
        }
        assertThat(queries).as("queries of %s", DASHBOARD).isNotEmpty();
        return queries;
    }

    /** A query of the dashboard with Grafana's variables replaced as Grafana does for {@link #RATE_INTERVAL}. */
    static String asGrafanaSendsIt(String expression) {
        return expression
                .replace("$__rate_interval_ms", Long.toString(RATE_INTERVAL.toMillis()))
                .replace("$__rate_interval", RATE_INTERVAL.toSeconds() + "s");
    }
}
