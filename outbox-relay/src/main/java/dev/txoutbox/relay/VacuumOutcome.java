package dev.txoutbox.relay;

import dev.txoutbox.store.OutboxDialect;
import java.sql.SQLWarning;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What {@link CycleStore#vacuum()} did.
 *
 * @param busy whether the vacuum skipped the table because something held a conflicting lock on it
 * @param warnings what else the database warned of, such as a user who may not vacuum the table ({@code
 *     permission denied to vacuum ..., skipping it}), each with its SQL state; empty when there was nothing
 */
record VacuumOutcome(boolean busy, List<String> warnings) {

    static VacuumOutcome of(@Nullable SQLWarning first) {
        boolean busy = false;
        List<String> warnings = new ArrayList<>();
        for (SQLWarning warning = first; warning != null; warning = warning.getNextWarning()) {
            if (OutboxDialect.VACUUM_BUSY.equals(warning.getSQLState())) {
                busy = true;
            } else {
                warnings.add(warning.getMessage() + " (SQL state " + warning.getSQLState() + ")");
            }
        }
        return new VacuumOutcome(busy, List.copyOf(warnings));
    }
}
