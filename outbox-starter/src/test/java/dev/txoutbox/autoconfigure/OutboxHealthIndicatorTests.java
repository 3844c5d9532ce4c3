package dev.txoutbox.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txoutbox.relay.FailureKind;
import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.RelaySettings;
import dev.txoutbox.store.OutboxRecord;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.jdbc.core.simple.JdbcClient;

/** The outbox health indicator goes DOWN when the relay falls behind or cannot reach Kafka. */
class OutboxHealthIndicatorTests {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(
                    AutoConfigurations.of(OutboxStoreAutoConfiguration.class, OutboxHealthAutoConfiguration.class))
            .withBean(DataSource.class, EmbeddedInfrastructure::newDatabase)
            .withPropertyValues("outbox.metrics.refresh-interval=0s", "outbox.health.max-lag=10m");

    @Test
    void isUpWithItsFiguresWhenNothingWaitsLong() {
        this.runner.run(context -> {
            Health health = context.getBean(OutboxHealthIndicator.class).health(true);

            assertThat(health.getStatus()).isEqualTo(Status.UP);
            assertThat(health.getDetails()).containsEntry("waiting", 0L).containsEntry("deadLetters", 0L);
        });
    }

    @Test
    void isDownWhenTheOldestWaitingRowIsOlderThanTheMaximumLag() {
        this.runner.run(context -> {
            JdbcClient jdbc = JdbcClient.create(context.getBean(DataSource.class));
            jdbc.sql("INSERT INTO outbox_event (event_id, topic, event_type, created_at)"
                            + " VALUES (?, 't', 'T', now() - interval '1 hour')")
                    .param(UUID.randomUUID())
                    .update();

            Health health = context.getBean(OutboxHealthIndicator.class).health(true);

            assertThat(health.getStatus()).isEqualTo(Status.DOWN);
            assertThat(health.getDetails()).containsEntry("waiting", 1L);
            assertThat(reasons(health)).anySatisfy(reason -> assertThat(reason).contains("outbox.health.max-lag"));
            assertThat((String) health.getDetails().get("lag")).startsWith("PT1H");
        });
    }

    @Test
    void isDownWhenTheRelaysLastCyclesGotNothingAcknowledged() {
        this.runner.withBean(RelayHealthTracker.class, RelayHealthTracker::new).run(context -> {
            RelayHealthTracker tracker = context.getBean(RelayHealthTracker.class);
            JdbcClient.create(context.getBean(DataSource.class))
                    .sql("INSERT INTO outbox_event (event_id, topic, event_type) VALUES (?, 'orders', 'T')")
                    .param(UUID.randomUUID())
                    .update();
            OutboxRecord record = new OutboxRecord(
                    1, UUID.randomUUID(), "orders", "k", "T", null, Map.of(), Instant.now(), 0, Instant.now());
            for (int cycle = 0; cycle < 3; cycle++) {
                tracker.sendFailed(
                        record,
                        new IllegalStateException("Topic orders not present in metadata"),
                        FailureKind.UNAVAILABLE);
                tracker.cycleCompleted(new OutboxRelay.CycleResult(1, 0, 1, 0));
            }

            Health down = context.getBean(OutboxHealthIndicator.class).health(true);

            assertThat(down.getStatus()).isEqualTo(Status.DOWN);
            assertThat(reasons(down)).anySatisfy(reason -> assertThat(reason).contains("cannot reach Kafka"));
            assertThat((String) down.getDetails().get("lastError")).contains("not present in metadata");

            tracker.cycleCompleted(new OutboxRelay.CycleResult(1, 1, 0, 0));
            assertThat(context.getBean(OutboxHealthIndicator.class).health(true).getStatus())
                    .isEqualTo(Status.UP);
        });
    }

    @Test
    void isDownWhileTheRelaysCyclesFailAsAWholeAndUpAgainAfterOneCompletes() {
        this.runner.withBean(RelayHealthTracker.class, RelayHealthTracker::new).run(context -> {
            RelayHealthTracker tracker = context.getBean(RelayHealthTracker.class);
            for (int cycle = 0; cycle < 3; cycle++) {
                tracker.cycleFailed(new IllegalStateException("Connection refused"));
            }

            Health down = context.getBean(OutboxHealthIndicator.class).health(true);

            assertThat(down.getStatus()).isEqualTo(Status.DOWN);
            assertThat(reasons(down)).anySatisfy(reason -> assertThat(reason).contains("failed as a whole"));
            assertThat(reasons(down)).noneSatisfy(reason -> assertThat(reason).contains("Kafka"));

            tracker.cycleCompleted(new OutboxRelay.CycleResult(0, 0, 0, 0));
            assertThat(context.getBean(OutboxHealthIndicator.class).health(true).getStatus())
                    .isEqualTo(Status.UP);
        });
    }

    /** The relay's retry period with these settings: a longest retry delay of 5 minutes plus a 30 s send timeout. */
    private static final RelaySettings RETRY = RelaySettings.builder()
            .retry(Duration.ofSeconds(1), 2.0, Duration.ofMinutes(5))
            .sendTimeout(Duration.ofSeconds(30))
            .build();

    @Test
    void aTopicUnavailableForLongerThanTheMaximumLagMakesItDownNamingTheTopicUntilARecordOfItIsAcknowledgedLater() {
        MutableClock clock = new MutableClock();
        this.runner
                .withBean(RelayHealthTracker.class, () -> new RelayHealthTracker(clock, RETRY))
                .run(context -> {
                    RelayHealthTracker tracker = context.getBean(RelayHealthTracker.class);
                    OutboxHealthIndicator indicator = context.getBean(OutboxHealthIndicator.class);
                    Instant outageStart = clock.instant();
                    tracker.sendFailed(
                            record("orders"),
                            new IllegalStateException("Topic orders not present in metadata"),
                            FailureKind.UNAVAILABLE);

                    Health recent = indicator.health(true);
                    assertThat(recent.getStatus()).isEqualTo(Status.UP);
                    assertThat(unavailableTopics(recent))
                            .containsOnlyKeys("orders")
                            .extractingByKey("orders")
                            .isEqualTo(Map.of(
                                    "since",
                                    outageStart.toString(),
                                    "error",
                                    "IllegalStateException: Topic orders not present in metadata"));

                    // The retries keep failing, within the retry period of each other.
                    for (int retry = 0; retry < 3; retry++) {
                        clock.advance(Duration.ofMinutes(4));
                        tracker.published(record("audit"), clock.instant());
                        tracker.sendFailed(
                                record("orders"),
                                new IllegalStateException("Not authorized to access topics: [orders]"),
                                FailureKind.UNAVAILABLE);
                    }

                    Health down = indicator.health(true);
                    assertThat(down.getStatus()).isEqualTo(Status.DOWN);
                    assertThat(reasons(down))
                            .singleElement()
                            .asString()
                            .contains("topic 'orders' has been unavailable since " + outageStart)
                            .contains("outbox.health.max-lag")
                            .contains("Not authorized to access topics");
                    assertThat(unavailableTopics(down))
                            .extractingByKey("orders")
                            .satisfies(outage -> assertThat(outage).containsEntry("since", outageStart.toString()));

                    clock.advance(Duration.ofMinutes(6));
                    tracker.published(record("orders"), clock.instant());
                    Health up = indicator.health(true);
                    assertThat(up.getStatus()).isEqualTo(Status.UP);
                    assertThat(up.getDetails()).doesNotContainKey("unavailableTopics");
                });
    }

    @Test
    void aTopicWhoseSendsStopFailingHereLeavesTheListAfterTwoRetryPeriodsEvenWithoutAnAcknowledgementHere() {
        MutableClock clock = new MutableClock();
        this.runner
                .withBean(RelayHealthTracker.class, () -> new RelayHealthTracker(clock, RETRY))
                .run(context -> {
                    RelayHealthTracker tracker = context.getBean(RelayHealthTracker.class);
                    OutboxHealthIndicator indicator = context.getBean(OutboxHealthIndicator.class);
                    // This instance saw one failure; another instance published the retry.
                    tracker.sendFailed(
                            record("orders"),
                            new IllegalStateException("leader not available"),
                            FailureKind.UNAVAILABLE);

                    clock.advance(Duration.ofMinutes(10));
                    assertThat(unavailableTopics(indicator.health(true))).containsOnlyKeys("orders");

                    clock.advance(Duration.ofMinutes(1).plusSeconds(1));
                    Health health = indicator.health(true);
                    assertThat(health.getStatus()).isEqualTo(Status.UP);
                    assertThat(health.getDetails()).doesNotContainKey("unavailableTopics");
                });
    }

    @Test
    void aFailureLongAfterTheLastOneStartsANewOutageThatIsNotOlderThanTheMaximumLagAtOnce() {
        MutableClock clock = new MutableClock();
        this.runner
                .withBean(RelayHealthTracker.class, () -> new RelayHealthTracker(clock, RETRY))
                .run(context -> {
                    RelayHealthTracker tracker = context.getBean(RelayHealthTracker.class);
                    OutboxHealthIndicator indicator = context.getBean(OutboxHealthIndicator.class);
                    tracker.sendFailed(
                            record("orders"),
                            new IllegalStateException("leader not available"),
                            FailureKind.UNAVAILABLE);

                    clock.advance(Duration.ofDays(2));
                    Instant newOutage = clock.instant();
                    tracker.sendFailed(
                            record("orders"),
                            new IllegalStateException("leader not available"),
                            FailureKind.UNAVAILABLE);

                    Health health = indicator.health(true);
                    assertThat(health.getStatus()).isEqualTo(Status.UP);
                    assertThat(unavailableTopics(health))
                            .extractingByKey("orders")
                            .satisfies(outage -> assertThat(outage).containsEntry("since", newOutage.toString()));
                });
    }

    @Test
    void acknowledgementsOfOtherPartitionsDoNotTakeOffATopicWhoseSendsKeepFailing() {
        MutableClock clock = new MutableClock();
        this.runner
                .withBean(RelayHealthTracker.class, () -> new RelayHealthTracker(clock, RETRY))
                .run(context -> {
                    RelayHealthTracker tracker = context.getBean(RelayHealthTracker.class);
                    OutboxHealthIndicator indicator = context.getBean(OutboxHealthIndicator.class);
                    Instant outageStart = clock.instant();
                    // One partition of 'orders' has no leader; the others take records.
                    for (int retry = 0; retry < 3; retry++) {
                        tracker.sendFailed(
                                record("orders"),
                                new IllegalStateException("leader not available"),
                                FailureKind.UNAVAILABLE);
                        clock.advance(Duration.ofMinutes(1));
                        tracker.published(record("orders"), clock.instant());
                        assertThat(unavailableTopics(indicator.health(true)))
                                .as("after an acknowledgement of another partition")
                                .containsOnlyKeys("orders");
                        clock.advance(Duration.ofMinutes(3));
                    }
                    tracker.sendFailed(
                            record("orders"),
                            new IllegalStateException("leader not available"),
                            FailureKind.UNAVAILABLE);
                    tracker.published(record("orders"), clock.instant());

                    Health down = indicator.health(true);
                    assertThat(down.getStatus()).isEqualTo(Status.DOWN);
                    assertThat(reasons(down))
                            .singleElement()
                            .asString()
                            .contains("topic 'orders' has been unavailable since " + outageStart);
                });
    }

    @Test
    void isDownWhileFailedSendsCannotBeRecordedAndUpOnceAsManyLaterCyclesRecordedTheirFailedSends() {
        this.runner.withBean(RelayHealthTracker.class, RelayHealthTracker::new).run(context -> {
            RelayHealthTracker tracker = context.getBean(RelayHealthTracker.class);
            OutboxHealthIndicator indicator = context.getBean(OutboxHealthIndicator.class);
            // The cycle deleted its acknowledged rows, and could not move its poison record to the dead letters.
            tracker.failuresNotRecorded(
                    new IllegalStateException("ERROR: permission denied for table outbox_event_dead_letter"));
            tracker.cycleCompleted(new OutboxRelay.CycleResult(2, 1, 1, 1));

            Health down = indicator.health(true);
            assertThat(down.getStatus()).isEqualTo(Status.DOWN);
            assertThat(reasons(down))
                    .singleElement()
                    .asString()
                    .contains("could not record its failed sends")
                    .contains("permission denied for table outbox_event_dead_letter")
                    .contains("as retries with backoff instead")
                    .contains("INSERT on the dead-letter table")
                    .doesNotContain("without backoff");

            tracker.cycleCompleted(new OutboxRelay.CycleResult(1, 0, 1, 0));
            tracker.cycleCompleted(new OutboxRelay.CycleResult(1, 0, 1, 0));
            tracker.failuresNotRecorded(
                    new IllegalStateException("ERROR: permission denied for table outbox_event_dead_letter"));
            tracker.cycleCompleted(new OutboxRelay.CycleResult(2, 1, 1, 1));
            tracker.cycleCompleted(new OutboxRelay.CycleResult(1, 0, 1, 0));
            tracker.cycleCompleted(new OutboxRelay.CycleResult(1, 0, 1, 0));
            assertThat(indicator.health(true).getStatus())
                    .as("a cycle that failed to record again starts the count anew")
                    .isEqualTo(Status.DOWN);

            tracker.cycleCompleted(new OutboxRelay.CycleResult(1, 0, 0, 1));
            assertThat(indicator.health(true).getStatus()).isEqualTo(Status.UP);
        });
    }

    @Test
    void cyclesWithoutFailedSendsDoNotClearFailuresThatCouldNotBeRecorded() {
        this.runner.withBean(RelayHealthTracker.class, RelayHealthTracker::new).run(context -> {
            RelayHealthTracker tracker = context.getBean(RelayHealthTracker.class);
            OutboxHealthIndicator indicator = context.getBean(OutboxHealthIndicator.class);
            tracker.failuresNotRecorded(
                    new IllegalStateException("ERROR: permission denied for table outbox_event_dead_letter"));
            tracker.cycleCompleted(new OutboxRelay.CycleResult(2, 1, 1, 1));

            // Idle cycles, and cycles whose sends all went through, say nothing about the cause.
            for (int cycle = 0; cycle < 10; cycle++) {
                tracker.cycleCompleted(new OutboxRelay.CycleResult(0, 0, 0, 0));
                tracker.cycleCompleted(new OutboxRelay.CycleResult(3, 3, 0, 0));
            }

            assertThat(indicator.health(true).getStatus()).isEqualTo(Status.DOWN);
        });
    }

    @Test
    void failuresThatCouldNotBeRecordedClearWhenNoneFailedToForTheMaximumLag() {
        MutableClock clock = new MutableClock();
        this.runner
                .withBean(RelayHealthTracker.class, () -> new RelayHealthTracker(clock, RelaySettings.defaults()))
                .run(context -> {
                    RelayHealthTracker tracker = context.getBean(RelayHealthTracker.class);
                    OutboxHealthIndicator indicator = context.getBean(OutboxHealthIndicator.class);
                    tracker.failuresNotRecorded(
                            new IllegalStateException("ERROR: permission denied for table outbox_event_dead_letter"));
                    tracker.cycleCompleted(new OutboxRelay.CycleResult(2, 1, 1, 1));

                    clock.advance(Duration.ofMinutes(10));
                    assertThat(indicator.health(true).getStatus()).isEqualTo(Status.DOWN);

                    clock.advance(Duration.ofSeconds(1));
                    assertThat(indicator.health(true).getStatus()).isEqualTo(Status.UP);
                });
    }

    @Test
    void isDownAtOnceWhenACycleFailsWithAnErrorAndUpOnceACycleCompletes() {
        this.runner.withBean(RelayHealthTracker.class, RelayHealthTracker::new).run(context -> {
            RelayHealthTracker tracker = context.getBean(RelayHealthTracker.class);
            OutboxHealthIndicator indicator = context.getBean(OutboxHealthIndicator.class);
            tracker.cycleFailed(new OutOfMemoryError("Java heap space"));

            Health down = indicator.health(true);
            assertThat(down.getStatus()).isEqualTo(Status.DOWN);
            assertThat(reasons(down))
                    .singleElement()
                    .asString()
                    .contains("failed with OutOfMemoryError: Java heap space");

            tracker.cycleCompleted(new OutboxRelay.CycleResult(0, 0, 0, 0));
            assertThat(indicator.health(true).getStatus()).isEqualTo(Status.UP);
        });
    }

    @Test
    void aParkedKeyDoesNotCountAsLag() {
        this.runner.run(context -> {
            JdbcClient jdbc = JdbcClient.create(context.getBean(DataSource.class));
            jdbc.sql("INSERT INTO outbox_event_dead_letter (id, event_id, topic, record_key, event_type, created_at,"
                            + " attempts, last_error) VALUES (1, ?, 't', 'poison', 'T', now(), 1, 'too large')")
                    .param(UUID.randomUUID())
                    .update();
            jdbc.sql("INSERT INTO outbox_event (event_id, topic, record_key, event_type, created_at)"
                            + " VALUES (?, 't', 'poison', 'T', now() - interval '1 hour')")
                    .param(UUID.randomUUID())
                    .update();

            Health health = context.getBean(OutboxHealthIndicator.class).health(true);

            assertThat(health.getStatus()).isEqualTo(Status.UP);
            assertThat(health.getDetails())
                    .containsEntry("waiting", 1L)
                    .containsEntry("parkedKeys", 1L)
                    .containsEntry("lag", "PT0S");
        });
    }

    private static OutboxRecord record(String topic) {
        return new OutboxRecord(1, UUID.randomUUID(), topic, "k", "T", null, Map.of(), Instant.now(), 0, Instant.now());
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Map<String, String>> unavailableTopics(Health health) {
        return (Map<String, Map<String, String>>) health.getDetails().getOrDefault("unavailableTopics", Map.of());
    }

    @SuppressWarnings("unchecked")
    private static List<String> reasons(Health health) {
        return (List<String>) health.getDetails().getOrDefault("reasons", List.of());
    }

    @Test
    void canBeTurnedOff() {
        this.runner
                .withPropertyValues("management.health.outbox.enabled=false")
                .run(context -> assertThat(context).doesNotHaveBean(OutboxHealthIndicator.class));
    }
}
