package dev.txoutbox.writer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Event ids are version 7 UUIDs: unique, and ordered by the millisecond they were made in. */
class EventIdTests {

    @Test
    void anEventIdIsAVersion7UuidThatCarriesTheTimeItWasMade() {
        long before = System.currentTimeMillis();
        UUID id = OutboxWriter.timeOrderedEventId();
        long after = System.currentTimeMillis();

        assertThat(id.version()).isEqualTo(7);
        assertThat(id.variant()).as("the IETF variant").isEqualTo(2);
        assertThat(id.getMostSignificantBits() >>> 16).isBetween(before, after);
    }

    @Test
    void idsMadeInALaterMillisecondSortAfterEarlierOnes() throws InterruptedException {
        UUID earlier = OutboxWriter.timeOrderedEventId();
        TimeUnit.MILLISECONDS.sleep(2);
        UUID later = OutboxWriter.timeOrderedEventId();

        assertThat(later).isGreaterThan(earlier);
        assertThat(later.toString())
                .as("as text too, which is how PostgreSQL orders uuid")
                .isGreaterThan(earlier.toString());
    }

    @Test
    void idsMadeInTheSameMillisecondStillDiffer() {
        Set<UUID> ids = new HashSet<>();
        for (int i = 0; i < 200_000; i++) {
            ids.add(OutboxWriter.timeOrderedEventId());
        }

        assertThat(ids).hasSize(200_000);
    }
}
