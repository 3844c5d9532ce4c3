package dev.txoutbox.test;

import java.util.Objects;
import org.assertj.core.api.AbstractAssert;
import org.assertj.core.api.Assertions;
import org.assertj.core.api.ObjectAssert;

/**
 * AssertJ assertions on a {@link WrittenEvent}: {@code assertThat(event).hasTopic("orders").hasKey("42")
 * .payload(OrderPlaced.class).isEqualTo(expected)}.
 */
public final class WrittenEventAssert extends AbstractAssert<WrittenEventAssert, WrittenEvent> {

    WrittenEventAssert(WrittenEvent actual) {
        super(actual, WrittenEventAssert.class);
    }

    /** Verifies the event's topic. */
    public WrittenEventAssert hasTopic(String topic) {
        isNotNull();
        if (!this.actual.topic().equals(topic)) {
            failWithMessage("Expected topic '%s' but was '%s' for %s", topic, this.actual.topic(), this.actual);
        }
        return this;
    }

    /** Verifies the event's record key. */
    public WrittenEventAssert hasKey(String key) {
        isNotNull();
        if (!key.equals(this.actual.key())) {
            failWithMessage("Expected key '%s' but was '%s' for %s", key, this.actual.key(), this.actual);
        }
        return this;
    }

    /** Verifies the event's type, the {@code outbox-event-type} header. */
    public WrittenEventAssert hasType(String type) {
        isNotNull();
        if (!this.actual.type().equals(type)) {
            failWithMessage("Expected type '%s' but was '%s' for %s", type, this.actual.type(), this.actual);
        }
        return this;
    }

    /** Verifies that the event has a header of that value. */
    public WrittenEventAssert hasHeader(String name, String value) {
        isNotNull();
        if (!Objects.equals(this.actual.headers().get(name), value)) {
            failWithMessage(
                    "Expected header %s='%s' but the headers were %s for %s",
                    name, value, this.actual.headers(), this.actual);
        }
        return this;
    }

    /** Verifies that the event is a tombstone: its record's value is null. */
    public WrittenEventAssert isTombstone() {
        isNotNull();
        if (!this.actual.isTombstone()) {
            failWithMessage("Expected a tombstone but was %s", this.actual);
        }
        return this;
    }

    /**
     * Reads the payload as the given type (see {@link WrittenEvent#payload(Class)}) and goes on with assertions on it.
     */
    public <T> ObjectAssert<T> payload(Class<T> type) {
        isNotNull();
        return Assertions.assertThat(this.actual.payload(type)).as("payload of %s", this.actual);
    }
}
