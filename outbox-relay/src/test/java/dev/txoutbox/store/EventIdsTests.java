package dev.txoutbox.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Event ids are version 7 UUIDs: unique, ordered by the millisecond they were made in, and increasing. */
class EventIdsTests {

    @Test
    void anEventIdIsAVersion7UuidThatCarriesTheTimeItWasMade() {
        long before = System.currentTimeMillis();
        UUID id = EventIds.next();
        long after = System.currentTimeMillis();

        assertThat(id.version()).isEqualTo(7);
        assertThat(id.variant()).as("the IETF variant").isEqualTo(2);
        assertThat(id.getMostSignificantBits() >>> 16).isBetween(before, after);
    }

    @Test
    void idsMadeInALaterMillisecondSortAfterEarlierOnes() throws InterruptedException {
        UUID earlier = EventIds.next();
        TimeUnit.MILLISECONDS.sleep(2);
        UUID later = EventIds.next();

        assertThat(later).isGreaterThan(earlier);
        assertThat(later.toString())
                .as("as text too, which is how PostgreSQL orders uuid")
                .isGreaterThan(earlier.toString());
    }

    @Test
    void everyIdIsGreaterThanTheOneBeforeAlsoWithinOneMillisecond() {
        List<UUID> ids = new ArrayList<>();
        for (int i = 0; i < 200_000; i++) {
            ids.add(EventIds.next());
        }

        assertThat(ids).isSorted().doesNotHaveDuplicates();
        assertThat(ids.stream().map(UUID::toString).toList()).as("as text too").isSorted();
        assertThat(ids).allSatisfy(id -> assertThat(id.version()).isEqualTo(7));
    }

    @Test
    void idsMadeOnManyThreadsAtOnceStillDiffer() throws InterruptedException {
        Set<UUID> ids = ConcurrentHashMap.newKeySet();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread thread = new Thread(() -> {
                for (int i = 0; i < 50_000; i++) {
                    ids.add(EventIds.next());
                }
            });
            thread.start();
            threads.add(thread);
        }
        for (Thread thread : threads) {
            thread.join();
        }

        assertThat(ids).hasSize(200_000);
    }
}
