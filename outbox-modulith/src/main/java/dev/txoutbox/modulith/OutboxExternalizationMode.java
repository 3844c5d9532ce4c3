package dev.txoutbox.modulith;

import java.util.Map;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;
import org.springframework.modulith.events.ExternalizationMode;

/**
 * Makes {@code outbox} the default of {@value ExternalizationMode#PROPERTY}: adding this module means externalizing
 * through the outbox, and in that mode Spring Modulith's own broker modules register no listener that publishes after
 * the commit, so no event goes out twice. An application that sets the property itself keeps its value.
 */
final class OutboxExternalizationMode implements EnvironmentPostProcessor {

    static final String SOURCE = "outbox-modulith defaults";

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        environment
                .getPropertySources()
                .addLast(new MapPropertySource(SOURCE, Map.of(ExternalizationMode.PROPERTY, "outbox")));
    }
}
