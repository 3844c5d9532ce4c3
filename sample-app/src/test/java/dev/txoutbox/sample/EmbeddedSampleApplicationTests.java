package dev.txoutbox.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The one-command demo keeps working: it starts on embedded servers, PostgreSQL or MariaDB, and every step of its
 * walk-through passes.
 */
@ExtendWith(OutputCaptureExtension.class)
class EmbeddedSampleApplicationTests {

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void demoWalksThroughTheWholeOrderStory(String database, CapturedOutput output) {
        try (ConfigurableApplicationContext context = EmbeddedSampleApplication.start(
                "--sample.database=" + database,
                "--server.port=0",
                "--sample.orders-topic=sample-orders-demo-" + database,
                // Smaller than the walk-through's own burst, to keep the suite fast.
                "--sample.demo.burst-orders=200",
                "--spring.main.banner-mode=off",
                "--logging.level.dev.txoutbox=WARN")) {
            assertThat(EmbeddedSampleApplication.runDemo(context)).isTrue();
            // The embedded servers take the place of docker-compose.yml's.
            assertThat(context.getEnvironment().getProperty("spring.docker.compose.enabled", Boolean.class))
                    .isFalse();
        }

        assertThat(output.getOut())
                .contains("on embedded " + (database.equals("mariadb") ? "MariaDB" : "PostgreSQL") + " and Kafka")
                .contains("[demo] placed order 1: ")
                .contains("[demo] changed order 1: ")
                .contains("[demo] deleted order 2 ")
                .contains("[demo] read model: order 2 is gone")
                .contains("[demo] an invalid order is refused with 400")
                .contains("[demo] burst: 200 orders placed in ")
                .contains("[demo] read model: it holds all 200 orders of the burst")
                .contains("[demo] done")
                .doesNotContain("FAILED");
    }

    @Test
    void anUnknownDatabaseIsRefusedWithTheArgumentToGive() {
        assertThatThrownBy(() -> EmbeddedSampleApplication.mariaDb("--sample.database=oracle"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--sample.database=oracle")
                .hasMessageContaining("--sample.database=mariadb");
    }
}
