package dev.txoutbox.relay.postgresql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

import dev.txoutbox.relay.CommitLog;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/** The decoder of pgoutput (protocol 1) messages, fed with messages built byte by byte as the server sends them. */
class PgOutputDecoderTests {

    private static final int TABLE_OID = 16_400;

    private static final int OTHER_OID = 16_500;

    private final PgOutputDecoder decoder = new PgOutputDecoder(TABLE_OID, "id");

    @Test
    void aCommittedTransactionGivesTheIdsOfItsInsertsInOrderAndTheCommitsEndPosition() {
        accept(begin());
        accept(relation(TABLE_OID, "outbox_event", "topic", "id", "payload"));
        accept(insert(TABLE_OID, "t", "7", "{}"));
        accept(insert(TABLE_OID, null, "3", null));

        CommitLog.Commit commit = accept(commit(0x100, 0x180));

        assertThat(commit).isNotNull();
        assertThat(commit.position()).isEqualTo(0x180);
        assertThat(commit.ids()).containsExactly(7, 3);
        assertThat(this.decoder.inTransaction()).isFalse();
    }

    @Test
    void nullAndUnchangedColumnsBeforeTheIdAreSkipped() {
        accept(begin());
        accept(relation(TABLE_OID, "outbox_event", "key", "headers", "id"));
        accept(insert(TABLE_OID, Column.NULL, Column.UNCHANGED, Column.text("42")));

        assertThat(accept(commit(1, 2)).ids()).containsExactly(42);
    }

    @Test
    void insertsIntoAnotherTableAndMessagesOfNoUseAreSkipped() {
        accept(begin());
        accept(relation(OTHER_OID, "orders", "id", "total"));
        accept(relation(TABLE_OID, "outbox_event", "id"));
        accept(insert(OTHER_OID, "1", "9.99"));
        accept(type());
        accept(origin());
        accept(simple('U'));
        accept(simple('D'));
        accept(simple('T'));
        accept(simple('M'));
        accept(insert(TABLE_OID, "5"));
        accept(insert(OTHER_OID, "2", "1.00"));

        assertThat(accept(commit(1, 2)).ids()).containsExactly(5);
    }

    @Test
    void anInsertIntoARelationNeverDescribedThatIsNotTheTableIsSkipped() {
        accept(begin());
        accept(insert(OTHER_OID, "1"));

        assertThat(accept(commit(1, 2)).ids()).isEmpty();
    }

    @Test
    void aTransactionWithoutInsertsIntoTheTableGivesNoIdsButItsPosition() {
        accept(begin());
        accept(relation(OTHER_OID, "orders", "id"));
        accept(insert(OTHER_OID, "1"));
        assertThat(this.decoder.inTransaction()).isTrue();

        CommitLog.Commit commit = accept(commit(1, 2));

        assertThat(commit.ids()).isEmpty();
        assertThat(commit.position()).isEqualTo(2);
        assertThat(this.decoder.inTransaction()).isFalse();
    }

    @Test
    void aCommitWithoutABeginGivesNothing() {
        assertThat(accept(commit(1, 2))).isNull();
    }

    @Test
    void aTransactionOfManyInsertsKeepsThemAll() {
        accept(begin());
        accept(relation(TABLE_OID, "outbox_event", "id"));
        for (int id = 1; id <= 100; id++) {
            accept(insert(TABLE_OID, Integer.toString(id)));
        }

        long[] ids = accept(commit(1, 2)).ids();

        assertThat(ids).hasSize(100).startsWith(1, 2).endsWith(99, 100);
    }

    @Test
    void eachTransactionGivesOnlyItsOwnIds() {
        accept(begin());
        accept(relation(TABLE_OID, "outbox_event", "id"));
        accept(insert(TABLE_OID, "1"));
        assertThat(accept(commit(10, 20)).ids()).containsExactly(1);

        accept(begin());
        accept(insert(TABLE_OID, "2"));
        accept(insert(TABLE_OID, "3"));
        CommitLog.Commit second = accept(commit(30, 40));

        assertThat(second.ids()).containsExactly(2, 3);
        assertThat(second.position()).isEqualTo(40);
    }

    @Test
    void anInsertIntoTheTableBeforeItsRelationFailsClearly() {
        accept(begin());

        assertThatIllegalStateException()
                .isThrownBy(() -> accept(insert(TABLE_OID, "1")))
                .withMessageContaining("before the description of its columns");
    }

    @Test
    void anInsertOutsideATransactionFails() {
        accept(relation(TABLE_OID, "outbox_event", "id"));

        assertThatIllegalStateException()
                .isThrownBy(() -> accept(insert(TABLE_OID, "1")))
                .withMessageContaining("outside a transaction");
    }

    @Test
    void theTablesRelationWithoutTheIdColumnFails() {
        assertThatIllegalStateException()
                .isThrownBy(() -> accept(relation(TABLE_OID, "outbox_event", "topic")))
                .withMessageContaining("no column 'id'");
    }

    @Test
    void anInsertWhoseIdIsNullFails() {
        accept(begin());
        accept(relation(TABLE_OID, "outbox_event", "id"));

        assertThatIllegalStateException()
                .isThrownBy(() -> accept(insert(TABLE_OID, Column.NULL)))
                .withMessageContaining("without an id");
    }

    @Test
    void anUnknownMessageTypeFailsNamingIt() {
        assertThatIllegalStateException().isThrownBy(() -> accept(simple('Z'))).withMessageContaining("'Z'");
    }

    private CommitLog.@Nullable Commit accept(byte[] message) {
        return this.decoder.accept(ByteBuffer.wrap(message));
    }

    private static byte[] begin() {
        return message(out -> {
            out.writeByte('B');
            out.writeLong(0x200); // final position
            out.writeLong(0); // commit time
            out.writeInt(1234); // xid
        });
    }

    private static byte[] commit(long commitPosition, long endPosition) {
        return message(out -> {
            out.writeByte('C');
            out.writeByte(0);
            out.writeLong(commitPosition);
            out.writeLong(endPosition);
            out.writeLong(0); // commit time
        });
    }

    private static byte[] relation(int oid, String name, String... columns) {
        return message(out -> {
            out.writeByte('R');
            out.writeInt(oid);
            string(out, "public");
            string(out, name);
            out.writeByte('d');
            out.writeShort(columns.length);
            for (String column : columns) {
                out.writeByte(0);
                string(out, column);
                out.writeInt(20); // bigint
                out.writeInt(-1);
            }
        });
    }

    private static byte[] insert(int oid, @Nullable String... values) {
        Column[] columns = new Column[values.length];
        for (int i = 0; i < values.length; i++) {
            columns[i] = values[i] != null ? Column.text(values[i]) : Column.NULL;
        }
        return insert(oid, columns);
    }

    private static byte[] insert(int oid, Column... columns) {
        return message(out -> {
            out.writeByte('I');
            out.writeInt(oid);
            out.writeByte('N');
            out.writeShort(columns.length);
            for (Column column : columns) {
                out.writeByte(column.kind());
                if (column.kind() == 't') {
                    byte[] text = column.text().getBytes(StandardCharsets.UTF_8);
                    out.writeInt(text.length);
                    out.write(text);
                }
            }
        });
    }

    private static byte[] type() {
        return message(out -> {
            out.writeByte('Y');
            out.writeInt(3_000);
            string(out, "public");
            string(out, "mood");
        });
    }

    private static byte[] origin() {
        return message(out -> {
            out.writeByte('O');
            out.writeLong(0x100);
            string(out, "elsewhere");
        });
    }

    private static byte[] simple(char type) {
        return message(out -> {
            out.writeByte(type);
            out.writeInt(OTHER_OID);
        });
    }

    private static void string(DataOutputStream out, String value) throws IOException {
        out.write(value.getBytes(StandardCharsets.UTF_8));
        out.writeByte(0);
    }

    private static byte[] message(Body body) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            body.write(out);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return bytes.toByteArray();
    }

    private interface Body {
        void write(DataOutputStream out) throws IOException;
    }

    /** One column of a tuple: text, null ('n') or an unchanged TOASTed value ('u'). */
    private record Column(char kind, String text) {

        static final Column NULL = new Column('n', "");

        static final Column UNCHANGED = new Column('u', "");

        static Column text(String text) {
            return new Column('t', text);
        }
    }
}
