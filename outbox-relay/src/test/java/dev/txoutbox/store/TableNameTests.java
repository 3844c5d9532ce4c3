package dev.txoutbox.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.catchIllegalArgumentException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.core.io.Resource;
import org.springframework.core.io.support.PathMatchingResourcePatternResolver;

class TableNameTests {

    @Test
    void acceptsALowerCaseIdentifier() {
        assertThat(new TableName("orders_outbox_2")).hasToString("orders_outbox_2");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "Outbox",
                "1outbox",
                "outbox; DROP TABLE orders",
                "public.outbox",
                "outbox-event",
                "order",
                "user"
            })
    void rejectsAnythingThatIsNotAPlainIdentifierAndSaysWhatWouldDo(String name) {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new TableName(name))
                .withMessageContaining("'" + name + "'")
                .withMessageContaining("outbox_event");
    }

    @Test
    void anOutboxTableNameLeavesRoomForTheNamesOfItsTables() {
        String longest = "o".repeat(TableName.MAX_OUTBOX_TABLE_LENGTH);

        assertThat(TableName.outboxTable(longest).deadLetters().value())
                .hasSize(TableName.MAX_OUTBOX_TABLE_LENGTH + "_dead_letter".length());
        assertThatIllegalArgumentException()
                .isThrownBy(() -> TableName.outboxTable(longest + "o"))
                .withMessageContaining("'" + longest + "o'")
                .withMessageContaining("at most " + TableName.MAX_OUTBOX_TABLE_LENGTH)
                .withMessageContaining("_dead_letter_event_id_key");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new TableName(longest + "o").deadLetters())
                .withMessageContaining("at most " + TableName.MAX_OUTBOX_TABLE_LENGTH);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void theLimitAnErrorStatesIsTheOneItsPatternEnforces(boolean outboxTable) {
        Function<String, TableName> validation = outboxTable ? TableName::outboxTable : TableName::new;
        String tooLong = "o".repeat(100);

        String message =
                catchIllegalArgumentException(() -> validation.apply(tooLong)).getMessage();

        Matcher stated = Pattern.compile("at most (\\d+) letters").matcher(message);
        Matcher pattern = Pattern.compile("\\{0,(\\d+)\\}").matcher(message);
        assertThat(stated.find()).as(message).isTrue();
        assertThat(pattern.find()).as(message).isTrue();
        int limit = Integer.parseInt(stated.group(1));
        assertThat(Integer.parseInt(pattern.group(1)) + 1).as(message).isEqualTo(limit);
        assertThat(validation.apply("o".repeat(limit)).value()).hasSize(limit);
        assertThatIllegalArgumentException().isThrownBy(() -> validation.apply("o".repeat(limit + 1)));
        assertThat(limit).isEqualTo(outboxTable ? TableName.MAX_OUTBOX_TABLE_LENGTH : 63);
    }

    @Test
    void everyNameTheMigrationsDeriveFromTheLongestOutboxTableNameFitsPostgresqlsLimit() throws IOException {
        String longest = TableName.outboxTable("o".repeat(TableName.MAX_OUTBOX_TABLE_LENGTH))
                .value();
        Resource[] scripts =
                new PathMatchingResourcePatternResolver().getResources("classpath*:db/outbox/postgresql/V*.sql");
        assertThat(scripts).isNotEmpty();

        List<String> names = new ArrayList<>();
        for (Resource script : scripts) {
            Matcher name = Pattern.compile("\\$\\{outbox_table\\}[a-z_]*")
                    .matcher(script.getContentAsString(StandardCharsets.UTF_8));
            while (name.find()) {
                names.add(name.group().replace("${outbox_table}", longest));
            }
        }

        // PostgreSQL would shorten a longer name silently, and the dead-letter table's index names would then clash
        // with the table's own name.
        assertThat(names)
                .contains(longest + "_dead_letter_event_id_key")
                .allSatisfy(name -> assertThat(name).hasSizeLessThanOrEqualTo(63));
    }
}
