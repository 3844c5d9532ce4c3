package dev.txoutbox.store;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The key-lock row of a topic and key on MariaDB and MySQL, pinned: the first 16 bits of the MD5 of "topic key" in
 * UTF-8, the row that the server computed itself with {@code CONV(LEFT(MD5(CONCAT(topic, ' ', key)), 4), 16, 10)}
 * over a utf8mb4 connection before the dialect bound it. Writers of one key on older and newer instances must lock
 * the same row while a rolling upgrade runs both, or the key's events could reach Kafka out of commit order.
 */
class MariaDbKeyLockTests {

    @ParameterizedTest
    @CsvSource({"orders, order-1, 56575", "заказы, ключ-7, 4999", "t, k😀, 43212", "t, é, 50416"})
    void theRowIsTheOneTheServerComputedFromTheMd5OfTopicAndKey(String topic, String key, int row) {
        assertThat(OutboxDialects.mariaDb().keyLock(topic, key)).isEqualTo(row);
        assertThat(OutboxDialects.mySql().keyLock(topic, key)).isEqualTo(row);
    }
}
