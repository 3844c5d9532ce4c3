package dev.txoutbox.sample;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;

/** The one-command demo keeps working: it starts on embedded servers and every step of its walk-through passes. */
@ExtendWith(OutputCaptureExtension.class)
class EmbeddedSampleApplicationTests {

    @Test
    void demoWalksThroughTheWholeOrderStory(CapturedOutput output) {
        try (ConfigurableApplicationContext context = EmbeddedSampleApplication.start(
                "--server.port=0",
                "--sample.orders-topic=sample-orders-demo",
                // Smaller than the walk-through's own burst, to keep the suite fast.
                "--sample.demo.burst-orders=200",
                "--spring.main.banner-mode=off",
                "--logging.level.dev.txoutbox=WARN")) {
            assertThat(EmbeddedSampleApplication.runDemo(context)).isTrue();
        }

        assertThat(output.getOut())
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
}
