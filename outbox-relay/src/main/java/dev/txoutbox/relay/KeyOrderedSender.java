package dev.txoutbox.relay;

import dev.txoutbox.relay.FailureDecisions.Decision;
import dev.txoutbox.store.OutboxRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a cycle's records in waves (see {@link Waves}) and waits for their acknowledgements, so that records of one
 * topic and key reach the broker in id order whatever fails: a record goes out only once the one before it of its
 * topic and key was acknowledged, and a topic and key whose record failed sends nothing more in the cycle, its later
 * records left untouched for a later cycle. Records that the send timeout or a stop left unsent stay untouched too:
 * an attempt counts only when a record was sent. Every wave waits for its acknowledgements up to the cycle's send
 * deadline, or the shutdown deadline once the relay stops.
 */
final class KeyOrderedSender {

    /** The relay's logger: these lines are the relay's. */
    private static final Logger log = LoggerFactory.getLogger(OutboxRelay.class);

    private final RecordPublisher publisher;

    private final FailureDecisions decisions;

    private final Duration sendTimeout;

    private final String relayName;

    KeyOrderedSender(RecordPublisher publisher, FailureDecisions decisions, Duration sendTimeout, String relayName) {
        this.publisher = publisher;
        this.decisions = decisions;
        this.sendTimeout = sendTimeout;
        this.relayName = relayName;
    }

    /**
     * Sends the records and waits for their acknowledgements; the acknowledged records and the holds on records still
     * in flight go into the cycle.
     *
     * @param records the claimed records, in id order
     * @param backlog whether the claim filled its batch, so that more records wait: the publisher may then keep
     *     gathering records into larger requests; otherwise it is told to send what it holds once a wave is handed
     *     over
     * @return what becomes of the records whose send failed or was not acknowledged in time
     */
    List<Decision> send(List<OutboxRecord> records, Cycle cycle, boolean backlog) {
        long deadline = System.nanoTime() + this.sendTimeout.toNanos();
        List<Decision> failures = new ArrayList<>();
        Set<Waves.TopicKey> stoppedKeys = new HashSet<>();
        List<OutboxRecord> remaining = records;
        while (!remaining.isEmpty()
                && !cycle.stopping()
                && cycle.publisherError == null
                && System.nanoTime() - deadline < 0) {
            Waves.Wave wave = Waves.next(remaining, stoppedKeys);
            List<Send> sends = new ArrayList<>(wave.records().size());
            // A send may block (a producer waiting for metadata), and a stop that gives up on the cycle says so.
            cycle.activity("sending " + wave.records().size() + " records");
            for (OutboxRecord record : wave.records()) {
                sends.add(startSend(record, deadline, cycle));
            }
            if (!backlog) {
                sendBuffered(cycle);
            }
            cycle.activity("waiting for the acknowledgements of " + sends.size() + " records");
            for (Send send : sends) {
                Send.Outcome outcome = send.awaitAcknowledgement(() -> cycle.waitDeadline(deadline));
                if (outcome.acknowledged()) {
                    cycle.acknowledged(send.record());
                    continue;
                }
                Waves.TopicKey key = Waves.TopicKey.of(send.record());
                if (key != null) {
                    stoppedKeys.add(key);
                }
                if (outcome.inFlight()) {
                    Decision hold = this.decisions.inFlight(send, cycle);
                    failures.add(hold);
                    cycle.inFlight(hold);
                } else if (outcome.error() != null) {
                    Throwable error = outcome.error();
                    if (send.handedOver() && this.decisions.mayStillBeWritten(send.record(), error)) {
                        // The publisher gave up on it, but the broker may still write it: held back as in flight.
                        Decision hold = this.decisions.hold(send, error, cycle);
                        failures.add(hold);
                        cycle.inFlight(hold);
                    } else {
                        failures.add(this.decisions.failure(send.record(), error, 0));
                    }
                }
            }
            remaining = wave.later();
        }
        return failures;
    }

    /**
     * Tells the publisher to send what it holds. A failure leaves the records handed over as they are, waited for
     * like the others: the publisher only sends them later.
     */
    private void sendBuffered(Cycle cycle) {
        try {
            this.publisher.sendBuffered();
        } catch (RuntimeException ex) {
            log.warn(
                    "Outbox relay {}: the publisher failed to send the records it holds at once; they go out later",
                    this.relayName,
                    ex);
        } catch (Error err) {
            // As a publisher's Error in a send: the cycle waits for what it handed over and fails once it committed.
            cycle.publisherError = err;
        }
    }

    private Send startSend(OutboxRecord record, long deadline, Cycle cycle) {
        // A send may block (a producer waiting for metadata), so the deadline may pass in the middle of a wave.
        if (cycle.stopping() || cycle.publisherError != null || System.nanoTime() - deadline >= 0) {
            return Send.notSent(record);
        }
        Throwable unavailable = cycle.unavailableTopics.get(record.topic());
        if (unavailable != null) {
            return Send.refused(record, unavailable);
        }
        long sentAt = System.nanoTime();
        try {
            return stopTopicIfUnavailable(new Send(record, this.publisher.publish(record), sentAt), cycle);
        } catch (RuntimeException ex) {
            return stopTopicIfUnavailable(new Send(record, CompletableFuture.failedFuture(ex), sentAt), cycle);
        } catch (Error err) {
            // Such as an AssertionError or a NoClassDefFoundError from a publisher's bug. Failing the whole cycle
            // would roll back the sends already in flight and leave a row that always does this at the head of
            // every batch; recorded as this record's failed send instead, it becomes a dead letter after the
            // maximum attempts like any other, and the cycle fails once it committed what it did.
            cycle.publisherError = err;
            return new Send(record, CompletableFuture.failedFuture(err), sentAt);
        }
    }

    /**
     * A send that failed at once as unavailable stops its topic for the rest of the cycle: with a topic the broker does
     * not know, a Kafka producer blocks in {@code send()} until {@code max.block.ms} for every record, and a few such
     * records would use up the cycle's send timeout and leave the records of every other topic unsent, cycle after
     * cycle.
     */
    private Send stopTopicIfUnavailable(Send send, Cycle cycle) {
        Throwable error = send.failedAtOnce();
        if (error != null && this.decisions.classify(send.record(), error) == FailureKind.UNAVAILABLE) {
            log.debug(
                    "Outbox relay {}: topic '{}' is unavailable, the cycle sends it nothing more: {}",
                    this.relayName,
                    send.record().topic(),
                    FailureRecorder.describe(error));
            cycle.unavailableTopics.put(send.record().topic(), error);
        }
        return send;
    }
}
