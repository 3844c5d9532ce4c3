package dev.txoutbox.sample;

import static org.awaitility.Awaitility.await;

import dev.txoutbox.testing.EmbeddedInfrastructure;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.CommandLinePropertySource;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.MutablePropertySources;
import org.springframework.core.env.SimpleCommandLinePropertySource;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.jdbc.core.ConnectionCallback;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.web.client.RestClient;
import sun.misc.Signal;
import sun.misc.SignalHandler;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Runs the sample on an embedded PostgreSQL server (or, with {@code --sample.database=mariadb}, an embedded MariaDB
 * server) and an embedded Kafka broker, so that nothing but a JDK and Maven is needed, and walks through the order story over the HTTP API, ending with a burst of orders that shows the relay
 * keeping up:
 *
 * <pre>
 * mvn -q -pl sample-app -am test-compile spring-boot:test-run
 * </pre>
 *
 * <p>The application keeps running after the walk-through, for trying the API by hand, until Ctrl-C. Arguments are
 * Spring Boot properties: {@code --server.port=9090} moves it, {@code --sample.demo.exit=true} stops it after the
 * walk-through, with exit status 1 when a step failed; {@code --sample.demo.burst-orders=5000} sets the size of its
 * final burst (1000 orders). With Maven, pass them as
 * {@code -Dspring-boot.run.arguments="--sample.demo.exit=true"}.
 */
public final class EmbeddedSampleApplication {

    private static final Duration PATIENCE = Duration.ofSeconds(30);

    /** How many orders the burst at the end of the walk-through places, unless sample.demo.burst-orders says. */
    private static final int BURST_ORDERS = 1000;

    private EmbeddedSampleApplication() {}

    public static void main(String[] args) {
        boolean mariaDb;
        try {
            mariaDb = mariaDb(args);
        } catch (IllegalArgumentException ex) {
            say(ex.getMessage());
            System.exit(1);
            return;
        }
        say("starting embedded " + (mariaDb ? "MariaDB" : "PostgreSQL") + " and Kafka...");
        EmbeddedServers servers;
        ConfigurableApplicationContext context;
        try {
            servers = EmbeddedServers.start(mariaDb);
        } catch (RuntimeException ex) {
            say("could not start the embedded servers: " + ex);
            System.exit(1);
            return;
        }
        AtomicReference<@Nullable ConfigurableApplicationContext> application = new AtomicReference<>();
        stopOnSignals(application, servers);
        try {
            context = start(servers, args);
            application.set(context);
        } catch (RuntimeException ex) {
            say("could not start: " + ex);
            // The broker's threads would keep the JVM up, and the database server would outlive it.
            servers.destroy();
            System.exit(1);
            return;
        }
        boolean completed = runDemo(context);
        if (context.getEnvironment().getProperty("sample.demo.exit", Boolean.class, false)) {
            System.exit(SpringApplication.exit(context, () -> completed ? 0 : 1));
        }
        printHowToTryIt(port(context));
    }

    /**
     * On Ctrl-C (or a plain kill), closes the application and then the servers, before the JVM shuts down. The JVM's
     * own shutdown would run its hooks all at once: Spring's, which closes the application, and Kafka's, which deletes
     * the broker's temporary log directories from under a broker that is still running.
     */
    private static void stopOnSignals(
            AtomicReference<@Nullable ConfigurableApplicationContext> application, EmbeddedServers servers) {
        AtomicBoolean stopping = new AtomicBoolean();
        SignalHandler stop = signal -> {
            if (!stopping.compareAndSet(false, true)) {
                return; // a second Ctrl-C, or the kill that Maven sends when the first takes long
            }
            say("stopping...");
            ConfigurableApplicationContext context = application.get();
            if (context != null) {
                context.close();
            }
            servers.destroy();
            // The exit status of a process ended by the signal, as the JVM would have it.
            System.exit(128 + signal.getNumber());
        };
        Signal.handle(new Signal("INT"), stop);
        Signal.handle(new Signal("TERM"), stop);
    }

    /**
     * Starts the sample on the embedded servers that the tests of this JVM share, in a database of its own. Their
     * addresses take the place of the ones in application.yml; command-line arguments still win.
     */
    static ConfigurableApplicationContext start(String... args) {
        boolean mariaDb = mariaDb(args);
        Map<String, Object> servers = Map.of(
                "spring.datasource.url",
                mariaDb ? EmbeddedInfrastructure.newMariaDbDatabaseUrl() : EmbeddedInfrastructure.newDatabaseUrl(),
                "spring.datasource.username",
                mariaDb ? "root" : "postgres",
                "spring.datasource.password",
                "",
                "spring.kafka.bootstrap-servers",
                EmbeddedInfrastructure.kafkaBootstrapServers());
        return application(servers).run(args);
    }

    /**
     * Starts the sample on servers of its own, which its context then owns: closing the context (Ctrl-C, or the end
     * of the walk-through) stops them after all of its beans, while the relay, the listeners and the connection pool
     * can still finish their work against them.
     */
    private static ConfigurableApplicationContext start(EmbeddedServers servers, String... args) {
        return application(servers.connectionProperties())
                .initializers(context ->
                        // Registered before any bean exists, so destroyed after all of them.
                        ((DefaultListableBeanFactory) context.getBeanFactory())
                                .registerDisposableBean("embeddedServers", servers))
                .run(args);
    }

    /**
     * Whether the arguments ask for MariaDB ({@code --sample.database=mariadb}) rather than PostgreSQL (the default,
     * or {@code --sample.database=postgresql}).
     *
     * @throws IllegalArgumentException naming the argument when it names another database
     */
    static boolean mariaDb(String... args) {
        String database = new SimpleCommandLinePropertySource(args).getProperty("sample.database");
        if (database == null || database.equals("postgresql")) {
            return false;
        }
        if (database.equals("mariadb")) {
            return true;
        }
        throw new IllegalArgumentException(("Unknown --sample.database=%s: the demo runs on embedded postgresql (the"
                        + " default) or mariadb, for example -Dspring-boot.run.arguments=\"--sample.database=mariadb\"")
                .formatted(database));
    }

    private static SpringApplicationBuilder application(Map<String, Object> servers) {
        return new SpringApplicationBuilder(SampleApplication.class).initializers(context -> {
            MutablePropertySources sources = context.getEnvironment().getPropertySources();
            Map<String, Object> properties = new HashMap<>(servers);
            // The embedded servers take the place of docker-compose.yml's: never start Docker.
            properties.put("spring.docker.compose.enabled", false);
            MapPropertySource embedded = new MapPropertySource("embeddedServers", properties);
            if (sources.contains(CommandLinePropertySource.COMMAND_LINE_PROPERTY_SOURCE_NAME)) {
                sources.addAfter(CommandLinePropertySource.COMMAND_LINE_PROPERTY_SOURCE_NAME, embedded);
            } else {
                sources.addFirst(embedded);
            }
        });
    }

    /**
     * Walks through the order story over the running application's HTTP API, printing each step.
     *
     * @return whether every step did what it should
     */
    static boolean runDemo(ConfigurableApplicationContext context) {
        try {
            new Demo(context).run();
            return true;
        } catch (RuntimeException | AssertionError ex) {
            say("FAILED: " + ex);
            return false;
        }
    }

    private static void printHowToTryIt(int port) {
        String base = "http://localhost:" + port;
        String json = " -H 'Content-Type: application/json'";
        System.out.println();
        say("The application keeps running; try it by hand, then stop it with Ctrl-C:");
        System.out.println("  curl -i -X POST " + base + "/orders" + json
                + " -d '{\"customer\":\"carol\",\"product\":\"lamp\",\"quantity\":1}'");
        System.out.println("  curl " + base + "/orders/1");
        System.out.println("  curl -X PUT " + base + "/orders/1" + json + " -d '{\"status\":\"SHIPPED\"}'");
        System.out.println("  curl -X DELETE " + base + "/orders/1");
        System.out.println("  curl " + base + "/read-model/orders");
        System.out.println("  curl -X POST '" + base + "/demo/burst?orders=2000'");
        System.out.println("  curl " + base + "/actuator/health");
        System.out.println("  curl " + base + "/actuator/prometheus");
        System.out.flush();
    }

    private static int port(ConfigurableApplicationContext context) {
        return context.getEnvironment().getRequiredProperty("local.server.port", Integer.class);
    }

    private static void say(String line) {
        // Printed rather than logged, so that it shows with mvn -q and stands apart from the log.
        System.out.println("[demo] " + line);
        System.out.flush();
    }

    /** The scripted walk-through: every step is a real HTTP call, every wait is for the read model to follow. */
    private static final class Demo {

        private final int port;

        private final RestClient http;

        private final JsonMapper json;

        private final JdbcTemplate jdbc;

        private final String outboxTable;

        private final int burstOrders;

        Demo(ConfigurableApplicationContext context) {
            this.port = port(context);
            this.http = RestClient.builder()
                    .baseUrl("http://localhost:" + this.port)
                    // Error statuses are part of the story (404, 400); they are shown, not thrown.
                    .defaultStatusHandler(HttpStatusCode::isError, (request, response) -> {})
                    .build();
            this.json = context.getBean(JsonMapper.class);
            this.jdbc = context.getBean(JdbcTemplate.class);
            this.outboxTable = context.getEnvironment().getProperty("outbox.table", "outbox_event");
            this.burstOrders =
                    context.getEnvironment().getProperty("sample.demo.burst-orders", Integer.class, BURST_ORDERS);
        }

        void run() {
            String database = this.jdbc.execute((ConnectionCallback<String>)
                    connection -> connection.getMetaData().getDatabaseProductName());
            say("the sample runs at http://localhost:" + this.port + " on embedded " + database + " and Kafka");

            JsonNode alice = send("POST", "/orders", Map.of("customer", "alice", "product", "keyboard", "quantity", 1));
            long aliceId = alice.get("id").asLong();
            say("placed order " + aliceId + ": " + alice
                    + " (the order and its OrderPlaced event committed in one transaction)");
            awaitReadModel(aliceId, 0);

            JsonNode changed = send("PUT", "/orders/" + aliceId, Map.of("quantity", 2, "status", "CONFIRMED"));
            say("changed order " + aliceId + ": " + changed);
            awaitReadModel(aliceId, changed.get("version").asInt());

            JsonNode bob = send("POST", "/orders", Map.of("customer", "bob", "product", "monitor", "quantity", 1));
            long bobId = bob.get("id").asLong();
            say("placed order " + bobId + ": " + bob);
            awaitReadModel(bobId, 0);

            send("DELETE", "/orders/" + bobId, null);
            say("deleted order " + bobId + " (its event is a tombstone: a record with a key and no value)");
            long started = System.nanoTime();
            await().atMost(PATIENCE)
                    .pollInterval(Duration.ofMillis(20))
                    .until(() ->
                            get("/read-model/orders/" + bobId).getStatusCode().value() == 404);
            say("read model: order " + bobId + " is gone, " + millisSince(started) + " ms later");

            ResponseEntity<String> invalid = this.http
                    .post()
                    .uri("/orders")
                    .contentType(MediaType.APPLICATION_JSON)
                    .body(Map.of("customer", "", "product", "mouse", "quantity", 0))
                    .retrieve()
                    .toEntity(String.class);
            say("an invalid order is refused with " + invalid.getStatusCode().value() + " and writes no event: "
                    + invalid.getBody());

            say("read model: " + get("/read-model/orders").getBody());
            Long waiting = this.jdbc.queryForObject("SELECT count(*) FROM " + this.outboxTable, Long.class);
            say("outbox table " + this.outboxTable + ": " + waiting
                    + " rows waiting; the relay deletes each row once Kafka has acknowledged it");

            burst();
            say("done");
        }

        /** Places many orders at once and shows how soon the relay has published them all. */
        private void burst() {
            say("placing a burst of " + this.burstOrders + " orders from several threads (POST /demo/burst?orders="
                    + this.burstOrders + ")...");
            JsonNode report = send("POST", "/demo/burst?orders=" + this.burstOrders, null);
            if (!report.get("drained").asBoolean()) {
                throw new IllegalStateException("the outbox did not drain after the burst: " + report);
            }
            say("burst: " + report.get("orders").asInt() + " orders placed in "
                    + report.get("secondsToPlace").asDouble() + " s ("
                    + report.get("ordersPerSecond").asLong()
                    + " orders/s); the relay had published all their events "
                    + report.get("secondsToDrain").asDouble()
                    + " s after the start, with at most "
                    + report.get("maxRowsWaiting").asLong()
                    + " rows waiting in the outbox");
            long answered = System.nanoTime();
            await().atMost(PATIENCE)
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> this.jdbc.queryForObject(
                                    "SELECT count(*) FROM order_view WHERE customer = 'burst'", Long.class)
                            >= this.burstOrders);
            say("read model: it holds all " + this.burstOrders + " orders of the burst, " + millisSince(answered)
                    + " ms after the burst answered");
        }

        private void awaitReadModel(long orderId, int version) {
            long started = System.nanoTime();
            JsonNode view = await().atMost(PATIENCE)
                    .pollInterval(Duration.ofMillis(20))
                    .until(
                            () -> readModel(orderId),
                            node -> node != null && node.get("version").asInt() == version);
            say("read model: " + view + ", " + millisSince(started)
                    + " ms later (outbox row -> relay -> Kafka -> consumer)");
        }

        private @Nullable JsonNode readModel(long orderId) {
            ResponseEntity<String> response = get("/read-model/orders/" + orderId);
            return response.getStatusCode().is2xxSuccessful() ? this.json.readTree(response.getBody()) : null;
        }

        private JsonNode send(String method, String path, @Nullable Map<String, Object> body) {
            RestClient.RequestBodySpec request =
                    this.http.method(HttpMethod.valueOf(method)).uri(path);
            if (body != null) {
                request.contentType(MediaType.APPLICATION_JSON).body(body);
            }
            ResponseEntity<String> response = request.retrieve().toEntity(String.class);
            if (!response.getStatusCode().is2xxSuccessful()) {
                throw new IllegalStateException(
                        method + " " + path + " answered " + response.getStatusCode() + ": " + response.getBody());
            }
            return this.json.readTree((response.getBody() != null) ? response.getBody() : "{}");
        }

        private ResponseEntity<String> get(String path) {
            return this.http.get().uri(path).retrieve().toEntity(String.class);
        }

        private static long millisSince(long nanos) {
            return Duration.ofNanos(System.nanoTime() - nanos).toMillis();
        }
    }
}
