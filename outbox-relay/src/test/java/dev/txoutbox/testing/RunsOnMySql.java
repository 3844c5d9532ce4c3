package dev.txoutbox.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs a test class on MySQL where there is one: a server that {@code -Doutbox.test.mysql.url} names, or else a
 * container where Docker runs. Without either the class is skipped, as Testcontainers' {@code disabledWithoutDocker}
 * skips it.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(RunsOnMySql.Condition.class)
public @interface RunsOnMySql {

    /** Enables the class when a MySQL server is at hand. */
    final class Condition implements ExecutionCondition {

        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            String availability = MySqlServer.availability();
            return availability != null
                    ? ConditionEvaluationResult.enabled("Runs on " + availability)
                    : ConditionEvaluationResult.disabled("No MySQL server: Docker is not available, and "
                            + MySqlServer.URL_PROPERTY + " names none");
        }
    }
}
