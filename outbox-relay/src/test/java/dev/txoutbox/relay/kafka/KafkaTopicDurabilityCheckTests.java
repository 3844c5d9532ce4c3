package dev.txoutbox.relay.kafka;

import static dev.txoutbox.testing.OutboxTestTables.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.RelaySettings;
import dev.txoutbox.store.OutboxRecord;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.OutboxTestTables;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class KafkaTopicDurabilityCheckTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final ListAppender<ILoggingEvent> log = new ListAppender<>();

    private final Logger logger = (Logger) LoggerFactory.getLogger(TopicDurabilityCheck.class);

    @BeforeEach
    void captureLog() {
        this.log.start();
        this.logger.addAppender(this.log);
        this.logger.setLevel(Level.DEBUG);
    }

    @AfterEach
    void releaseLog() {
        this.logger.detachAppender(this.log);
        this.logger.setLevel(null);
    }

    @Test
    void aTopicWithOneReplicaIsWarnedAboutOnceOnItsFirstPublicationNamingTheValuesTheRiskAndTheFix() {
        // The embedded broker is a single one: its topics have one replica and min.insync.replicas=1.
        String topic = EmbeddedInfrastructure.newTopic("fragile", 1);
        String other = EmbeddedInfrastructure.newTopic("fragile-too", 1);
        OutboxStore store = OutboxTestTables.newStore();
        RelaySettings settings = RelaySettings.defaults();
        try (KafkaRecordPublisher publisher = KafkaRecordPublisher.create(
                        Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, EmbeddedInfrastructure.kafkaBootstrapServers()),
                        settings);
                TopicDurabilityCheck check = TopicDurabilityCheck.of(publisher)) {
            OutboxRelay relay = new OutboxRelay(store, publisher, settings, List.of(check));

            store.insert(event(topic, "k", "{\"seq\":0}"));
            assertThat(relay.relayOnce().published()).isEqualTo(1);
            await().atMost(TIMEOUT).until(() -> warningsAbout(topic).size() == 1);
            store.insert(event(topic, "k", "{\"seq\":1}"));
            assertThat(relay.relayOnce().published()).isEqualTo(1);
            // The check runs topics one after another: once the other topic's warning is out, a second check of
            // the first topic would have been done too.
            store.insert(event(other, "k", "{\"seq\":0}"));
            assertThat(relay.relayOnce().published()).isEqualTo(1);
            await().atMost(TIMEOUT).until(() -> warningsAbout(other).size() == 1);

            assertThat(warningsAbout(topic))
                    .singleElement()
                    .satisfies(warning -> assertThat(warning)
                            .contains("'" + topic + "'")
                            .contains("replication factor 1")
                            .contains("3 replicas")
                            .contains("min.insync.replicas=1")
                            .contains("min.insync.replicas=2")
                            .contains("A relay without this listener does not check")
                            .doesNotContain("outbox."));
        }
    }

    @Test
    void aCheckThatCannotReachTheClusterIsLoggedOnceAtInfoAndLeavesPublishingAlone() {
        // Nothing listens at this address.
        try (TopicDurabilityCheck check = new TopicDurabilityCheck(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:1"), Duration.ofMillis(500))) {
            check.published(record("first"), Instant.now());
            check.published(record("second"), Instant.now());

            await().atMost(TIMEOUT)
                    .until(() -> this.log.list.stream()
                                    .filter(event -> event.getFormattedMessage().startsWith("Could not check"))
                                    .count()
                            == 2);
            assertThat(this.log.list)
                    .filteredOn(event -> event.getLevel() == Level.INFO)
                    .singleElement()
                    .satisfies(event -> assertThat(event.getFormattedMessage())
                            .contains("'first'")
                            .contains("publishing is not affected"));
            assertThat(this.log.list).noneMatch(event -> event.getLevel() == Level.WARN);
        }
    }

    @Test
    void aReplicatedTopicWithTwoInSyncReplicasAndNoUncleanElectionHasNothingToWarnAbout() {
        assertThat(TopicDurabilityCheck.problems("orders", 3, 2, false)).isEmpty();
        assertThat(TopicDurabilityCheck.problems("orders", 3, 2, true))
                .singleElement()
                .satisfies(problem -> assertThat(problem)
                        .contains("unclean.leader.election.enable=true")
                        .contains("--entity-name orders"));
        assertThat(TopicDurabilityCheck.problems("orders", 2, 1, false)).hasSize(1);
    }

    private List<String> warningsAbout(String topic) {
        return this.log.list.stream()
                .filter(event -> event.getLevel() == Level.WARN)
                .map(ILoggingEvent::getFormattedMessage)
                .filter(message -> message.contains("'" + topic + "'"))
                .toList();
    }

    private static OutboxRecord record(String topic) {
        Instant now = Instant.now();
        return new OutboxRecord(1L, UUID.randomUUID(), topic, "k", "TestEvent", new byte[0], Map.of(), now, 0, now);
    }
}
