package dev.txoutbox.testing;

import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.util.FileSystemUtils;

/**
 * A real PgBouncer (the {@code pgbouncer} binary of the machine, such as Debian's package) in front of the embedded
 * PostgreSQL server: its configuration in a temporary directory, trust authentication as the embedded server has,
 * a free port, and its log kept for failures. {@link #close()} stops it, so that none outlives its test.
 *
 * <p>Tests that need it call {@link #start(PoolMode)}, which skips the test (a JUnit assumption) on a machine without
 * the binary: {@code apt-get install pgbouncer} provides it.
 */
public final class PgBouncer implements AutoCloseable {

    /** How PgBouncer hands its server connections to clients. */
    public enum PoolMode {
        /** A client keeps one server connection for as long as it is connected. */
        SESSION,
        /** A client has a server connection for one transaction at a time. */
        TRANSACTION;

        String configValue() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private static final List<Path> BINARIES = List.of(Path.of("/usr/sbin/pgbouncer"), Path.of("/usr/bin/pgbouncer"));

    private static final Pattern VERSION = Pattern.compile("(\\d+)\\.(\\d+)");

    private final Process process;

    private final Path directory;

    private final int port;

    private final String version;

    private final Thread stopAtExit;

    private PgBouncer(Process process, Path directory, int port, String version, Thread stopAtExit) {
        this.process = process;
        this.directory = directory;
        this.port = port;
        this.version = version;
        this.stopAtExit = stopAtExit;
    }

    /** The pgbouncer binary of this machine, or the test is skipped. */
    public static Path binary() {
        Path binary = BINARIES.stream().filter(Files::isExecutable).findFirst().orElse(null);
        assumeThat(binary)
                .as("PgBouncer is not installed (looked for %s): install it, e.g. apt-get install pgbouncer", BINARIES)
                .isNotNull();
        return binary;
    }

    /** Starts a PgBouncer in front of the embedded PostgreSQL server and waits until it accepts connections. */
    public static PgBouncer start(PoolMode mode) {
        Path binary = binary();
        try {
            String version = version(binary);
            // Another process may take the free port before PgBouncer binds it: then PgBouncer exits, and a new port
            // is tried.
            for (int attempt = 1; ; attempt++) {
                PgBouncer bouncer = startOnFreePort(binary, version, mode);
                try {
                    bouncer.awaitListening();
                    return bouncer;
                } catch (RuntimeException | Error ex) {
                    String log = bouncer.log();
                    bouncer.close();
                    if (attempt == 3 || !log.contains("Address already in use")) {
                        throw ex;
                    }
                }
            }
        } catch (IOException ex) {
            throw new UncheckedIOException("Could not start PgBouncer", ex);
        }
    }

    private static PgBouncer startOnFreePort(Path binary, String version, PoolMode mode) throws IOException {
        EmbeddedPostgres postgres = EmbeddedInfrastructure.postgres();
        Path directory = Files.createTempDirectory("pgbouncer");
        // PgBouncer refuses to run as root: it then runs as nobody, who must read its files and write its log.
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxrwxrwx"));
        int port = freePort();
        Path users = write(directory.resolve("users.txt"), "\"postgres\" \"\"\n");
        Path log = directory.resolve("pgbouncer.log");
        Path config = write(directory.resolve("pgbouncer.ini"), """
                [databases]
                * = host=127.0.0.1 port=%d
                [pgbouncer]
                listen_addr = 127.0.0.1
                listen_port = %d
                unix_socket_dir =
                auth_type = trust
                auth_file = %s
                pool_mode = %s
                max_client_conn = 500
                default_pool_size = 20
                ignore_startup_parameters = extra_float_digits,options
                logfile = %s
                pidfile = %s
                """.formatted(
                        postgres.getPort(), port, users, mode.configValue(), log, directory.resolve("pgbouncer.pid")));
        List<String> command = new ArrayList<>(List.of(binary.toString()));
        if ("root".equals(System.getProperty("user.name"))) {
            command.addAll(List.of("-u", "nobody"));
        }
        command.add(config.toString());
        Process process = new ProcessBuilder(command)
                .directory(directory.toFile())
                .redirectErrorStream(true)
                .redirectOutput(directory.resolve("pgbouncer.out").toFile())
                .start();
        // Also when the test JVM ends without closing it, such as when a test run is aborted.
        Thread stopAtExit = new Thread(process::destroyForcibly, "pgbouncer-stop-at-exit");
        Runtime.getRuntime().addShutdownHook(stopAtExit);
        return new PgBouncer(process, directory, port, version, stopAtExit);
    }

    /** Waits until PgBouncer says that it listens on its port, which another process might have taken. */
    private void awaitListening() {
        String listening = "listening on 127.0.0.1:" + this.port;
        await().atMost(Duration.ofSeconds(20))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> {
                    if (!this.process.isAlive()) {
                        throw new IllegalStateException(
                                "PgBouncer exited with " + this.process.exitValue() + " at start-up:\n" + log());
                    }
                    return log().contains(listening) && accepts(this.port);
                });
    }

    /** The JDBC URL of a database through this PgBouncer, with extra URL parameters such as {@code prepareThreshold=0}. */
    public String jdbcUrl(String databaseUrl, String... parameters) {
        String database = databaseUrl.substring(databaseUrl.lastIndexOf('/') + 1, indexOrLength(databaseUrl, '?'));
        StringBuilder url =
                new StringBuilder("jdbc:postgresql://127.0.0.1:%d/%s?user=postgres".formatted(this.port, database));
        for (String parameter : parameters) {
            url.append('&').append(parameter);
        }
        return url.toString();
    }

    private static int indexOrLength(String text, char c) {
        int index = text.indexOf(c);
        return index >= 0 ? index : text.length();
    }

    /** The version line of the binary, such as {@code PgBouncer 1.18.0}. */
    public String version() {
        return this.version;
    }

    /** What PgBouncer logged so far, to explain a failure. */
    public String log() {
        StringBuilder text = new StringBuilder();
        for (String file : List.of("pgbouncer.out", "pgbouncer.log")) {
            Path path = this.directory.resolve(file);
            if (Files.exists(path)) {
                try {
                    text.append(Files.readString(path, StandardCharsets.UTF_8));
                } catch (IOException ex) {
                    text.append("(could not read ")
                            .append(path)
                            .append(": ")
                            .append(ex)
                            .append(")\n");
                }
            }
        }
        return text.toString();
    }

    /**
     * Stops PgBouncer at once, closing every connection, waits for it, and deletes its files. Up to 1.22 that is
     * SIGTERM; from 1.23 on SIGTERM waits for the clients to leave, and SIGQUIT is the immediate shutdown.
     */
    @Override
    public void close() {
        try {
            if (sendsImmediateShutdownOnQuit()) {
                new ProcessBuilder("kill", "-QUIT", Long.toString(this.process.pid()))
                        .start()
                        .waitFor(10, TimeUnit.SECONDS);
            } else {
                this.process.destroy();
            }
            if (!this.process.waitFor(10, TimeUnit.SECONDS)) {
                this.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (IOException ex) {
            this.process.destroyForcibly();
        } catch (InterruptedException ex) {
            this.process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(this.stopAtExit);
        } catch (IllegalStateException ex) {
            // The JVM is ending already, and the hook stops nothing that is still running.
        }
        try {
            FileSystemUtils.deleteRecursively(this.directory);
        } catch (IOException ex) {
            // A temporary directory: the system cleans it up in the end.
        }
    }

    /** Whether this version's immediate shutdown is SIGQUIT (1.23 and later) rather than SIGTERM. */
    private boolean sendsImmediateShutdownOnQuit() {
        Matcher version = VERSION.matcher(this.version);
        if (!version.find()) {
            return false;
        }
        int major = Integer.parseInt(version.group(1));
        int minor = Integer.parseInt(version.group(2));
        return major > 1 || (major == 1 && minor >= 23);
    }

    private static String version(Path binary) throws IOException {
        Process process = new ProcessBuilder(binary.toString(), "-V")
                .redirectErrorStream(true)
                .start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return output.lines().findFirst().orElse("PgBouncer (unknown version)").trim();
    }

    private static Path write(Path path, String text) throws IOException {
        Files.writeString(path, text, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-r--r--"));
        return path;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static boolean accepts(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException ex) {
            return false;
        }
    }
}
