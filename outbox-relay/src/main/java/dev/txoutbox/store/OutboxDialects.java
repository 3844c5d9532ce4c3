package dev.txoutbox.store;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.support.JdbcUtils;
import org.springframework.jdbc.support.MetaDataAccessException;

/** Finds the {@link OutboxDialect} for the database behind a {@link DataSource}. */
public final class OutboxDialects {

    private static final Logger log = LoggerFactory.getLogger(OutboxDialects.class);

    private static final List<OutboxDialect> DIALECTS =
            List.of(new PostgresDialect(), MariaDbDialect.mariaDb(), MariaDbDialect.mySql());

    private OutboxDialects() {}

    /** The PostgreSQL dialect. */
    public static OutboxDialect postgres() {
        return DIALECTS.get(0);
    }

    /** The MariaDB dialect. */
    public static OutboxDialect mariaDb() {
        return DIALECTS.get(1);
    }

    /** The MySQL dialect. */
    public static OutboxDialect mySql() {
        return DIALECTS.get(2);
    }

    /**
     * Asks the database for its product name and returns the dialect that serves it.
     *
     * @throws IllegalStateException when the database cannot be reached or its product is not supported
     */
    public static OutboxDialect detect(DataSource dataSource) {
        Database database;
        try {
            database = JdbcUtils.extractDatabaseMetaData(
                    dataSource,
                    metaData -> Database.of(
                            metaData.getDatabaseProductName(),
                            metaData.getDatabaseProductVersion(),
                            metaData.getDatabaseMajorVersion(),
                            metaData.getDatabaseMinorVersion()));
        } catch (MetaDataAccessException ex) {
            throw new IllegalStateException(
                    "Could not detect the database of the outbox: reading the JDBC metadata failed. Check that the"
                            + " DataSource can connect.",
                    ex);
        }
        for (OutboxDialect dialect : DIALECTS) {
            if (dialect.productName().equalsIgnoreCase(database.product())) {
                if (tooOld(database, dialect)) {
                    throw new IllegalStateException(
                            "The outbox needs %s %s or later, but the database is %s %s. Upgrade the database."
                                    .formatted(
                                            dialect.productName(),
                                            minimumVersion(dialect),
                                            database.product(),
                                            database.version()));
                }
                log.info("Outbox database detected: {} {}", database.product(), database.version());
                return dialect;
            }
        }
        throw new IllegalStateException("The outbox does not support the database '%s'. Supported: %s."
                .formatted(
                        database.product(),
                        DIALECTS.stream().map(OutboxDialect::productName).toList()));
    }

    /** The oldest version a dialect works on, as its product names it: PostgreSQL 12, MariaDB 10.6. */
    private static boolean tooOld(Database database, OutboxDialect dialect) {
        if (database.majorVersion() != dialect.minimumMajorVersion()) {
            return database.majorVersion() < dialect.minimumMajorVersion();
        }
        if (database.minorVersion() != dialect.minimumMinorVersion()) {
            return database.minorVersion() < dialect.minimumMinorVersion();
        }
        // The patch version is in the version text only, such as 8.0.16 or 8.0.16-log.
        Matcher patch = PATCH.matcher(database.version());
        return dialect.minimumPatchVersion() > 0
                && patch.lookingAt()
                && Integer.parseInt(patch.group(1)) < dialect.minimumPatchVersion();
    }

    private static final Pattern PATCH = Pattern.compile("\\d+\\.\\d+\\.(\\d+)");

    private static String minimumVersion(OutboxDialect dialect) {
        if (dialect.minimumPatchVersion() > 0) {
            return dialect.minimumMajorVersion() + "." + dialect.minimumMinorVersion() + "."
                    + dialect.minimumPatchVersion();
        }
        return (dialect.minimumMinorVersion() == 0)
                ? String.valueOf(dialect.minimumMajorVersion())
                : dialect.minimumMajorVersion() + "." + dialect.minimumMinorVersion();
    }

    private record Database(String product, String version, int majorVersion, int minorVersion) {

        /** MariaDB's version, as MySQL's driver reports it: product MySQL, version such as 5.5.5-10.5.27-MariaDB. */
        private static final Pattern MARIADB_VERSION = Pattern.compile("(?:5\\.5\\.5-)?(\\d+)\\.(\\d+)\\..*MariaDB.*");

        /**
         * What the driver reports, except that a MariaDB server that MySQL's driver reports as MySQL is MariaDB, of
         * the version in its version text: it lacks what the MySQL dialect needs of a MySQL of that number.
         */
        static Database of(String product, String version, int majorVersion, int minorVersion) {
            Matcher mariaDb = MARIADB_VERSION.matcher(version);
            if ("MySQL".equalsIgnoreCase(product) && mariaDb.matches()) {
                return new Database(
                        "MariaDB", version, Integer.parseInt(mariaDb.group(1)), Integer.parseInt(mariaDb.group(2)));
            }
            return new Database(product, version, majorVersion, minorVersion);
        }
    }
}
