package dev.txoutbox.sample.monitoring;

import static java.util.stream.Collectors.toCollection;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The meters the outbox starter registers, with the names under which Prometheus sees them. The dashboard and its
 * tests take their metric names from here, and {@link PrometheusEndpointTests} checks them against the running
 * application, so that neither can drift from the starter unnoticed.
 */
final class OutboxMeters {

    /** Every meter of the starter. */
    static final List<Meter> ALL = List.of(
            new Meter("outbox.events.written", Kind.COUNTER, "topic"),
            new Meter("outbox.events.published", Kind.COUNTER, "topic"),
            new Meter("outbox.send.failures", Kind.COUNTER, "reason", "kind"),
            new Meter("outbox.events.dead.lettered", Kind.COUNTER, "topic"),
            new Meter("outbox.batch.size", Kind.DISTRIBUTION_SUMMARY),
            new Meter("outbox.cycles.without.slot", Kind.COUNTER),
            new Meter("outbox.publish.latency", Kind.TIMER_WITH_HISTOGRAM),
            new Meter("outbox.rows.waiting", Kind.GAUGE),
            new Meter("outbox.oldest.row.age", Kind.TIME_GAUGE),
            new Meter("outbox.keys.parked", Kind.GAUGE),
            new Meter("outbox.dead.letters", Kind.GAUGE),
            new Meter("outbox.topics.unavailable", Kind.GAUGE));

    private OutboxMeters() {}

    /** All series names of all meters, as Prometheus shows them. */
    static Set<String> prometheusNames() {
        return ALL.stream().flatMap(meter -> meter.prometheusNames().stream()).collect(toCollection(TreeSet::new));
    }

    /** The meter that a Prometheus series name belongs to. */
    static Optional<Meter> meterOf(String prometheusName) {
        return ALL.stream()
                .filter(meter -> meter.prometheusNames().contains(prometheusName))
                .findFirst();
    }

    /** What kind of meter, which decides the series Micrometer's Prometheus registry makes of it. */
    enum Kind {
        COUNTER,
        GAUGE,
        /** A gauge of a duration, in seconds. */
        TIME_GAUGE,
        DISTRIBUTION_SUMMARY,
        /** A timer that publishes a percentile histogram, in seconds. */
        TIMER_WITH_HISTOGRAM
    }

    /**
     * One meter.
     *
     * @param name its Micrometer name
     * @param kind its kind
     * @param tags the names of its tags
     */
    record Meter(String name, Kind kind, Set<String> tags) {

        Meter(String name, Kind kind, String... tags) {
            this(name, kind, Set.of(tags));
        }

        /** The names of its series in Prometheus, by Micrometer's naming convention for Prometheus. */
        Set<String> prometheusNames() {
            String base = this.name.replace('.', '_');
            Stream<String> names = switch (this.kind) {
                case COUNTER -> Stream.of(base + "_total");
                case GAUGE -> Stream.of(base);
                case TIME_GAUGE -> Stream.of(base + "_seconds");
                case DISTRIBUTION_SUMMARY -> Stream.of(base + "_count", base + "_sum", base + "_max");
                case TIMER_WITH_HISTOGRAM ->
                    Stream.of("_bucket", "_count", "_sum", "_max").map(suffix -> base + "_seconds" + suffix);
            };
            return names.collect(toCollection(TreeSet::new));
        }
    }
}
