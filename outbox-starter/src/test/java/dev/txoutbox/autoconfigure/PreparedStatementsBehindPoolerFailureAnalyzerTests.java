package dev.txoutbox.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txoutbox.store.ConnectionPoolerCheck;
import dev.txoutbox.store.ConnectionPoolerCheck.Pooling;
import dev.txoutbox.store.PreparedStatementsBehindPoolerException;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.BeanCreationException;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** The failure analysis of a pooler in transaction mode in front of server-side prepared statements. */
class PreparedStatementsBehindPoolerFailureAnalyzerTests {

    private final PreparedStatementsBehindPoolerFailureAnalyzer analyzer =
            new PreparedStatementsBehindPoolerFailureAnalyzer();

    @Test
    void namesTheDataSourceWhatWasSeenAndTheUrlToUse() {
        FailureAnalysis analysis = analyze("jdbc:postgresql://pgbouncer:6432/orders");

        assertThat(analysis.getDescription())
                .contains("jdbc:postgresql://pgbouncer:6432/orders")
                .contains("same server process")
                .contains("prepareThreshold=5");
        assertThat(analysis.getAction())
                .contains("JDBC URL of the outbox's DataSource (spring.datasource.url when Spring Boot creates it)")
                .contains("jdbc:postgresql://pgbouncer:6432/orders?prepareThreshold=0")
                .contains("max_prepared_statements")
                .contains("outbox.pooler.keeps-prepared-statements=true")
                .contains("outbox.pooler.check=false");
    }

    @Test
    void addsTheSettingToAUrlThatHasParametersAlready() {
        assertThat(analyze("jdbc:postgresql://pgbouncer:6432/orders?ssl=true").getAction())
                .contains("jdbc:postgresql://pgbouncer:6432/orders?ssl=true&prepareThreshold=0");
    }

    @Test
    void theSuggestedUrlLeavesThePasswordOutRatherThanItsMask() {
        assertThat(analyze("jdbc:postgresql://pgbouncer:6432/orders?password=***&ssl=true")
                        .getAction())
                .contains("jdbc:postgresql://pgbouncer:6432/orders?ssl=true&prepareThreshold=0")
                .doesNotContain("***");
    }

    private FailureAnalysis analyze(String url) {
        ConnectionPoolerCheck.Result result = new ConnectionPoolerCheck.Result(
                Pooling.TRANSACTION, url, 5, true, "two connections ran on the same server process (pid 42)");
        return this.analyzer.analyze(new BeanCreationException(
                "outboxSchema", "failed", new PreparedStatementsBehindPoolerException(result)));
    }
}
