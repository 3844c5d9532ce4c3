package dev.txoutbox.benchmark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Whether Linux's data access monitor (DAMON) runs on the machine. Some virtual machines run it to find memory they can
 * hand back to their host: its threads, {@code kdamond.N}, wake up at every sampling interval and check the pages they
 * sample; each pass takes CPU time from whatever else runs.
 */
final class KernelMemoryMonitor {

    private static final Path PROC = Path.of("/proc");

    private static final Path KDAMONDS = Path.of("/sys/kernel/mm/damon/admin/kdamonds");

    /** The kernel modules that run a monitor of their own, outside sysfs's list. */
    private static final List<String> MODULES = List.of("damon_reclaim", "damon_lru_sort", "damon_stat");

    private KernelMemoryMonitor() {}

    /**
     * {@code on} when a monitor runs, with what the monitors sysfs lists do (what they sample, how often, and what
     * they do to the pages they find idle) where it can be read; {@code off} when none runs; {@code unknown} when this
     * process cannot tell, as in a container, which does not see the kernel's threads.
     */
    static String describe() {
        List<String> monitors = new ArrayList<>();
        boolean running = kdamondRuns() || moduleEnabled();
        try (Stream<Path> kdamonds = Files.list(KDAMONDS)) {
            for (Path kdamond : kdamonds.filter(Files::isDirectory).sorted().toList()) {
                if (read(kdamond.resolve("state")).equals("on")) {
                    running = true;
                    monitors.add(describe(kdamond));
                }
            }
        } catch (IOException | UncheckedIOException | NumberFormatException ex) {
            // No sysfs list (a kernel without DAMON, or one whose monitor a module started), or files only root reads.
            monitors.clear();
        }
        if (running) {
            return monitors.isEmpty() ? "on" : "on (" + String.join("; ", monitors) + ")";
        }
        return seesKernelThreads() ? "off" : "unknown";
    }

    /** Whether this process sees the kernel's threads: outside a container, {@code kthreadd} is process 2. */
    private static boolean seesKernelThreads() {
        try {
            return read(PROC.resolve("2/comm")).equals("kthreadd");
        } catch (IOException ex) {
            return false;
        }
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
        } catch (IOException | UncheckedIOException ex) {
            return false;
        }
    }

    private static boolean moduleEnabled() {
        for (String module : MODULES) {
            try {
                if (read(Path.of("/sys/module", module, "parameters/enabled")).equals("Y")) {
                    return true;
                }
            } catch (IOException ex) {
                // Not built in, not loaded, or not readable.
            }
        }
        return false;
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
                contexts.add(read(context.resolve("operations")) + " sampled every "
                        + (sampleMicros >= 1_000 ? sampleMicros / 1_000 + " ms" : sampleMicros + " µs")
                        + (actions.isEmpty() ? "" : ", " + String.join(", ", actions)));
            }
        }
        String name = "kdamond " + kdamond.getFileName();
        return contexts.isEmpty() ? name : name + ": " + String.join(", ", contexts);
    }

    private static String read(Path file) throws IOException {
        return Files.readString(file).strip();
    }
}
