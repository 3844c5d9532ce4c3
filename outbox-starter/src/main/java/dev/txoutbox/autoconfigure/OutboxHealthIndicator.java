package dev.txoutbox.autoconfigure;

import dev.txoutbox.relay.postgresql.WakeUpListener;
import dev.txoutbox.store.OutboxStatistics;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * The outbox's health: DOWN when the oldest row the relay could publish is older than {@code outbox.health.max-lag};
 * when a topic's sends have failed as unavailable for longer than that (its rows wait for their retries, which do not
 * count as lag, so this is what shows an outage of one topic); when rows wait and the relay's last
 * {@code outbox.health.failing-cycles} cycles got none acknowledged; when as many cycles in a row failed as a whole;
 * when the last cycle failed with an {@link Error}; when a cycle could not record its failed sends, until
 * {@code outbox.health.failing-cycles} later cycles recorded theirs or none failed to for the maximum lag; or when
 * the figures cannot be read.
 *
 * <p>Its details: {@code waiting}, {@code lag}, {@code readAt} (when the figures were read), {@code deadLetters} and
 * {@code parkedKeys}, while the figures can be read; with a relay, {@code lastPublishedAt}, {@code lastError} and
 * {@code lastErrorAt} once there are such, and {@code unavailableTopics} (each with {@code since} and its last
 * {@code error}) while there are any; with a wake-up listener, {@code notifications} (whether other instances'
 * wake-ups reach this one, which never makes it DOWN, since the relay then finds their rows at its poll interval) and
 * {@code listening}; in log mode, {@code log} with the replication slot's {@code slot}, {@code role} (of this
 * instance's relay: reading, standby, …), {@code lagBytes}, {@code active} and {@code walStatus}, DOWN when the slot
 * holds back more than {@code outbox.relay.log.max-slot-lag} or was invalidated; when DOWN, {@code reasons}.
 */
final class OutboxHealthIndicator extends AbstractHealthIndicator {

    private final OutboxStatisticsCache statistics;

    private final @Nullable RelayHealthTracker relay;

    private final @Nullable WakeUpListener listener;

    private final @Nullable ReplicationSlotMonitor slot;

    private final Duration maxLag;

    private final int failingCycles;

    OutboxHealthIndicator(
            OutboxStatisticsCache statistics,
            @Nullable RelayHealthTracker relay,
            @Nullable WakeUpListener listener,
            @Nullable ReplicationSlotMonitor slot,
            OutboxProperties.Health settings) {
        super("Outbox health check failed");
        InvalidOutboxProperties.requirePositive("outbox.health.max-lag", settings.getMaxLag(), "5m");
        InvalidOutboxProperties.require(
                settings.getFailingCycles() >= 1,
                "outbox.health.failing-cycles",
                settings.getFailingCycles(),
                "It must be at least 1.");
        this.statistics = statistics;
        this.relay = relay;
        this.listener = listener;
        this.slot = slot;
        this.maxLag = settings.getMaxLag();
        this.failingCycles = settings.getFailingCycles();
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        List<String> reasons = new ArrayList<>();
        OutboxStatisticsCache.Reading reading = this.statistics.get();
        OutboxStatistics figures = reading.statistics();
        if (figures == null) {
            reasons.add("the outbox tables cannot be read: " + reading.error());
        } else {
            Duration lag = reading.lag();
            builder.withDetail("waiting", figures.waiting())
                    .withDetail("lag", lag.toString())
                    .withDetail("readAt", figures.readAt().toString())
                    .withDetail("deadLetters", figures.deadLetters())
                    .withDetail("parkedKeys", figures.parkedKeys());
            if (lag.compareTo(this.maxLag) > 0) {
                reasons.add("the oldest row the relay could publish is older than outbox.health.max-lag (" + this.maxLag
                        + ")");
            }
        }
        if (this.relay != null) {
            if (this.relay.lastPublishedAt() != null) {
                builder.withDetail(
                        "lastPublishedAt", this.relay.lastPublishedAt().toString());
            }
            if (this.relay.lastError() != null) {
                builder.withDetail("lastError", this.relay.lastError())
                        .withDetail("lastErrorAt", String.valueOf(this.relay.lastErrorAt()));
            }
            unavailableTopics(this.relay, builder, reasons);
            RelayHealthTracker.Problem cycleError = this.relay.cycleError();
            if (cycleError != null) {
                reasons.add(("the relay's last cycle failed with %s, at %s: an Error, which the JVM raises when it is"
                                + " short of memory or stack, or a class is missing. Look at the relay's log for its"
                                + " stack trace; this clears when a cycle completes again")
                        .formatted(cycleError.error(), cycleError.at()));
            }
            RelayHealthTracker.Problem notRecorded = this.relay.failuresNotRecorded();
            if (notRecorded != null
                    && this.relay.cyclesSinceFailuresNotRecorded() < this.failingCycles
                    && Duration.between(notRecorded.at(), this.relay.now()).compareTo(this.maxLag) <= 0) {
                reasons.add(("the relay deleted the rows of acknowledged records, but could not record its failed"
                                + " sends as decided (their retry time, or their move to the dead letters) at %s: %s."
                                + " It records them as retries with backoff instead where it can, so no record becomes"
                                + " a dead letter, and a record that cannot even be retried is sent again by a later"
                                + " cycle. Fix the cause, such as a missing privilege of the relay's database user (it"
                                + " needs INSERT on the dead-letter table and UPDATE on the outbox table); this clears"
                                + " after %d cycles record their failed sends again, or when none failed to for"
                                + " outbox.health.max-lag (%s)")
                        .formatted(notRecorded.at(), notRecorded.error(), this.failingCycles, this.maxLag));
            }
            boolean rowsWait = figures == null || figures.waiting() > 0;
            if (rowsWait && this.relay.unacknowledgedCycles() >= this.failingCycles) {
                reasons.add(("the relay's last %d cycles got no record acknowledged: it cannot reach Kafka, or Kafka"
                                + " refuses every record (see lastError)")
                        .formatted(this.relay.unacknowledgedCycles()));
            }
            if (this.relay.failedCycles() >= this.failingCycles) {
                reasons.add(
                        "the relay's last %d cycles failed as a whole, such as when the database cannot be reached (see lastError)"
                                .formatted(this.relay.failedCycles()));
            }
        }
        if (this.listener != null) {
            boolean listening = this.listener.isListening();
            builder.withDetail("notifications", notifications(this.listener.notifications(), listening));
            builder.withDetail("listening", listening);
        }
        if (this.slot != null) {
            builder.withDetail("log", this.slot.details(reasons));
        }
        if (reasons.isEmpty()) {
            builder.up();
        } else {
            builder.down().withDetail("reasons", reasons);
        }
    }

    private static String notifications(WakeUpListener.Notifications notifications, boolean listening) {
        return switch (notifications) {
            case ARRIVE -> "arrive";
            case NOT_CHECKED -> "not checked yet";
            case DO_NOT_ARRIVE ->
                "do not arrive: the relay finds other instances' rows at outbox.relay.poll-interval; "
                        + (listening
                                ? "the listener keeps listening on its direct connection and sends its test"
                                        + " notification again"
                                : "the listener stopped listening, since its connection goes through a pooler (in"
                                        + " transaction mode, notifications go to whatever client shares the server"
                                        + " connection that listened)");
        };
    }

    /** Lists the unavailable topics, and gives a reason for each one unavailable for longer than the maximum lag. */
    private void unavailableTopics(RelayHealthTracker relay, Health.Builder builder, List<String> reasons) {
        Map<String, UnavailableTopics.Outage> unavailable = relay.unavailableTopics();
        if (unavailable.isEmpty()) {
            return;
        }
        Map<String, Map<String, String>> details = new LinkedHashMap<>();
        Instant now = relay.now();
        unavailable.forEach((topic, outage) -> {
            details.put(topic, Map.of("since", outage.since().toString(), "error", outage.error()));
            if (Duration.between(outage.since(), now).compareTo(this.maxLag) > 0) {
                reasons.add(("topic '%s' has been unavailable since %s, longer than outbox.health.max-lag (%s): %s."
                                + " Its records wait and are retried until it is back: check that the topic exists,"
                                + " that its partitions have leaders, and that the relay may write to it")
                        .formatted(topic, outage.since(), this.maxLag, outage.error()));
            }
        });
        builder.withDetail("unavailableTopics", details);
    }
}
