package dev.txoutbox.it.pooler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.txoutbox.Deduplicator;
import dev.txoutbox.Outbox;
import dev.txoutbox.OutboxHeaders;
import dev.txoutbox.autoconfigure.OutboxRelayAutoConfiguration;
import dev.txoutbox.autoconfigure.OutboxStoreAutoConfiguration;
import dev.txoutbox.it.CompletedCycles;
import dev.txoutbox.relay.postgresql.WakeUpListener;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.store.PreparedStatementsBehindPoolerException;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.KeySequences;
import dev.txoutbox.testing.PgBouncer;
import dev.txoutbox.testing.PgBouncer.PoolMode;
import dev.txoutbox.testing.TopicReader;
import dev.txoutbox.writer.OutboxWriterAutoConfiguration;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.util.PSQLException;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Two instances of an application (writer, relay, migrations, and a consumer that de-duplicates with the starter's
 * Deduplicator) on one database through a real PgBouncer in transaction mode, with {@code prepareThreshold=0} as the
 * docs say: they start at the same moment (so they migrate at once), write events of many keys from both, and every
 * event is delivered once, in its key's order, and the outbox table ends empty. Without that setting, the start
 * fails before any migration, with a message that names the fix. Skipped where PgBouncer is not
 * installed ({@code apt-get install pgbouncer}). In a package of its own, so that its application is not found by
 * the tests that look for one in {@code dev.txoutbox.it}.
 */
@ExtendWith(OutputCaptureExtension.class)
class PgBouncerTransactionModeIntegrationTests {

    private static final Duration TIMEOUT = Duration.ofMinutes(3);

    private static final int INSTANCES = 2;

    private static final int KEYS_PER_INSTANCE = 50;

    private static final int EVENTS_PER_KEY = 30;

    private static final int WRITERS_PER_INSTANCE = 4;

    private static final int KEYS_PER_TRANSACTION = 4;

    private final String databaseUrl = EmbeddedInfrastructure.newDatabaseUrl();

    private final String topic = EmbeddedInfrastructure.newTopic("pooled", 4);

    private final List<ConfigurableApplicationContext> instances = new ArrayList<>();

    private PgBouncer bouncer;

    @AfterEach
    void stopEverything() {
        this.instances.forEach(ConfigurableApplicationContext::close);
        if (this.bouncer != null) {
            this.bouncer.close();
        }
    }

    @Test
    void twoInstancesThroughPgBouncerInTransactionModeDeliverEveryEventOnceAndInKeyOrder() throws Exception {
        this.bouncer = PgBouncer.start(PoolMode.TRANSACTION);
        String url = this.bouncer.jdbcUrl(this.databaseUrl, "prepareThreshold=0");
        try (HikariDataSource direct = EmbeddedInfrastructure.dataSource(this.databaseUrl, "set-up")) {
            JdbcClient.create(direct)
                    .sql("CREATE TABLE consumed (event_id uuid NOT NULL, record_key text NOT NULL)")
                    .update();
        }

        startAtOnce(url);
        List<CompletableFuture<Void>> writers = new ArrayList<>();
        for (int instance = 0; instance < INSTANCES; instance++) {
            for (int writer = 0; writer < WRITERS_PER_INSTANCE; writer++) {
                ConfigurableApplicationContext context = this.instances.get(instance);
                String prefix = "i" + instance + "-";
                int first = writer;
                writers.add(CompletableFuture.runAsync(() -> write(context, prefix, first)));
            }
        }
        CompletableFuture.allOf(writers.toArray(CompletableFuture[]::new)).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        int written = INSTANCES * KEYS_PER_INSTANCE * EVENTS_PER_KEY;

        OutboxStore store = this.instances.get(0).getBean(OutboxStore.class);
        await().atMost(TIMEOUT).until(() -> store.count() == 0);
        List<ConsumerRecord<String, byte[]>> delivered;
        try (TopicReader reader = new TopicReader(this.topic)) {
            delivered = reader.awaitRecords((int) reader.endOffsetTotal(), TIMEOUT);
        }
        KeySequences sequences = new KeySequences(delivered);
        List<String> outOfOrder = sequences.keysNotCompleteAndInOrder(EVENTS_PER_KEY);
        JdbcClient jdbc = JdbcClient.create(this.instances.get(0).getBean(DataSource.class));
        await().atMost(TIMEOUT)
                .until(() -> jdbc.sql("SELECT count(*) FROM consumed")
                                .query(Integer.class)
                                .single()
                        >= written);
        int processed = jdbc.sql("SELECT count(DISTINCT event_id) FROM consumed")
                .query(Integer.class)
                .single();
        int processedRows =
                jdbc.sql("SELECT count(*) FROM consumed").query(Integer.class).single();

        System.out.printf(
                "Through %s in transaction mode, 2 instances, prepareThreshold=0: written %d, delivered %d (records"
                        + " on the topic %d), duplicated %d, keys out of order or incomplete %d; consumer processed %d"
                        + " once each (%d rows), skipped %d redeliveries%n",
                this.bouncer.version(),
                written,
                sequences.firstDeliveries().values().stream()
                        .mapToInt(List::size)
                        .sum(),
                delivered.size(),
                sequences.duplicates(),
                outOfOrder.size(),
                processed,
                processedRows,
                this.instances.stream()
                        .mapToInt(context -> context.getBean(Consumer.class).skipped())
                        .sum());
        assertThat(sequences.firstDeliveries()).hasSize(INSTANCES * KEYS_PER_INSTANCE);
        assertThat(outOfOrder)
                .as("keys whose events are missing or out of order")
                .isEmpty();
        assertThat(sequences.duplicates())
                .as("no relay lost a claim after sending, so nothing was published twice")
                .isZero();
        assertThat(processed).isEqualTo(written);
        assertThat(processedRows).as("the consumer processed each event once").isEqualTo(written);
        assertThat(store.count()).isZero();
        for (ConfigurableApplicationContext instance : this.instances) {
            WakeUpListener listener = instance.getBean(WakeUpListener.class);
            await().atMost(TIMEOUT).until(() -> listener.notifications() != WakeUpListener.Notifications.NOT_CHECKED);
            assertThat(listener.notifications())
                    .as("through PgBouncer in transaction mode notifications do not reach the listener, which says so")
                    .isEqualTo(WakeUpListener.Notifications.DO_NOT_ARRIVE);
            await().atMost(TIMEOUT).until(() -> !listener.isListening());
        }
    }

    @Test
    void withTheDriversDefaultPrepareThresholdTheStartFailsBeforeMigratingAndNamesThePoolerAndTheFix(
            CapturedOutput output) {
        this.bouncer = PgBouncer.start(PoolMode.TRANSACTION);
        String url = this.bouncer.jdbcUrl(this.databaseUrl);

        assertThatThrownBy(() -> application(url, "instance").run())
                .hasRootCauseInstanceOf(PreparedStatementsBehindPoolerException.class);

        assertThat(output.getOut())
                .contains("APPLICATION FAILED TO START")
                .contains("goes through a connection pooler in transaction mode")
                .contains("prepareThreshold=5")
                .contains("spring.datasource.url when Spring Boot creates it")
                .contains(url + "&prepareThreshold=0")
                .contains("outbox.pooler.keeps-prepared-statements=true")
                .contains("outbox.pooler.check=false");
        try (HikariDataSource direct = EmbeddedInfrastructure.dataSource(this.databaseUrl, "observer")) {
            assertThat(JdbcClient.create(direct)
                            .sql("SELECT to_regclass('outbox_schema_history') IS NULL")
                            .query(Boolean.class)
                            .single())
                    .as("no migration ran")
                    .isTrue();
        }
    }

    @Test
    void aPoolerSaidToKeepPreparedStatementsOrTheCheckTurnedOffLetTheStartGoOn() {
        this.bouncer = PgBouncer.start(PoolMode.TRANSACTION);
        ApplicationContextRunner store = new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(OutboxStoreAutoConfiguration.class))
                .withBean(
                        DataSource.class,
                        () -> EmbeddedInfrastructure.dataSource(this.bouncer.jdbcUrl(this.databaseUrl), "checked"))
                // Without migrations, the next thing the start does is to look for the table, which fails.
                .withPropertyValues("outbox.migration.enabled=false");

        store.run(context -> assertThat(context.getStartupFailure())
                .hasRootCauseInstanceOf(PreparedStatementsBehindPoolerException.class));
        for (String setting : List.of("outbox.pooler.keeps-prepared-statements=true", "outbox.pooler.check=false")) {
            store.withPropertyValues(setting)
                    .run(context -> assertThat(context.getStartupFailure())
                            .as(setting)
                            .hasRootCauseInstanceOf(PSQLException.class)
                            .hasMessageContaining("outbox_event"));
        }
    }

    @Test
    void aListenerUrlPastThePoolerLetsACommitOfAnotherInstanceWakeTheRelayAtOnce() {
        this.bouncer = PgBouncer.start(PoolMode.TRANSACTION);
        String pooled = this.bouncer.jdbcUrl(this.databaseUrl, "prepareThreshold=0");
        ApplicationContextRunner relaying = instance(pooled, "relaying")
                .withBean(CompletedCycles.class)
                .withPropertyValues(
                        "outbox.relay.notify.listener-url=" + this.databaseUrl,
                        // Far longer than the test waits: the record can only come from a wake-up.
                        "outbox.relay.poll-interval=10m",
                        "outbox.relay.concurrency=1");
        ApplicationContextRunner writing = instance(pooled, "writing").withPropertyValues("outbox.relay.enabled=false");

        relaying.run(relay -> writing.run(writer -> {
            WakeUpListener listener = relay.getBean(WakeUpListener.class);
            await().atMost(TIMEOUT)
                    .until(() -> relay.getBean(CompletedCycles.class).count() >= 1
                            && listener.notifications() == WakeUpListener.Notifications.ARRIVE);

            new TransactionTemplate(new DataSourceTransactionManager(writer.getBean(DataSource.class)))
                    .executeWithoutResult(status -> writer.getBean(Outbox.class).write(this.topic, "key", new Seq(0)));

            try (TopicReader reader = new TopicReader(this.topic)) {
                assertThat(reader.awaitRecords(1, Duration.ofSeconds(20)))
                        .extracting(ConsumerRecord::key)
                        .containsExactly("key");
            }
        }));
    }

    private ApplicationContextRunner instance(String url, String name) {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(
                        KafkaAutoConfiguration.class,
                        OutboxStoreAutoConfiguration.class,
                        OutboxWriterAutoConfiguration.class,
                        OutboxRelayAutoConfiguration.class))
                .withBean(DataSource.class, () -> EmbeddedInfrastructure.dataSource(url, name))
                .withPropertyValues("spring.kafka.bootstrap-servers=" + EmbeddedInfrastructure.kafkaBootstrapServers());
    }

    /** Starts the instances at the same moment, so that they apply the outbox's migrations at once. */
    private void startAtOnce(String url) throws Exception {
        CyclicBarrier start = new CyclicBarrier(INSTANCES);
        List<CompletableFuture<ConfigurableApplicationContext>> starting = new ArrayList<>();
        for (int i = 0; i < INSTANCES; i++) {
            SpringApplicationBuilder application = application(url, "instance-" + i);
            starting.add(CompletableFuture.supplyAsync(() -> {
                try {
                    start.await(1, TimeUnit.MINUTES);
                } catch (Exception ex) {
                    throw new IllegalStateException(ex);
                }
                return application.run();
            }));
        }
        for (CompletableFuture<ConfigurableApplicationContext> instance : starting) {
            this.instances.add(instance.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
        }
    }

    private SpringApplicationBuilder application(String url, String name) {
        return new SpringApplicationBuilder(Application.class)
                .web(WebApplicationType.NONE)
                .properties(
                        "spring.application.name=" + name,
                        "spring.datasource.url=" + url,
                        "spring.datasource.username=postgres",
                        "spring.kafka.bootstrap-servers=" + EmbeddedInfrastructure.kafkaBootstrapServers(),
                        "spring.kafka.consumer.auto-offset-reset=earliest",
                        "test.topic=" + this.topic);
    }

    /** Writes the events of every {@link #WRITERS_PER_INSTANCE}-th key from {@code first}, a few keys a transaction. */
    private static void write(ConfigurableApplicationContext context, String prefix, int first) {
        Outbox outbox = context.getBean(Outbox.class);
        TransactionTemplate transactions = context.getBean(TransactionTemplate.class);
        List<String> keys = new ArrayList<>();
        for (int key = first; key < KEYS_PER_INSTANCE; key += WRITERS_PER_INSTANCE) {
            keys.add(prefix + key);
        }
        for (int seq = 0; seq < EVENTS_PER_KEY; seq++) {
            Seq payload = new Seq(seq);
            for (int from = 0; from < keys.size(); from += KEYS_PER_TRANSACTION) {
                List<String> batch = keys.subList(from, Math.min(from + KEYS_PER_TRANSACTION, keys.size()));
                transactions.executeWithoutResult(status -> batch.forEach(
                        key -> outbox.write(context.getEnvironment().getProperty("test.topic"), key, payload)));
            }
        }
    }

    /** The payload: the event's place in its key's sequence. */
    record Seq(int seq) {}

    @SpringBootConfiguration
    @EnableAutoConfiguration
    @Import(Consumer.class)
    static class Application {}

    /** Keeps what it processed in a table of the application's database, skipping redeliveries. */
    static class Consumer {

        private final Deduplicator deduplicator;

        private final JdbcClient jdbc;

        private final AtomicInteger skipped = new AtomicInteger();

        Consumer(Deduplicator deduplicator, JdbcClient jdbc) {
            this.deduplicator = deduplicator;
            this.jdbc = jdbc;
        }

        @KafkaListener(topics = "${test.topic}", groupId = "pooled-consumer")
        @Transactional
        public void consume(ConsumerRecord<String, String> record) {
            if (!this.deduplicator.firstDelivery(record)) {
                this.skipped.incrementAndGet();
                return;
            }
            this.jdbc
                    .sql("INSERT INTO consumed (event_id, record_key) VALUES (?, ?)")
                    .params(OutboxHeaders.eventId(record), record.key())
                    .update();
        }

        int skipped() {
            return this.skipped.get();
        }
    }
}
