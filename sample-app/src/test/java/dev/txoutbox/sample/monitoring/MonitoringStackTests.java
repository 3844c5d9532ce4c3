package dev.txoutbox.sample.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The monitoring of docker-compose.yml fits together and fits the application, checked without Docker: the services
 * and their ports, the files they mount, Prometheus scraping the sample, Grafana reading Prometheus, and a dashboard
 * that queries only metrics the outbox starter publishes.
 */
class MonitoringStackTests {

    // Tests run in sample-app/.
    private static final Path REPOSITORY = Path.of("..").toAbsolutePath().normalize();

    private static final String PROVISIONING = "/etc/grafana/provisioning";

    private static final Set<String> PROMQL_WORDS = Set.of(
            "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset");

    // Series that queries may use besides the starter's: Prometheus's up for every target, and the start time of the
    // process that Spring Boot Actuator exports in every application.
    static final Set<String> PROMETHEUS_SERIES = Set.of("up", "process_start_time_seconds");

    // Labels that Prometheus adds to every series of a target.
    private static final Set<String> TARGET_LABELS = Set.of("instance", "job", "application");

    private final Map<String, Object> compose = yaml(REPOSITORY.resolve("docker-compose.yml"));

    @Test
    void composeRunsTheServersAndTheMonitoringOnTheirUsualPorts() {
        assertThat(services()).containsKeys("postgres", "kafka", "prometheus", "grafana");
        assertThat(list(service("postgres"), "ports")).containsExactly("5432:5432");
        assertThat(list(service("kafka"), "ports")).containsExactly("9092:9092");
        assertThat(list(service("prometheus"), "ports")).containsExactly("127.0.0.1:9090:9090");
        assertThat(list(service("grafana"), "ports")).containsExactly("127.0.0.1:3000:3000");
        assertThat((String) service("prometheus").get("image")).startsWith("prom/prometheus:");
        assertThat((String) service("grafana").get("image")).startsWith("grafana/grafana:");
    }

    @Test
    void everyFileThatComposeMountsFromTheRepositoryExists() {
        Map<String, Object> namedVolumes = map(this.compose, "volumes");
        services()
                .keySet()
                .forEach(name -> mounts(name).forEach(mount -> {
                    if (mount.isBindMount()) {
                        assertThat(REPOSITORY.resolve(mount.source()))
                                .as("%s mounts %s", name, mount.source())
                                .exists();
                    } else {
                        assertThat(namedVolumes).as("volumes of %s", name).containsKey(mount.source());
                    }
                }));
    }

    @Test
    void prometheusScrapesTheSampleOnTheHostEveryFiveSeconds() {
        Map<String, Object> prometheus = service("prometheus");
        assertThat(list(prometheus, "extra_hosts")).contains("host.docker.internal:host-gateway");
        // The image's default command reads its configuration from there.
        Path config = hostPath("prometheus", "/etc/prometheus/prometheus.yml");
        assertThat(config).isEqualTo(REPOSITORY.resolve("monitoring/prometheus/prometheus.yml"));

        Map<String, Object> settings = yaml(config);
        List<Map<String, Object>> jobs = maps(settings, "scrape_configs");
        Map<String, Object> sample = jobs.stream()
                .filter(job -> "/actuator/prometheus".equals(job.get("metrics_path")))
                .findFirst()
                .orElseThrow(() -> new AssertionError("No scrape job with metrics_path /actuator/prometheus: " + jobs));
        assertThat(maps(sample, "static_configs"))
                .flatExtracting(targets -> list(targets, "targets"))
                .containsExactly("host.docker.internal:8080");
        Object interval =
                sample.getOrDefault("scrape_interval", map(settings, "global").get("scrape_interval"));
        assertThat(interval).isEqualTo("5s");
    }

    @Test
    void grafanaIsProvisionedWithPrometheusAndTheOutboxDashboard() {
        Map<String, Object> environment = map(service("grafana"), "environment");
        assertThat(environment)
                .containsEntry("GF_AUTH_ANONYMOUS_ENABLED", "true")
                .containsEntry("GF_AUTH_ANONYMOUS_ORG_ROLE", "Admin");
        Path provisioning = hostPath("grafana", PROVISIONING);

        List<Map<String, Object>> datasources = provisioned(provisioning.resolve("datasources"), "datasources");
        // The prometheus service, by its name on the compose network.
        assertThat(datasources)
                .singleElement()
                .satisfies(datasource -> assertThat(datasource)
                        .containsEntry("type", "prometheus")
                        .containsEntry("url", "http://prometheus:9090"));
        Object uid = datasources.get(0).get("uid");
        assertThat(dashboard().findValues("datasource"))
                .as("data sources of the dashboard's panels and queries")
                .isNotEmpty()
                .allSatisfy(datasource ->
                        assertThat(datasource.get("uid").asString()).isEqualTo(uid));

        List<Map<String, Object>> providers = provisioned(provisioning.resolve("dashboards"), "providers");
        assertThat(providers).singleElement().satisfies(provider -> {
            String folder = (String) map(provider, "options").get("path");
            assertThat(hostPath("grafana", folder).resolve("outbox.json"))
                    .isEqualTo(REPOSITORY.resolve("monitoring/grafana/dashboards/outbox.json"))
                    .exists();
        });
        assertThat(hostPath("grafana", (String) environment.get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")))
                .isEqualTo(REPOSITORY.resolve("monitoring/grafana/dashboards/outbox.json"));
    }

    @Test
    void dashboardQueriesOnlyMetricsThatTheStarterPublishes() {
        Set<String> known = new TreeSet<>(OutboxMeters.prometheusNames());
        known.addAll(PROMETHEUS_SERIES);
        Map<String, List<String>> queries = queriesByPanel();
        assertThat(queries).isNotEmpty();
        queries.forEach((title, expressions) -> {
            assertThat(expressions).as("queries of panel %s", title).isNotEmpty();
            expressions.forEach(expression -> assertThat(metricNames(expression))
                    .as("metrics of panel %s: %s", title, expression)
                    .isNotEmpty()
                    .isSubsetOf(known));
        });
    }

    @Test
    void dashboardGroupsAndLabelsSeriesOnlyByTagsTheirMetricsHave() {
        for (JsonNode panel : dashboard().get("panels")) {
            for (JsonNode target : panel.get("targets")) {
                String expression = target.get("expr").asString();
                Set<String> labels = new TreeSet<>(TARGET_LABELS);
                for (String metric : metricNames(expression)) {
                    if (PROMETHEUS_SERIES.contains(metric)) {
                        continue;
                    }
                    labels.addAll(OutboxMeters.meterOf(metric).orElseThrow().tags());
                    if (metric.endsWith("_bucket")) {
                        labels.add("le");
                    }
                }
                Set<String> grouping = groupingLabels(expression);
                assertThat(grouping).as("grouping labels of %s", expression).isSubsetOf(labels);
                Set<String> legend = matches(
                        Pattern.compile("\\{\\{\\s*(\\w+)\\s*}}"),
                        target.path("legendFormat").asString(""));
                assertThat(legend).as("legend of %s", expression).isSubsetOf(grouping);
            }
        }
    }

    @Test
    void dashboardShowsThroughputLagLatencyFailuresAndDeadLetters() {
        Map<String, List<String>> queries = queriesByPanel();
        assertThat(queries)
                .containsKeys(
                        "Publish rate",
                        "Write rate",
                        "Relay lag",
                        "Rows waiting",
                        "Publish latency",
                        "Send failures by reason",
                        "Dead letters",
                        "Parked keys");
        assertThat(queries.get("Publish rate"))
                .anySatisfy(query -> assertThat(query)
                        .contains("rate(outbox_events_published_total[")
                        .containsPattern("by \\(topic\\)"));
        assertThat(queries.get("Write rate"))
                .anySatisfy(query -> assertThat(query)
                        .contains("rate(outbox_events_written_total[")
                        .containsPattern("by \\(topic\\)"));
        assertThat(queries.get("Relay lag"))
                .anySatisfy(query -> assertThat(query).contains("outbox_oldest_row_age_seconds"));
        assertThat(queries.get("Rows waiting"))
                .anySatisfy(query -> assertThat(query).contains("outbox_rows_waiting"));
        assertThat(queries.get("Publish latency"))
                .anySatisfy(query -> assertThat(query)
                        .startsWith("histogram_quantile(0.5,")
                        .contains("rate(outbox_publish_latency_seconds_bucket["))
                .anySatisfy(query -> assertThat(query)
                        .startsWith("histogram_quantile(0.99,")
                        .contains("rate(outbox_publish_latency_seconds_bucket["));
        assertThat(queries.get("Send failures by reason"))
                .anySatisfy(query -> assertThat(query)
                        .contains("increase(outbox_send_failures_total[")
                        .containsPattern("by \\(reason\\b"));
        assertThat(queries.get("Dead letters"))
                .anySatisfy(query -> assertThat(query).contains("outbox_dead_letters"));
        assertThat(queries.get("Parked keys"))
                .anySatisfy(query -> assertThat(query).contains("outbox_keys_parked"));
    }

    @Test
    void dashboardPanelsHaveUniqueIdsAndFitTheGrid() {
        JsonNode dashboard = dashboard();
        assertThat(dashboard.get("uid").asString()).isEqualTo("outbox");
        List<Integer> ids = new ArrayList<>();
        for (JsonNode panel : dashboard.get("panels")) {
            ids.add(panel.get("id").asInt());
            JsonNode position = panel.get("gridPos");
            assertThat(position.get("x").asInt() + position.get("w").asInt())
                    .as("right edge of %s", panel.get("title"))
                    .isLessThanOrEqualTo(24);
        }
        assertThat(ids).doesNotHaveDuplicates();
    }

    @Test
    void metricNamesAreFoundInTheKindsOfQueryTheDashboardUses() {
        assertThat(metricNames(
                        "sum by (topic) (rate(outbox_events_published_total{topic=\"orders\"}[$__rate_interval]))"))
                .containsExactly("outbox_events_published_total");
        assertThat(metricNames(
                        "histogram_quantile(0.99, sum by (le) (rate(outbox_publish_latency_seconds_bucket[5m])))"))
                .containsExactly("outbox_publish_latency_seconds_bucket");
        assertThat(metricNames("sum(rate(outbox_batch_size_sum[1m])) / sum(rate(outbox_batch_size_count[1m]))"))
                .containsExactlyInAnyOrder("outbox_batch_size_sum", "outbox_batch_size_count");
        assertThat(metricNames("max(up) or vector(0)")).containsExactly("up");
        assertThat(metricNames("x_total unless x_total offset $__rate_interval"))
                .containsExactly("x_total");
    }

    /**
     * The metric names in a PromQL expression: the identifiers that are neither functions, nor keywords, nor labels,
     * once strings, label matchers, ranges and label lists are taken out.
     */
    static Set<String> metricNames(String expression) {
        String stripped = expression
                .replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", " ")
                .replaceAll("\\{[^}]*}", " ")
                .replaceAll("\\[[^]]*]", " ")
                .replaceAll("\\b(?:by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ");
        Set<String> names = matches(Pattern.compile("(?<![\\w:.$])([a-zA-Z_:][\\w:]*)(?![\\w:]|\\s*\\()"), stripped);
        names.removeAll(PROMQL_WORDS);
        return names;
    }

    private static Set<String> groupingLabels(String expression) {
        Set<String> labels = new TreeSet<>();
        Matcher lists = Pattern.compile("\\b(?:by|without)\\s*\\(([^)]*)\\)").matcher(expression);
        while (lists.find()) {
            Stream.of(lists.group(1).split(","))
                    .map(String::strip)
                    .filter(label -> !label.isEmpty())
                    .forEach(labels::add);
        }
        return labels;
    }

    private static Set<String> matches(Pattern pattern, String text) {
        Set<String> found = new LinkedHashSet<>();
        Matcher matcher = pattern.matcher(text);
        while (matcher.find()) {
            found.add(matcher.group(1));
        }
        return found;
    }

    private static Map<String, List<String>> queriesByPanel() {
        Map<String, List<String>> queries = new LinkedHashMap<>();
        for (JsonNode panel : dashboard().get("panels")) {
            List<String> expressions = new ArrayList<>();
            for (JsonNode target : panel.path("targets")) {
                expressions.add(target.get("expr").asString());
            }
            queries.put(panel.get("title").asString(), expressions);
        }
        return queries;
    }

    private static JsonNode dashboard() {
        try {
            return JsonMapper.builder()
                    .build()
                    .readTree(Files.readString(REPOSITORY.resolve("monitoring/grafana/dashboards/outbox.json")));
        } catch (IOException ex) {
            throw new AssertionError("Cannot read the dashboard", ex);
        }
    }

    /** Where a path inside a service's container comes from in the repository, through the service's bind mounts. */
    private Path hostPath(String service, String containerPath) {
        Mount mount = mounts(service).stream()
                .filter(Mount::isBindMount)
                .filter(candidate ->
                        containerPath.equals(candidate.target()) || containerPath.startsWith(candidate.target() + "/"))
                .findFirst()
                .orElseThrow(
                        () -> new AssertionError(service + " mounts nothing from the repository at " + containerPath));
        String rest = containerPath.substring(mount.target().length()).replaceFirst("^/", "");
        return REPOSITORY.resolve(mount.source()).resolve(rest).normalize();
    }

    private List<Mount> mounts(String service) {
        Map<String, Object> definition = service(service);
        if (!definition.containsKey("volumes")) {
            return List.of();
        }
        return list(definition, "volumes").stream().map(Mount::parse).toList();
    }

    private Map<String, Object> services() {
        return map(this.compose, "services");
    }

    private Map<String, Object> service(String name) {
        return map(services(), name);
    }

    /** The entries under {@code key} of all provisioning files of a folder. */
    private static List<Map<String, Object>> provisioned(Path folder, String key) {
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(file ->
                            file.toString().endsWith(".yml") || file.toString().endsWith(".yaml"))
                    .sorted()
                    .flatMap(file -> maps(yaml(file), key).stream())
                    .toList();
        } catch (IOException ex) {
            throw new AssertionError("Cannot list " + folder, ex);
        }
    }

    private static Map<String, Object> yaml(Path file) {
        try {
            Map<String, Object> content =
                    new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file));
            assertThat(content).as("content of %s", file).isNotNull();
            return content;
        } catch (IOException ex) {
            throw new AssertionError("Cannot read " + file, ex);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Map<String, Object> parent, String key) {
        Object value = parent.get(key);
        assertThat(value).as(key).isInstanceOf(Map.class);
        return (Map<String, Object>) value;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> maps(Map<String, Object> parent, String key) {
        return (List<Map<String, Object>>) (List<?>) list(parent, key);
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Map<String, Object> parent, String key) {
        Object value = parent.get(key);
        assertThat(value).as(key).isInstanceOf(List.class);
        return (List<Object>) value;
    }

    /**
     * A volume of a service, in compose's short syntax {@code source:target[:mode]}: a bind mount when the source is
     * a path, a named volume otherwise.
     */
    private record Mount(String source, String target) {

        static Mount parse(Object entry) {
            String[] parts = String.valueOf(entry).split(":");
            assertThat(parts.length).as("volume %s", entry).isBetween(2, 3);
            return new Mount(parts[0], parts[1]);
        }

        boolean isBindMount() {
            return this.source.startsWith(".") || this.source.startsWith("/");
        }
    }
}
