package dev.txoutbox.sample.monitoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The dashboard's failure panels, which count a series that appeared within their window from zero, evaluated by
 * {@code promtool test rules} on the cases of monitoring/prometheus/failure-panels.test.yml: a first failure, a
 * restart, one failed scrape, a network partition, a Prometheus that starts scraping late, several instances.
 */
class FailurePanelQueriesTests {

    private static final Path CASES = Path.of("..", "monitoring/prometheus/failure-panels.test.yml");

    private static final Path PROMTOOL = Path.of("/usr/bin/promtool");

    private static final Pattern EXPRESSION = Pattern.compile("^\\s*- expr: '(.*)'\\s*$", Pattern.MULTILINE);

    @Test
    void theCasesEvaluateExactlyTheFailurePanelsQueriesOfTheDashboard() throws IOException {
        Set<String> dashboard = new TreeSet<>();
        DashboardQueriesTests.metricsByQuery().keySet().stream()
                .filter(query -> query.contains(" unless "))
                .forEach(dashboard::add);
        Set<String> cases = new TreeSet<>();
        Matcher expressions = EXPRESSION.matcher(Files.readString(CASES));
        while (expressions.find()) {
            cases.add(expressions.group(1));
        }
        assertThat(dashboard).as("failure panels' queries of the dashboard").hasSize(2);
        assertThat(cases).as("expressions of %s", CASES).isEqualTo(dashboard);
    }

    @Test
    void theFailurePanelsShowEachFailureOnceAndNeverAnOldCountAsNew() throws IOException, InterruptedException {
        assumeThat(Files.isExecutable(PROMTOOL))
                .as("no %s: apt-get install prometheus (Debian, Ubuntu) to run this test", PROMTOOL)
                .isTrue();
        // Its output goes to a file, so that a promtool that hangs is ended by the wait rather than blocking a read.
        Path log = Files.createTempFile("promtool", ".log");
        Process promtool = new ProcessBuilder(List.of(PROMTOOL.toString(), "test", "rules", CASES.toString()))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        try {
            boolean ended = promtool.waitFor(60, TimeUnit.SECONDS);
            String output = Files.readString(log, StandardCharsets.UTF_8);
            assertThat(ended).as("promtool ended within 60 s: %s", output).isTrue();
            assertThat(promtool.exitValue())
                    .as("promtool test rules %s:%n%s", CASES, output)
                    .isZero();
        } finally {
            promtool.destroyForcibly();
            Files.deleteIfExists(log);
        }
    }
}
