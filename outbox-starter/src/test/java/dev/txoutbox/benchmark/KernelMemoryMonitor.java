package dev.txoutbox.benchmark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Whether Linux's data access monitor (DAMON) runs on the machine. Some virtual machines run it to find memory they can
 * hand back to their host: its threads, {@code kdamond.N}, wake up at every sampling interval and check the pages they
 * sample, and on a machine of two cores each pass takes a core for several milliseconds, a pause that every latency
 * figure of the run can show.
 */
final class KernelMemoryMonitor {

    private static final Path PROC = Path.of("/proc");

    private static final Path KDAMONDS = Path.of("/sys/kernel/mm/damon/admin/kdamonds");

    private KernelMemoryMonitor() {}

    /**
     * {@code off} when no {@code kdamond} thread runs (or the system has no {@code /proc}), otherwise {@code on} with
     * what the monitors that sysfs shows do: what they sample, how often, and what they do to the pages they find
     * idle.
     */
    static String describe() {
        if (!Files.isDirectory(PROC) || !kdamondRuns()) {
            return "off";
        }
        List<String> monitors = new ArrayList<>();
        try (Stream<Path> kdamonds = Files.list(KDAMONDS)) {
            for (Path kdamond : kdamonds.filter(Files::isDirectory).sorted().toList()) {
                if (read(kdamond.resolve("state")).equals("on")) {
                    monitors.add(describe(kdamond));
                }
            }
        } catch (IOException | RuntimeException ex) {
            // A monitor that a kernel module started (damon_reclaim, damon_lru_sort) is not in sysfs's list.
        }
        return monitors.isEmpty() ? "on" : "on (" + String.join("; ", monitors) + ")";
    }

    private static boolean kdamondRuns() {
        try (Stream<Path> processes = Files.list(PROC)) {
            return processes
                    .filter(process -> process.getFileName().toString().chars().allMatch(Character::isDigit))
                    .anyMatch(process -> {
                        try {
                            return read(process.resolve("comm")).startsWith("kdamond");
                        } catch (IOException ex) {
                            // The process ended meanwhile.
                            return false;
                        }
                    });
        } catch (IOException ex) {
            return false;
        }
    }

    private static String describe(Path kdamond) throws IOException {
        List<String> contexts = new ArrayList<>();
        try (Stream<Path> each = Files.list(kdamond.resolve("contexts"))) {
            for (Path context : each.filter(Files::isDirectory).sorted().toList()) {
                long sampleMicros = Long.parseLong(read(context.resolve("monitoring_attrs/intervals/sample_us")));
                List<String> actions = new ArrayList<>();
                try (Stream<Path> schemes = Files.list(context.resolve("schemes"))) {
                    for (Path scheme :
                            schemes.filter(Files::isDirectory).sorted().toList()) {
                        actions.add(read(scheme.resolve("action")));
                    }
                }
                contexts.add(read(context.resolve("operations")) + " sampled every " + sampleMicros / 1_000 + " ms"
                        + (actions.isEmpty() ? "" : ", " + String.join(", ", actions)));
            }
        }
        return "kdamond " + kdamond.getFileName() + ": " + String.join(", ", contexts);
    }

    private static String read(Path file) throws IOException {
        return Files.readString(file).strip();
    }
}
