package dev.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.junit.jupiter.api.Test;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.transaction.TransactionSystemException;

/** How the relay describes an error in a row's last error, a dead letter, a log line. */
class ErrorDescriptionTests {

    @Test
    void namesTheInnermostCauseWithItsMessageAndTheOutermostWrapperByTypeOnly() {
        Throwable error = new ExecutionException(new KafkaException(
                "Failed to send", new RecordTooLargeException("The request included a message larger than the max")));

        assertThat(FailureRecorder.describe(error))
                .isEqualTo("org.apache.kafka.common.errors.RecordTooLargeException: The request included a message"
                        + " larger than the max (reported as KafkaException)");
    }

    @Test
    void aFuturesOwnWrappersAreNotNamed() {
        Throwable error = new CompletionException(new IllegalStateException("broker said no"));

        assertThat(FailureRecorder.describe(error)).isEqualTo("java.lang.IllegalStateException: broker said no");
    }

    @Test
    void whenTheRollbackFailedTooTheCauseIsWhatMadeTheTransactionRollBack() {
        TransactionSystemException rollbackFailed =
                new TransactionSystemException("JDBC rollback failed", new SQLException("Connection is closed"));
        rollbackFailed.initApplicationException(new DataAccessResourceFailureException(
                "delete failed", new SQLException("terminating connection due to administrator command")));

        assertThat(FailureRecorder.describe(rollbackFailed))
                .startsWith("java.sql.SQLException: terminating connection due to administrator command")
                .endsWith("(reported as DataAccessResourceFailureException)");
    }
}
