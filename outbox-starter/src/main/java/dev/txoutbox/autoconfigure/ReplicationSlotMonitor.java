package dev.txoutbox.autoconfigure;

import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.postgresql.ReplicationSlotLog;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.springframework.util.unit.DataSize;

/**
 * Watches the replication slot of log mode: how much write-ahead log it holds back (the server keeps it until the
 * relay confirmed it), whether the server still has what it needs, and what this instance's relay does. Read at most
 * once per {@code outbox.metrics.refresh-interval}, for the health indicator and the gauge {@code
 * outbox.relay.log.slot.lag}.
 */
final class ReplicationSlotMonitor {

    private final ReplicationSlotLog log;

    private final Supplier<@Nullable OutboxRelay> relay;

    private final long refreshNanos;

    private final DataSize maxLag;

    private @Nullable Reading last;

    ReplicationSlotMonitor(
            ReplicationSlotLog log, Supplier<@Nullable OutboxRelay> relay, Duration refreshInterval, DataSize maxLag) {
        InvalidOutboxProperties.require(
                maxLag != null && maxLag.toBytes() > 0,
                "outbox.relay.log.max-slot-lag",
                maxLag,
                "It must be a positive size such as 1GB.");
        this.log = log;
        this.relay = relay;
        this.refreshNanos = refreshInterval.toNanos();
        this.maxLag = maxLag;
    }

    /** The latest reading of the slot, read anew when it is older than the refresh interval. */
    synchronized Reading read() {
        long now = System.nanoTime();
        Reading reading = this.last;
        if (reading != null && now - reading.readAtNanos() < this.refreshNanos) {
            return reading;
        }
        try {
            reading = new Reading(this.log.status(), null, now);
        } catch (RuntimeException ex) {
            reading = new Reading(null, String.valueOf(ex.getMessage()), now);
        }
        this.last = reading;
        return reading;
    }

    /** The slot's lag in bytes, NaN when it cannot be read or does not exist. */
    double lagBytes() {
        ReplicationSlotLog.SlotStatus status = read().status();
        return status != null ? status.lagBytes() : Double.NaN;
    }

    /** Registers the gauge of the slot's lag. */
    void bindTo(MeterRegistry registry) {
        Gauge.builder("outbox.relay.log.slot.lag", this, ReplicationSlotMonitor::lagBytes)
                .description("Bytes of write-ahead log that the relay's replication slot holds back beyond the"
                        + " position it confirmed")
                .baseUnit("bytes")
                .tag("slot", this.log.slot())
                .register(registry);
    }

    /**
     * The health's details of log mode, and the reasons for DOWN it adds: a slot that holds more WAL than the maximum
     * lag, a slot the server invalidated, or a slot that cannot be read.
     */
    Map<String, Object> details(List<String> reasons) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("slot", this.log.slot());
        OutboxRelay outboxRelay = this.relay.get();
        if (outboxRelay != null && outboxRelay.logRole() != null) {
            details.put("role", String.valueOf(outboxRelay.logRole()).toLowerCase(java.util.Locale.ROOT));
        }
        Reading reading = read();
        ReplicationSlotLog.SlotStatus status = reading.status();
        List<String> found = new ArrayList<>();
        if (reading.error() != null) {
            found.add("the replication slot '" + this.log.slot() + "' cannot be read: " + reading.error());
        } else if (status == null) {
            details.put("walStatus", "missing");
        } else {
            details.put("lagBytes", status.lagBytes());
            details.put("active", status.active());
            details.put("walStatus", status.walStatus());
            if (status.lost()) {
                found.add(("the server invalidated the replication slot '%s' (wal_status 'lost'), as"
                                + " max_slot_wal_keep_size allows: the relay publishes by polling the table, which still"
                                + " holds every row not published, and starts the slot anew")
                        .formatted(this.log.slot()));
            } else if (status.lagBytes() > this.maxLag.toBytes()) {
                found.add(("the replication slot '%s' holds back %d bytes of write-ahead log, more than"
                                + " outbox.relay.log.max-slot-lag (%s): the relay is behind or no relay reads the slot"
                                + " (active=%s), and the server keeps that WAL on disk until it catches up")
                        .formatted(this.log.slot(), status.lagBytes(), this.maxLag, status.active()));
            }
        }
        reasons.addAll(found);
        return details;
    }

    /**
     * A reading of the slot.
     *
     * @param status the slot's status, null when it does not exist or could not be read
     * @param error why it could not be read, or null
     * @param readAtNanos when it was read, on {@link System#nanoTime()}'s clock
     */
    record Reading(
            ReplicationSlotLog.@Nullable SlotStatus status,
            @Nullable String error,
            long readAtNanos) {}
}
