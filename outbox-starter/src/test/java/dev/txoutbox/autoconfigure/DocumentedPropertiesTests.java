package dev.txoutbox.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The documentation stays true: its property table lists exactly the properties that exist, with their real
 * defaults, and its relative links lead to files and headings that exist.
 */
class DocumentedPropertiesTests {

    private static final Path ROOT = Path.of("..");

    private static final Path PROPERTY_REFERENCE = ROOT.resolve("docs/configuration.md");

    private static final Pattern ROW =
            Pattern.compile("^\\| `(outbox\\.[a-z.-]+)(\\.\\*)?` \\| (`([^`]*)`)? *\\|", Pattern.MULTILINE);

    /** A Markdown link's target: {@code [text](target)}. */
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");

    private static final Pattern HEADING = Pattern.compile("^#+ (.+)$", Pattern.MULTILINE);

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

    @Test
    void everyRelativeLinkOfTheReadmeAndTheDocsLeadsToAFileAndHeadingThatExist() throws IOException {
        List<Path> pages = new ArrayList<>(List.of(ROOT.resolve("README.md"), ROOT.resolve("sample-app/README.md")));
        try (Stream<Path> docs = Files.list(ROOT.resolve("docs"))) {
            docs.filter(page -> page.toString().endsWith(".md")).sorted().forEach(pages::add);
        }

        List<String> broken = new ArrayList<>();
        int relative = 0;
        for (Path page : pages) {
            Matcher link = LINK.matcher(Files.readString(page));
            while (link.find()) {
                String target = link.group(1);
                if (target.matches("[a-z]+:.*")) {
                    continue; // https:, mailto: and the like
                }
                relative++;
                int hash = target.indexOf('#');
                String file = (hash < 0) ? target : target.substring(0, hash);
                Path linked =
                        file.isEmpty() ? page : page.getParent().resolve(file).normalize();
                if (!Files.exists(linked)) {
                    broken.add(page + ": " + target + " (no such file)");
                } else if (hash >= 0 && !anchors(linked).contains(target.substring(hash + 1))) {
                    broken.add(page + ": " + target + " (no such heading)");
                }
            }
        }

        assertThat(relative).as("relative links found").isPositive();
        assertThat(broken).as("broken links").isEmpty();
    }

    /** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens. */
    private static List<String> anchors(Path page) throws IOException {
        List<String> anchors = new ArrayList<>();
        Matcher heading = HEADING.matcher(Files.readString(page));
        while (heading.find()) {
            anchors.add(heading.group(1)
                    .strip()
                    .toLowerCase(Locale.ROOT)
                    .replaceAll("[^\\p{L}\\p{N} _-]", "")
                    .replace(' ', '-'));
        }
        return anchors;
    }
}
