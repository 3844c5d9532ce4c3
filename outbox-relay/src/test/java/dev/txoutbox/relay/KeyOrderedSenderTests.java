package dev.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txoutbox.relay.FailureDecisions.Decision;
import dev.txoutbox.store.OutboxRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * How a cycle sends its records in key order and waits for their acknowledgements, with a fake publisher: no database,
 * no broker.
 */
class KeyOrderedSenderTests {

    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(30);

    private final RunState run = new RunState();

    @Test
    void recordsOfOneTopicAndKeyGoOutOneWaveAfterAnotherEachOnceTheOneBeforeWasAcknowledged() {
        FakePublisher publisher = new FakePublisher(record -> Answer.ACKNOWLEDGE);
        OutboxRecord first = record(1, "orders", "A");
        OutboxRecord otherKey = record(2, "orders", "B");
        OutboxRecord second = record(3, "orders", "A");
        OutboxRecord third = record(4, "orders", "A");
        Cycle cycle = cycle();

        List<Decision> failures = sender(publisher).send(List.of(first, otherKey, second, third), cycle, false);

        assertThat(failures).isEmpty();
        assertThat(publisher.published).containsExactly(1L, 2L, 3L, 4L);
        assertThat(publisher.acknowledgedWhenPublished.get(2L))
                .as("the first wave holds one record of each key, sent before any acknowledgement")
                .isEmpty();
        assertThat(publisher.acknowledgedWhenPublished.get(3L))
                .as("the key's second record waits for the first wave's acknowledgements")
                .containsExactlyInAnyOrder(1L, 2L);
        assertThat(publisher.acknowledgedWhenPublished.get(4L)).contains(3L);
        assertThat(cycle.acknowledgedIds()).containsExactly(1L, 2L, 3L, 4L);
    }

    @Test
    void withoutABacklogThePublisherIsToldToSendWhatItHoldsOnceEachWaveIsHandedOverBeforeTheWait() {
        FakePublisher publisher = new FakePublisher(record -> Answer.ACKNOWLEDGE);
        List<OutboxRecord> records =
                List.of(record(1, "orders", "A"), record(2, "orders", "B"), record(3, "orders", "A"));

        sender(publisher).send(records, cycle(), false);

        assertThat(publisher.sentBuffered)
                .containsExactly("published [1, 2], acknowledged []", "published [1, 2, 3], acknowledged [1, 2]");
    }

    @Test
    void aPublisherThatFailsToSendWhatItHoldsAtOnceStillHasItsRecordsWaitedForAndAcknowledged() {
        FakePublisher publisher = new FakePublisher(record -> Answer.ACKNOWLEDGE) {
            @Override
            public synchronized void sendBuffered() {
                throw new IllegalStateException("cannot flush");
            }
        };
        Cycle cycle = cycle();

        List<Decision> failures =
                sender(publisher).send(List.of(record(1, "orders", "A"), record(2, "orders", "A")), cycle, false);

        assertThat(failures).isEmpty();
        assertThat(cycle.acknowledgedIds()).containsExactly(1L, 2L);
        assertThat(cycle.publisherError).isNull();
    }

    @Test
    void whileABacklogIsDrainedThePublisherKeepsGatheringRecords() {
        FakePublisher publisher = new FakePublisher(record -> Answer.ACKNOWLEDGE);
        List<OutboxRecord> records =
                List.of(record(1, "orders", "A"), record(2, "orders", "B"), record(3, "orders", "A"));
        Cycle cycle = cycle();

        sender(publisher).send(records, cycle, true);

        assertThat(cycle.acknowledgedIds()).containsExactly(1L, 2L, 3L);
        assertThat(publisher.sentBuffered).isEmpty();
    }

    @Test
    void recordsWithoutKeyAndRecordsOfOneKeyInOtherTopicsGoOutInOneWave() {
        FakePublisher publisher = new FakePublisher(record -> Answer.ACKNOWLEDGE);
        Cycle cycle = cycle();

        sender(publisher)
                .send(
                        List.of(
                                record(1, "orders", null),
                                record(2, "orders", null),
                                record(3, "customers", "A"),
                                record(4, "orders", "A")),
                        cycle,
                        false);

        assertThat(publisher.acknowledgedWhenPublished.get(4L))
                .as("sent before any acknowledgement: all four in the first wave")
                .isEmpty();
        assertThat(cycle.acknowledgedIds()).containsExactly(1L, 2L, 3L, 4L);
    }

    @Test
    void aFailedSendStopsTheLaterRecordsOfItsKeyButNotThoseOfOtherKeys() {
        FakePublisher publisher = new FakePublisher(record -> record.id() == 1 ? Answer.FAIL : Answer.ACKNOWLEDGE);
        OutboxRecord failing = record(1, "orders", "A");
        OutboxRecord otherKey = record(2, "orders", "B");
        OutboxRecord behindFailing = record(3, "orders", "A");
        OutboxRecord otherKeyLater = record(4, "orders", "B");
        Cycle cycle = cycle();

        List<Decision> failures =
                sender(publisher).send(List.of(failing, otherKey, behindFailing, otherKeyLater), cycle, false);

        assertThat(publisher.published).as("record 3 is never handed over").containsExactly(1L, 2L, 4L);
        assertThat(failures).extracting(decision -> decision.record().id()).containsExactly(1L);
        assertThat(failures.get(0).kind()).isEqualTo(FailureKind.TRANSIENT);
        assertThat(failures.get(0).deadLetter()).isFalse();
        assertThat(cycle.acknowledgedIds())
                .as("record 3 is neither acknowledged nor failed: its row stays untouched, no attempt counted")
                .containsExactly(2L, 4L);
        assertThat(cycle.inFlight).isEmpty();
    }

    @Test
    void aFailureInOneTopicDoesNotStopTheSameKeyInAnotherTopic() {
        FakePublisher publisher =
                new FakePublisher(record -> record.topic().equals("customers") ? Answer.FAIL : Answer.ACKNOWLEDGE);
        Cycle cycle = cycle();

        sender(publisher)
                .send(
                        List.of(
                                record(1, "customers", "A"),
                                record(2, "orders", "A"),
                                record(3, "customers", "A"),
                                record(4, "orders", "A")),
                        cycle,
                        false);

        assertThat(publisher.published).containsExactly(1L, 2L, 4L);
        assertThat(cycle.acknowledgedIds()).containsExactly(2L, 4L);
    }

    @Test
    void aSendNotAcknowledgedWithinTheSendTimeoutHoldsItsRowForThePublishersDeliveryTime() {
        FakePublisher publisher = new FakePublisher(record -> record.id() == 1 ? Answer.NEVER : Answer.ACKNOWLEDGE);
        publisher.maxDeliveryTime = Duration.ofSeconds(5);
        Cycle cycle = cycle();

        List<Decision> failures = new KeyOrderedSender(
                        publisher,
                        new FailureDecisions(publisher, RelaySettings.defaults(), "test-relay"),
                        Duration.ofMillis(300),
                        "test-relay")
                .send(
                        List.of(record(1, "orders", "A"), record(2, "orders", "B"), record(3, "orders", "A")),
                        cycle,
                        false);

        assertThat(publisher.published)
                .as("the timed-out key sends nothing more")
                .containsExactly(1L, 2L);
        assertThat(cycle.acknowledgedIds()).containsExactly(2L);
        assertThat(failures).singleElement().satisfies(timedOut -> {
            assertThat(timedOut.record().id()).isEqualTo(1L);
            assertThat(timedOut.error()).isInstanceOf(FailureDecisions.SendTimeoutException.class);
            assertThat(timedOut.kind()).isEqualTo(FailureKind.UNAVAILABLE);
            assertThat(timedOut.deadLetter()).isFalse();
            assertThat(timedOut.text()).contains("RelaySettings.sendTimeout");
            assertThat(timedOut.retryDelayMillis())
                    .as("not claimable again before the publisher can no longer write it")
                    .isGreaterThanOrEqualTo(5_000);
        });
        assertThat(cycle.inFlight)
                .as("held back also should the cycle's transaction fail")
                .singleElement()
                .satisfies(hold -> assertThat(hold.id()).isEqualTo(1L));
    }

    @Test
    void aFailureThePublisherSaysMayStillBeWrittenIsHeldBackAsInFlight() {
        FakePublisher publisher = new FakePublisher(record -> Answer.FAIL);
        publisher.mayStillBeWritten = true;
        publisher.maxDeliveryTime = Duration.ofSeconds(5);
        Cycle cycle = cycle();

        List<Decision> failures = sender(publisher).send(List.of(record(1, "orders", "A")), cycle, false);

        assertThat(failures)
                .singleElement()
                .satisfies(held -> assertThat(held.retryDelayMillis()).isGreaterThanOrEqualTo(5_000));
        assertThat(cycle.inFlight).hasSize(1);
    }

    @Test
    void aPermanentFailureBecomesADeadLetter() {
        FakePublisher publisher = new FakePublisher(record -> Answer.FAIL);
        publisher.kind = FailureKind.PERMANENT;

        List<Decision> failures = sender(publisher).send(List.of(record(1, "orders", "A")), cycle(), false);

        assertThat(failures).singleElement().satisfies(deadLetter -> {
            assertThat(deadLetter.kind()).isEqualTo(FailureKind.PERMANENT);
            assertThat(deadLetter.deadLetter()).isTrue();
        });
    }

    @Test
    void aTopicWhoseSendFailsAtOnceAsUnavailableGetsNoMoreSendsInTheCycle() {
        FakePublisher publisher =
                new FakePublisher(record -> record.topic().equals("missing") ? Answer.THROW : Answer.ACKNOWLEDGE);
        publisher.kind = FailureKind.UNAVAILABLE;
        Cycle cycle = cycle();

        List<Decision> failures = sender(publisher)
                .send(
                        List.of(record(1, "missing", "A"), record(2, "missing", "B"), record(3, "orders", "A")),
                        cycle,
                        false);

        assertThat(publisher.published)
                .as("record 2 is not handed over, its topic being unavailable")
                .containsExactly(1L, 3L);
        assertThat(failures)
                .as("both records of the unavailable topic are recorded as failed with its error")
                .extracting(decision -> decision.record().id())
                .containsExactlyInAnyOrder(1L, 2L);
        assertThat(failures).allSatisfy(failure -> assertThat(failure.kind()).isEqualTo(FailureKind.UNAVAILABLE));
        assertThat(cycle.acknowledgedIds()).containsExactly(3L);
    }

    @Test
    void anErrorThrownByThePublisherEndsTheSendingAndIsKeptForTheCycle() {
        FakePublisher publisher =
                new FakePublisher(record -> record.id() == 2 ? Answer.THROW_ERROR : Answer.ACKNOWLEDGE);
        Cycle cycle = cycle();

        List<Decision> failures = sender(publisher)
                .send(
                        List.of(record(1, "orders", "A"), record(2, "orders", "B"), record(3, "orders", "C")),
                        cycle,
                        false);

        assertThat(publisher.published).as("nothing is sent after the error").containsExactly(1L, 2L);
        assertThat(cycle.publisherError).isInstanceOf(AssertionError.class);
        assertThat(cycle.acknowledgedIds()).containsExactly(1L);
        assertThat(failures)
                .as("the failed send is recorded; the unsent record stays untouched")
                .extracting(decision -> decision.record().id())
                .containsExactly(2L);
    }

    @Test
    void aStoppingRelaySendsNothing() {
        FakePublisher publisher = new FakePublisher(record -> Answer.ACKNOWLEDGE);
        Cycle cycle = cycle();
        this.run.requestStop(System.nanoTime());

        List<Decision> failures = sender(publisher).send(List.of(record(1, "orders", "A")), cycle, false);

        assertThat(publisher.published).isEmpty();
        assertThat(failures).isEmpty();
        assertThat(cycle.acknowledgedIds()).isEmpty();
    }

    @Test
    void listenersHearOfEachRecordAsSentTheMomentTheBrokerAcknowledgedItAndOfNoOtherRecord() {
        List<Long> heard = new ArrayList<>();
        FakePublisher publisher = new FakePublisher(record -> record.id() == 2 ? Answer.FAIL : Answer.ACKNOWLEDGE);
        Cycle cycle = new Cycle(
                System.nanoTime(),
                this.run.generation(),
                this.run,
                new ConcurrentHashMap<>(),
                new OutboxRelayListener() {
                    @Override
                    public void sent(OutboxRecord record, Instant acknowledgedAt) {
                        heard.add(record.id());
                    }
                });

        sender(publisher)
                .send(
                        List.of(record(1, "orders", "A"), record(2, "orders", "B"), record(3, "orders", "C")),
                        cycle,
                        false);

        assertThat(heard).as("heard during the sends, before any delete").containsExactlyInAnyOrder(1L, 3L);
        assertThat(heard).containsExactlyElementsOf(cycle.acknowledgedIds());
    }

    private Cycle cycle() {
        return new Cycle(
                System.nanoTime(),
                this.run.generation(),
                this.run,
                new ConcurrentHashMap<>(),
                new OutboxRelayListener() {});
    }

    private static KeyOrderedSender sender(RecordPublisher publisher) {
        return new KeyOrderedSender(
                publisher,
                new FailureDecisions(publisher, RelaySettings.defaults(), "test-relay"),
                SEND_TIMEOUT,
                "test-relay");
    }

    private static OutboxRecord record(long id, String topic, @Nullable String key) {
        return new OutboxRecord(
                id, UUID.randomUUID(), topic, key, "TestEvent", null, Map.of(), Instant.now(), 0, Instant.now());
    }

    /** What the fake broker does with a record. */
    enum Answer {
        /** Acknowledges it once the sender waits for it. */
        ACKNOWLEDGE,
        /** Fails its future once the sender waits for it. */
        FAIL,
        /** Never answers. */
        NEVER,
        /** Throws from {@code publish}. */
        THROW,
        /** Throws an {@link Error} from {@code publish}. */
        THROW_ERROR
    }

    /**
     * A publisher whose futures answer only once the sender waits for them, so that what was acknowledged when a
     * record went out shows which wave it was in.
     */
    static class FakePublisher implements RecordPublisher {

        final List<Long> published = new ArrayList<>();

        final Set<Long> acknowledged = new HashSet<>();

        final Map<Long, Set<Long>> acknowledgedWhenPublished = new HashMap<>();

        final Function<OutboxRecord, Answer> answers;

        FailureKind kind = FailureKind.TRANSIENT;

        Duration maxDeliveryTime = Duration.ZERO;

        boolean mayStillBeWritten;

        /** For each call of {@link #sendBuffered()}: the records published and acknowledged by then. */
        final List<String> sentBuffered = new ArrayList<>();

        FakePublisher(Function<OutboxRecord, Answer> answers) {
            this.answers = answers;
        }

        @Override
        public synchronized CompletableFuture<?> publish(OutboxRecord record) {
            this.published.add(record.id());
            this.acknowledgedWhenPublished.put(record.id(), Set.copyOf(this.acknowledged));
            return switch (this.answers.apply(record)) {
                case ACKNOWLEDGE ->
                    new AnswerOnWait(() -> {
                        synchronized (this) {
                            this.acknowledged.add(record.id());
                        }
                        return null;
                    });
                case FAIL ->
                    new AnswerOnWait(() -> {
                        throw new IllegalStateException("broker refused record " + record.id());
                    });
                case NEVER -> new CompletableFuture<>();
                case THROW -> throw new IllegalStateException("topic " + record.topic() + " not known");
                case THROW_ERROR -> throw new AssertionError("publisher bug");
            };
        }

        @Override
        public synchronized void sendBuffered() {
            this.sentBuffered.add("published " + this.published + ", acknowledged " + this.acknowledged);
        }

        @Override
        public FailureKind classify(OutboxRecord record, Throwable error) {
            return this.kind;
        }

        @Override
        public Duration maxDeliveryTime() {
            return this.maxDeliveryTime;
        }

        @Override
        public boolean mayStillBeWritten(OutboxRecord record, Throwable error) {
            return this.mayStillBeWritten;
        }
    }

    /** A future that the broker answers when someone first waits for it. */
    static final class AnswerOnWait extends CompletableFuture<Object> {

        private final java.util.concurrent.Callable<@Nullable Object> answer;

        AnswerOnWait(java.util.concurrent.Callable<@Nullable Object> answer) {
            this.answer = answer;
        }

        @Override
        public Object get(long timeout, TimeUnit unit)
                throws InterruptedException, ExecutionException, TimeoutException {
            if (!isDone()) {
                try {
                    complete(this.answer.call());
                } catch (Exception ex) {
                    completeExceptionally(ex);
                }
            }
            return super.get(timeout, unit);
        }
    }
}
