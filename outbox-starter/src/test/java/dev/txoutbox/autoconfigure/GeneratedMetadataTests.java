package dev.txoutbox.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import javax.sql.DataSource;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.Serializer;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.context.annotation.ImportCandidates;
import org.springframework.core.io.Resource;
import org.springframework.core.io.support.PathMatchingResourcePatternResolver;
import org.springframework.core.io.support.PropertiesLoaderUtils;
import org.springframework.transaction.PlatformTransactionManager;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The metadata the annotation processors generate at build time is there: the configuration metadata with the value
 * hints of {@code additional-spring-configuration-metadata.json}, which IDEs offer while a user types
 * {@code outbox.*}, and the auto-configuration metadata, with which Boot skips an auto-configuration whose classes are
 * missing before it loads it.
 */
class GeneratedMetadataTests {

    private static final String HINTED_PRODUCER_KEYS = "outbox.relay.producer.keys";

    @Test
    void theRelayProducerSettingsAreHintedWithRealKafkaProducerSettings() throws IOException {
        JsonNode metadata = configurationMetadata();

        List<String> properties = new ArrayList<>();
        metadata.get("properties")
                .forEach(property -> properties.add(property.get("name").asString()));
        assertThat(properties).contains("outbox.relay.producer");

        List<String> keys = new ArrayList<>();
        for (JsonNode hint : metadata.get("hints")) {
            if (hint.get("name").asString().equals(HINTED_PRODUCER_KEYS)) {
                hint.get("values").forEach(value -> {
                    assertThat(value.get("description"))
                            .as("description of %s", value.get("value"))
                            .isNotNull();
                    keys.add(value.get("value").asString());
                });
            }
        }
        assertThat(keys).as(HINTED_PRODUCER_KEYS).contains("compression.type", "linger.ms", "max.request.size");
        assertThat(ProducerConfig.configNames()).as("Kafka's producer settings").containsAll(keys);
        assertThat(keys)
                .as("settings the relay enforces, which no hint may suggest changing")
                .doesNotContain(ProducerConfig.ACKS_CONFIG, ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG);
    }

    @Test
    void theDataSourceAndTransactionManagerPropertiesAreHintedWithBeansOfTheirType() throws IOException {
        Map<String, String> targets = new HashMap<>();
        for (JsonNode hint : configurationMetadata().get("hints")) {
            JsonNode providers = hint.get("providers");
            if (providers != null && providers.get(0).get("name").asString().equals("spring-bean-reference")) {
                targets.put(
                        hint.get("name").asString(),
                        providers.get(0).get("parameters").get("target").asString());
            }
        }
        assertThat(targets)
                .containsEntry("outbox.datasource", DataSource.class.getName())
                .containsEntry("outbox.transaction-manager", PlatformTransactionManager.class.getName());
    }

    @Test
    void theSerializerPropertiesAreHintedWithKafkaSerializerClasses() throws IOException {
        Map<String, String> targets = new HashMap<>();
        for (JsonNode hint : configurationMetadata().get("hints")) {
            JsonNode providers = hint.get("providers");
            if (providers != null && providers.get(0).get("name").asString().equals("class-reference")) {
                targets.put(
                        hint.get("name").asString(),
                        providers.get(0).get("parameters").get("target").asString());
            }
        }
        assertThat(targets)
                .containsEntry("outbox.serialization.value-serializer", Serializer.class.getName())
                .containsEntry("outbox.serialization.key-serializer", Serializer.class.getName());
    }

    @Test
    void everyAutoConfigurationOfTheStarterHasItsConditionsInTheAutoConfigurationMetadata() throws IOException {
        Properties metadata = new Properties();
        for (Resource resource : new PathMatchingResourcePatternResolver()
                .getResources("classpath*:META-INF/spring-autoconfigure-metadata.properties")) {
            PropertiesLoaderUtils.fillProperties(metadata, resource);
        }

        List<String> ours = new ArrayList<>();
        ImportCandidates.load(AutoConfiguration.class, getClass().getClassLoader())
                .forEach(candidate -> {
                    if (candidate.startsWith("dev.txoutbox.")) {
                        ours.add(candidate);
                    }
                });

        assertThat(ours).as("the starter's auto-configurations").isNotEmpty();
        assertThat(ours)
                .allSatisfy(autoConfiguration -> assertThat(metadata.stringPropertyNames())
                        .as("auto-configuration metadata of %s", autoConfiguration)
                        .anyMatch(key -> key.startsWith(autoConfiguration + ".")));
    }

    private JsonNode configurationMetadata() throws IOException {
        try (InputStream metadata = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
            assertThat(metadata).as("generated configuration metadata").isNotNull();
            return JsonMapper.builder().build().readTree(metadata);
        }
    }
}
