package dev.txoutbox.writer;

/**
 * The largest Kafka record, in bytes, the relay can publish, and the setting it comes from, which an error names.
 *
 * @param bytes the limit, counted as the writer counts a record's size: payload, key and headers, plus a few bytes of
 *     Kafka's own framing per record and per header
 * @param setting where the limit comes from, such as {@code outbox.relay.producer.max.request.size}
 */
record MaxRecordSize(long bytes, String setting) {

    /** The limit when nothing is configured: the Kafka producer's default {@code max.request.size}, 1 MiB. */
    static final MaxRecordSize KAFKA_DEFAULT =
            new MaxRecordSize(1024 * 1024, "the Kafka producer's default max.request.size");

    MaxRecordSize {
        if (bytes <= 0) {
            throw new IllegalArgumentException(
                    "Invalid maximum record size %d from %s: it must be positive.".formatted(bytes, setting));
        }
    }
}
