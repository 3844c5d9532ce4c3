package dev.txoutbox.store;

import java.util.Set;
import java.util.regex.Pattern;

/**
 * The name of the outbox table, checked once so that it can be placed into SQL text safely.
 *
 * @param value a lower-case unquoted PostgreSQL identifier, short enough for the names derived from it
 */
public record TableName(String value) {

    private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,47}");

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
        if (value == null || !IDENTIFIER.matcher(value).matches() || RESERVED.contains(value)) {
            throw new IllegalArgumentException(
                    ("Invalid outbox table name '%s': use a lower-case identifier, not an SQL key word, of at"
                                    + " most 48 letters, digits and underscores that starts with a letter or underscore"
                                    + " (pattern %s), for example '%s'. The table lives in the connection's current schema.")
                            .formatted(value, IDENTIFIER.pattern(), DEFAULT));
        }
    }

    /** The table of dead letters that belongs to this outbox table. */
    public TableName deadLetters() {
        return new TableName(this.value + "_dead_letter");
    }

    /** The table of event ids that consumers have processed. */
    public TableName processed() {
        return new TableName(this.value + "_processed");
    }

    @Override
    public String toString() {
        return value;
    }
}
