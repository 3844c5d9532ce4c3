package dev.txoutbox.test;

import org.springframework.core.Ordered;
import org.springframework.test.context.TestContext;
import org.springframework.test.context.TestExecutionListener;

/**
 * Clears {@link WrittenEvents} before each test method, so that a test sees the events it wrote itself, not those of
 * the tests that ran before it in the same application context. It runs before the test's transaction begins.
 */
final class WrittenEventsTestExecutionListener implements TestExecutionListener, Ordered {

    /** Before Spring's {@code TransactionalTestExecutionListener} (4000), after dependency injection (2000). */
    private static final int ORDER = 3900;

    @Override
    public int getOrder() {
        return ORDER;
    }

    @Override
    public void beforeTestMethod(TestContext testContext) {
        if (testContext.hasApplicationContext()) {
            testContext
                    .getApplicationContext()
                    .getBeanProvider(WrittenEvents.class)
                    .ifAvailable(WrittenEvents::clear);
        }
    }
}
