package dev.txoutbox.testing;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;

/**
 * A {@link RelayProcessMain} running in a JVM of its own, launched with the test JVM's java binary and class path.
 * Its output goes to a file under {@code target/relay-processes}, not to the test's console. {@link #close()} kills
 * it if it still runs, so that no relay outlives its test.
 */
public final class RelayProcess implements AutoCloseable {

    private final Process process;

    private final Path output;

    private RelayProcess(Process process, Path output) {
        this.process = process;
        this.output = output;
    }

    /**
     * Launches a relay process on a database and a broker, and waits until its relay has started.
     *
     * @param name names the file of the process's output
     * @param jdbcUrl the database of the outbox table
     * @param bootstrapServers the broker
     * @param timeout how long to wait for the relay to start
     */
    public static RelayProcess start(String name, String jdbcUrl, String bootstrapServers, Duration timeout) {
        return start(name, jdbcUrl, bootstrapServers, timeout, false);
    }

    /**
     * Launches a relay process on a database and a broker, in poll or in log mode, and waits until its relay has
     * started (in log mode: started, not yet reading the slot of {@link LogMode#log}).
     *
     * @param name names the file of the process's output
     * @param jdbcUrl the database of the outbox table
     * @param bootstrapServers the broker
     * @param timeout how long to wait for the relay to start
     * @param logMode whether the relay reads the table's commits from the log, as {@link LogMode#relay} builds it
     */
    public static RelayProcess start(
            String name, String jdbcUrl, String bootstrapServers, Duration timeout, boolean logMode) {
        Path output = Path.of("target", "relay-processes", name + ".log").toAbsolutePath();
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx256m");
        String logging = System.getProperty("logback.configurationFile");
        if (logging != null) {
            command.add("-Dlogback.configurationFile=" + logging);
        }
        for (String property : List.of(MySqlServer.URL_PROPERTY, MySqlServer.PASSWORD_PROPERTY)) {
            String value = System.getProperty(property);
            if (value != null) {
                command.add("-D" + property + "=" + value);
            }
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(RelayProcessMain.class.getName());
        command.add(jdbcUrl);
        command.add(bootstrapServers);
        if (logMode) {
            command.add(RelayProcessMain.LOG_MODE);
        }
        Process process;
        try {
            Files.createDirectories(output.getParent());
            process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .start();
        } catch (IOException ex) {
            throw new UncheckedIOException("Could not launch a relay process with " + command, ex);
        }
        RelayProcess relay = new RelayProcess(process, output);
        try {
            await().atMost(timeout).pollInterval(Duration.ofMillis(50)).until(() -> {
                if (!process.isAlive()) {
                    throw new IllegalStateException("The relay process exited with " + process.exitValue()
                            + " before its relay started; its output is in " + output + ":\n" + relay.output());
                }
                return relay.output().contains(RelayProcessMain.STARTED);
            });
        } catch (RuntimeException | Error ex) {
            relay.close();
            throw ex;
        }
        return relay;
    }

    /**
     * Waits until a condition holds, as {@code await().atMost(timeout).until(condition)} does, and no longer than
     * the process runs; when it does not hold in time, the failure carries what the process wrote, since the
     * condition is most often about what the process does.
     *
     * @param what what the test waits for, for the failure's message
     */
    public void awaitUntil(String what, Duration timeout, Callable<Boolean> condition) {
        try {
            await().atMost(timeout).until(() -> {
                if (!this.process.isAlive()) {
                    throw new IllegalStateException("the relay process exited");
                }
                return condition.call();
            });
        } catch (ConditionTimeoutException | IllegalStateException ex) {
            throw new AssertionError(
                    "Waited for " + what + " (at most " + timeout + "); the relay process "
                            + (this.process.isAlive() ? "still runs" : "exited with " + this.process.exitValue())
                            + ", its output (" + this.output + "):\n" + output(),
                    ex);
        }
    }

    /** Kills the process with SIGKILL, as the kernel's out-of-memory killer or {@code kill -9} would, and waits. */
    public int kill() throws InterruptedException {
        this.process.destroyForcibly();
        if (!this.process.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("The relay process " + this.process.pid() + " did not die of SIGKILL");
        }
        return this.process.exitValue();
    }

    /**
     * Freezes the process with SIGSTOP: its threads stop where they are, its connections stay open, and it neither
     * sends nor commits until {@link #resume()}.
     */
    public void pause() {
        signal("STOP");
    }

    /** Lets a paused process go on, with SIGCONT. */
    public void resume() {
        signal("CONT");
    }

    private void signal(String signal) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(this.process.pid()))
                    .redirectErrorStream(true)
                    .start();
            int exit = kill.waitFor();
            if (exit != 0) {
                throw new IllegalStateException("kill -" + signal + " " + this.process.pid() + " exited with " + exit
                        + ": " + new String(kill.getInputStream().readAllBytes()));
            }
        } catch (IOException ex) {
            throw new UncheckedIOException("Could not send SIG" + signal + " to the relay process", ex);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while sending SIG" + signal + " to the relay process", ex);
        }
    }

    /** Whether the process still runs. */
    public boolean isAlive() {
        return this.process.isAlive();
    }

    /** What the process wrote to its standard output and error so far. */
    public String output() {
        try {
            return Files.readString(this.output);
        } catch (IOException ex) {
            return "(could not read " + this.output + ": " + ex + ")";
        }
    }

    /** Where the process's output goes. */
    public Path outputFile() {
        return this.output;
    }

    @Override
    public void close() {
        if (this.process.isAlive()) {
            try {
                kill();
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
