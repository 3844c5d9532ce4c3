package dev.txoutbox.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Event ids are version 7 UUIDs: unique, ordered by the millisecond they were made in, and increasing. */
class EventIdsTests {

    private static final long NOW = 1_767_225_600_000L;

    private final AtomicLong clock = new AtomicLong(NOW);

    private final EventIds ids = new EventIds(this.clock::get);

    @Test
    void anEventIdIsAVersion7UuidThatCarriesTheTimeItWasMade() {
        UUID id = this.ids.nextId();

        assertThat(id.version()).isEqualTo(7);
        assertThat(id.variant()).as("the IETF variant").isEqualTo(2);
        assertThat(millis(id)).isEqualTo(NOW);
        assertThat(counter(id)).as("the first count of a millisecond").isZero();
    }

    @Test
    void theApplicationsIdsCarryTheTimeOfTheClockAtLeast() {
        long before = System.currentTimeMillis();
        UUID id = EventIds.next();

        assertThat(id.version()).isEqualTo(7);
        // Not bounded above: ids of a busy millisecond are lent from the next one.
        assertThat(millis(id)).isGreaterThanOrEqualTo(before);
    }

    @Test
    void idsMadeInALaterMillisecondSortAfterEarlierOnesAndCountFromZeroAgain() {
        UUID earlier = this.ids.nextId();
        UUID second = this.ids.nextId();
        this.clock.set(NOW + 1);
        UUID later = this.ids.nextId();

        assertThat(counter(second)).isEqualTo(1);
        assertThat(later).isGreaterThan(second).isGreaterThan(earlier);
        assertThat(later.toString())
                .as("as text too, which is how PostgreSQL orders uuid")
                .isGreaterThan(second.toString());
        assertThat(millis(later)).isEqualTo(NOW + 1);
        assertThat(counter(later)).isZero();
    }

    @Test
    void theId4097OfOneMillisecondIsLentFromTheNextMillisecondAndTheClockCatchesUpWithoutGoingBack() {
        List<UUID> made = new ArrayList<>();
        for (int i = 0; i < 4097; i++) {
            made.add(this.ids.nextId());
        }
        this.clock.set(NOW + 1);
        made.add(this.ids.nextId());

        assertThat(made).isSorted().doesNotHaveDuplicates();
        assertThat(made.stream().map(UUID::toString).toList()).as("as text too").isSorted();
        assertThat(millis(made.get(4095))).isEqualTo(NOW);
        assertThat(counter(made.get(4095))).isEqualTo(4095);
        assertThat(millis(made.get(4096))).as("lent from the next millisecond").isEqualTo(NOW + 1);
        assertThat(counter(made.get(4096))).isZero();
        assertThat(millis(made.get(4097)))
                .as("the next millisecond, after what it lent")
                .isEqualTo(NOW + 1);
        assertThat(counter(made.get(4097))).isEqualTo(1);
    }

    @Test
    void whenTheClockStepsBackIdsKeepIncreasingOnTheTimeAlreadyReached() {
        UUID before = this.ids.nextId();
        this.clock.set(NOW - 5_000);
        UUID after = this.ids.nextId();
        this.clock.set(NOW + 1);
        UUID caughtUp = this.ids.nextId();

        assertThat(after).isGreaterThan(before);
        assertThat(millis(after)).isEqualTo(NOW);
        assertThat(counter(after)).isEqualTo(1);
        assertThat(caughtUp).isGreaterThan(after);
        assertThat(millis(caughtUp)).isEqualTo(NOW + 1);
    }

    @Test
    void everyIdIsGreaterThanTheOneBeforeAlsoWithinOneMillisecond() {
        List<UUID> made = new ArrayList<>();
        for (int i = 0; i < 200_000; i++) {
            made.add(EventIds.next());
        }

        assertThat(made).isSorted().doesNotHaveDuplicates();
        assertThat(made.stream().map(UUID::toString).toList()).as("as text too").isSorted();
        assertThat(made).allSatisfy(id -> assertThat(id.version()).isEqualTo(7));
    }

    @Test
    void idsMadeOnManyThreadsAtOnceStillDiffer() throws InterruptedException {
        Set<UUID> made = ConcurrentHashMap.newKeySet();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread thread = new Thread(() -> {
                for (int i = 0; i < 50_000; i++) {
                    made.add(EventIds.next());
                }
            });
            thread.start();
            threads.add(thread);
        }
        for (Thread thread : threads) {
            thread.join();
        }

        assertThat(made).hasSize(200_000);
    }

    private static long millis(UUID id) {
        return id.getMostSignificantBits() >>> 16;
    }

    private static long counter(UUID id) {
        return id.getMostSignificantBits() & 0x0FFFL;
    }
}
