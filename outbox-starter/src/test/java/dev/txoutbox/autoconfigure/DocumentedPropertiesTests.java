package dev.txoutbox.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The property table of docs/configuration.md lists exactly the properties that exist, with their real defaults. */
class DocumentedPropertiesTests {

    private static final Path PROPERTY_REFERENCE = Path.of("..", "docs", "configuration.md");

    private static final Pattern ROW =
            Pattern.compile("^\\| `(outbox\\.[a-z.-]+)(\\.\\*)?` \\| (`([^`]*)`)? *\\|", Pattern.MULTILINE);

    @Test
    void everyPropertyIsDocumentedWithItsDefault() throws IOException {
        Map<String, String> documented = new LinkedHashMap<>();
        Matcher row = ROW.matcher(Files.readString(PROPERTY_REFERENCE));
        while (row.find()) {
            documented.put(row.group(1), row.group(4) != null ? row.group(4) : "");
        }

        Map<String, String> generated = new LinkedHashMap<>();
        try (InputStream metadata = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
            assertThat(metadata).as("generated configuration metadata").isNotNull();
            JsonNode root = JsonMapper.builder().build().readTree(metadata);
            for (JsonNode property : root.get("properties")) {
                if (!property.get("name").asString().startsWith("outbox.")) {
                    continue; // the actuator endpoint's own management.endpoint.outbox.* settings are Boot's
                }
                JsonNode value = property.get("defaultValue");
                generated.put(property.get("name").asString(), value == null ? "" : value.asString());
            }
        }

        assertThat(documented).as("properties in %s", PROPERTY_REFERENCE).isEqualTo(generated);
    }
}
