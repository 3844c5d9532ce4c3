package dev.txoutbox.relay;

import org.jspecify.annotations.Nullable;

/**
 * A cycle's transaction, checked by {@link CycleStore#checkingIsolation}, runs at another isolation level than READ
 * COMMITTED, the one the claims are written for: under REPEATABLE READ, a claim that meets a row another cycle
 * changed since its snapshot fails, or reads rows that other relays deleted since. Thrown before anything was
 * claimed; the relay catches it and runs the cycle again at READ COMMITTED.
 */
final class NotReadCommittedException extends RuntimeException {

    private final @Nullable String isolation;

    NotReadCommittedException(@Nullable String isolation) {
        super("The relay cycle's transaction runs at isolation level "
                + (isolation != null ? isolation : "(not reported by the dialect)")
                + " instead of READ COMMITTED, which its claim needs; it claimed nothing.");
        this.isolation = isolation;
    }

    /** The isolation level the transaction ran at; null when the dialect's statement did not report it. */
    @Nullable
    String isolation() {
        return this.isolation;
    }
}
