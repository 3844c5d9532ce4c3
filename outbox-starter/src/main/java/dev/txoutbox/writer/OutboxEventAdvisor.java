package dev.txoutbox.writer;

import dev.txoutbox.OutboxEvent;
import dev.txoutbox.OutboxEvents;
import java.util.function.Supplier;
import org.aopalliance.aop.Advice;
import org.springframework.aop.Pointcut;
import org.springframework.aop.support.AbstractPointcutAdvisor;
import org.springframework.aop.support.ComposablePointcut;
import org.springframework.aop.support.annotation.AnnotationMatchingPointcut;
import org.springframework.beans.factory.config.ConfigurableBeanFactory;

/**
 * Applies the {@link OutboxEvent} interceptor to annotated methods. It runs inside Spring's transaction interceptor
 * (it has the lowest precedence and is registered after it), so the events join the method's own transaction.
 */
final class OutboxEventAdvisor extends AbstractPointcutAdvisor {

    private final Pointcut pointcut = new ComposablePointcut(
                    AnnotationMatchingPointcut.forMethodAnnotation(OutboxEvent.class))
            .union(AnnotationMatchingPointcut.forMethodAnnotation(OutboxEvents.class));

    private final OutboxEventInterceptor interceptor;

    /**
     * Creates the advisor.
     *
     * @param writer supplies the writer on first use, so that creating the advisor creates no other beans
     * @param beanFactory resolves {@code ${...}} placeholders and {@code @bean} references
     */
    OutboxEventAdvisor(Supplier<OutboxWriter> writer, ConfigurableBeanFactory beanFactory) {
        this.interceptor = new OutboxEventInterceptor(writer, beanFactory);
        setOrder(LOWEST_PRECEDENCE);
    }

    @Override
    public Pointcut getPointcut() {
        return this.pointcut;
    }

    @Override
    public Advice getAdvice() {
        return this.interceptor;
    }
}
