package dev.txoutbox.benchmark;

import dev.txoutbox.internal.EventRules;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.ProducerInterceptor;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;

/**
 * The relay producer's interceptor in the benchmark's application: notes when the relay handed each recorded event's
 * record to the producer, so that L can split what the relay adds after the commit into the time until the send (its
 * wake-up and claim) and the time from the send to the acknowledgement, which a plain producer has too.
 */
public class SendStamps implements ProducerInterceptor<Object, Object> {

    @Override
    public ProducerRecord<Object, Object> onSend(ProducerRecord<Object, Object> record) {
        if (BenchmarkApplication.recordLatencies) {
            Header eventId = record.headers().lastHeader(EventRules.EVENT_ID_HEADER);
            if (eventId != null) {
                BenchmarkApplication.sent(
                        UUID.fromString(new String(eventId.value(), StandardCharsets.UTF_8)), Instant.now());
            }
        }
        return record;
    }

    @Override
    public void onAcknowledgement(RecordMetadata metadata, Exception exception) {}

    @Override
    public void close() {}

    @Override
    public void configure(Map<String, ?> configs) {}
}
