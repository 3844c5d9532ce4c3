package dev.txoutbox.store;

import java.util.Set;
import java.util.regex.Pattern;

/**
 * The name of a table of the outbox, checked once so that it can be placed into SQL text safely.
 *
 * @param value a lower-case unquoted PostgreSQL identifier of at most 63 characters; an outbox table's has at most
 *     {@link #MAX_OUTBOX_TABLE_LENGTH}, so that the names derived from it fit too
 */
public record TableName(String value) {

    /** PostgreSQL's limit on identifiers, beyond which it shortens them. */
    private static final int MAX_LENGTH = 63;

    private static final String DEAD_LETTERS = "_dead_letter";

    private static final String PROCESSED = "_processed";

    private static final String KEY_LOCKS = "_key_lock";

    private static final String CYCLE_SLOTS = "_cycle_slot";

    /**
     * The longest suffix of a name that the migrations derive from the outbox table's: that of the dead-letter table's
     * unique constraint. PostgreSQL would shorten a longer name silently, and a shortened index name can clash with
     * the dead-letter table's own.
     */
    private static final String LONGEST_DERIVED_SUFFIX = DEAD_LETTERS + "_event_id_key";

    /** The longest name of an outbox table: every name derived from it must fit {@link #MAX_LENGTH}. */
    public static final int MAX_OUTBOX_TABLE_LENGTH = MAX_LENGTH - LONGEST_DERIVED_SUFFIX.length();

    private static final Pattern IDENTIFIER = identifier(MAX_LENGTH);

    private static final Pattern OUTBOX_TABLE = identifier(MAX_OUTBOX_TABLE_LENGTH);

    /** The table name used when none is configured. */
    public static final String DEFAULT = "outbox_event";

    // PostgreSQL's reserved key words, which cannot name a table unquoted.
    private static final Set<String> RESERVED = Set.of(
            "all",
            "analyse",
            "analyze",
            "and",
            "any",
            "array",
            "as",
            "asc",
            "asymmetric",
            "both",
            "case",
            "cast",
            "check",
            "collate",
            "column",
            "constraint",
            "create",
            "current_catalog",
            "current_date",
            "current_role",
            "current_time",
            "current_timestamp",
            "current_user",
            "default",
            "deferrable",
            "desc",
            "distinct",
            "do",
            "else",
            "end",
            "except",
            "false",
            "fetch",
            "for",
            "foreign",
            "from",
            "grant",
            "group",
            "having",
            "in",
            "initially",
            "intersect",
            "into",
            "lateral",
            "leading",
            "limit",
            "localtime",
            "localtimestamp",
            "not",
            "null",
            "offset",
            "on",
            "only",
            "or",
            "order",
            "placing",
            "primary",
            "references",
            "returning",
            "select",
            "session_user",
            "some",
            "symmetric",
            "system_user",
            "table",
            "then",
            "to",
            "trailing",
            "true",
            "union",
            "unique",
            "user",
            "using",
            "variadic",
            "when",
            "where",
            "window",
            "with");

    public TableName {
        check(value, IDENTIFIER, MAX_LENGTH, "table");
    }

    /**
     * The name of an outbox table, checked to be short enough for the names of the tables and indexes that belong to
     * it.
     *
     * @param value a lower-case unquoted PostgreSQL identifier of at most {@link #MAX_OUTBOX_TABLE_LENGTH} characters
     * @throws IllegalArgumentException when it is not
     */
    public static TableName outboxTable(String value) {
        check(value, OUTBOX_TABLE, MAX_OUTBOX_TABLE_LENGTH, "outbox table");
        return new TableName(value);
    }

    private static Pattern identifier(int maxLength) {
        return Pattern.compile("[a-z_][a-z0-9_]{0,%d}".formatted(maxLength - 1));
    }

    private static void check(String value, Pattern pattern, int maxLength, String what) {
        if (value == null || !pattern.matcher(value).matches() || RESERVED.contains(value)) {
            throw new IllegalArgumentException(
                    ("Invalid %s name '%s': use a lower-case identifier, not an SQL key word, of at most %d letters,"
                                    + " digits and underscores that starts with a letter or underscore (pattern %s),"
                                    + " for example '%s'.%s The table lives in the connection's current schema.")
                            .formatted(
                                    what,
                                    value,
                                    maxLength,
                                    pattern.pattern(),
                                    DEFAULT,
                                    (maxLength == MAX_LENGTH)
                                            ? ""
                                            : (" The names of its tables and indexes are derived from it, the longest"
                                                    + " ending in '" + LONGEST_DERIVED_SUFFIX + "', and must fit"
                                                    + " PostgreSQL's limit of " + MAX_LENGTH + " characters.")));
        }
    }

    /**
     * The table of dead letters that belongs to this outbox table.
     *
     * @throws IllegalArgumentException when this name is too long to name an outbox table
     */
    public TableName deadLetters() {
        return derived(DEAD_LETTERS);
    }

    /**
     * The table of event ids that consumers have processed.
     *
     * @throws IllegalArgumentException when this name is too long to name an outbox table
     */
    public TableName processed() {
        return derived(PROCESSED);
    }

    /**
     * The table whose rows writers lock by their topic's and key's hash, where the database has no transaction-scoped
     * advisory locks (MariaDB, MySQL).
     *
     * @throws IllegalArgumentException when this name is too long to name an outbox table
     */
    public TableName keyLocks() {
        return derived(KEY_LOCKS);
    }

    /**
     * The table whose rows are the relays' cycle slots, where the database has no transaction-scoped advisory locks.
     *
     * @throws IllegalArgumentException when this name is too long to name an outbox table
     */
    public TableName cycleSlots() {
        return derived(CYCLE_SLOTS);
    }

    private TableName derived(String suffix) {
        if (this.value.length() > MAX_OUTBOX_TABLE_LENGTH) {
            throw new IllegalArgumentException(("Invalid outbox table name '%s': it has %d characters, and an outbox"
                            + " table's name may have at most %d, so that the names derived from it, the longest"
                            + " '%s%s', fit PostgreSQL's limit of %d. Choose a shorter name.")
                    .formatted(
                            this.value,
                            this.value.length(),
                            MAX_OUTBOX_TABLE_LENGTH,
                            this.value,
                            LONGEST_DERIVED_SUFFIX,
                            MAX_LENGTH));
        }
        return new TableName(this.value + suffix);
    }

    @Override
    public String toString() {
        return value;
    }
}
