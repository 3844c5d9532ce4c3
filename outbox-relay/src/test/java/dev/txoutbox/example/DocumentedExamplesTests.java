package dev.txoutbox.example;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The programs the documentation shows are the ones the tests compile and run: a code block after a
 * {@code <!-- verbatim: path -->} comment is that file of the repository, word for word.
 */
class DocumentedExamplesTests {

    private static final Path ROOT = Path.of("..");

    private static final Pattern VERBATIM =
            Pattern.compile("^<!-- verbatim: (\\S+) -->\\n```[a-z]*\\n(.*?)^```$", Pattern.MULTILINE | Pattern.DOTALL);

    @Test
    void everyVerbatimBlockOfTheDocsIsTheFileItNames() throws IOException {
        List<String> shown = new ArrayList<>();
        try (Stream<Path> docs = Files.list(ROOT.resolve("docs"))) {
            for (Path page : docs.filter(page -> page.toString().endsWith(".md"))
                    .sorted()
                    .toList()) {
                Matcher block = VERBATIM.matcher(Files.readString(page));
                while (block.find()) {
                    Path file = ROOT.resolve(block.group(1));
                    assertThat(file).as("the file named in %s", page).exists();
                    assertThat(block.group(2))
                            .as("the block of %s in %s", block.group(1), page)
                            .isEqualTo(Files.readString(file));
                    shown.add(block.group(1));
                }
            }
        }

        assertThat(shown)
                .as("files shown verbatim")
                .contains("outbox-relay/src/test/java/dev/txoutbox/example/BootFreeOutboxExample.java");
    }
}
