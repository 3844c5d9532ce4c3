package dev.txoutbox.writer;

import dev.txoutbox.OutboxEvent;
import dev.txoutbox.OutboxException;
import dev.txoutbox.OutboxMessage;
import java.lang.reflect.Method;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.jspecify.annotations.Nullable;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.config.ConfigurableBeanFactory;
import org.springframework.context.expression.BeanFactoryResolver;
import org.springframework.context.expression.MethodBasedEvaluationContext;
import org.springframework.core.DefaultParameterNameDiscoverer;
import org.springframework.core.ParameterNameDiscoverer;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.expression.Expression;
import org.springframework.expression.ParserContext;
import org.springframework.expression.spel.standard.SpelExpressionParser;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.annotation.AnnotationTransactionAttributeSource;
import org.springframework.transaction.interceptor.TransactionAttribute;
import org.springframework.transaction.interceptor.TransactionAttributeSource;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.util.ClassUtils;

/**
 * Writes the events of an {@link OutboxEvent} method after it returned normally, in the transaction it ran in.
 * Expressions are parsed once and cached; the method's annotations are read once per method.
 */
final class OutboxEventInterceptor implements MethodInterceptor {

    private final Supplier<OutboxWriter> writer;

    private final ConfigurableBeanFactory beanFactory;

    private final SpelExpressionParser parser = new SpelExpressionParser();

    private final ParameterNameDiscoverer parameterNames = new DefaultParameterNameDiscoverer();

    private final Map<String, Expression> expressions = new ConcurrentHashMap<>();

    private final Map<String, Expression> templates = new ConcurrentHashMap<>();

    private final Map<Method, List<OutboxEvent>> annotations = new ConcurrentHashMap<>();

    private final TransactionAttributeSource transactionAttributes = new AnnotationTransactionAttributeSource();

    OutboxEventInterceptor(Supplier<OutboxWriter> writer, ConfigurableBeanFactory beanFactory) {
        this.writer = writer;
        this.beanFactory = beanFactory;
    }

    @Override
    public @Nullable Object invoke(MethodInvocation invocation) throws Throwable {
        Object target = invocation.getThis();
        Class<?> targetClass = target != null
                ? AopUtils.getTargetClass(target)
                : invocation.getMethod().getDeclaringClass();
        Method method = AopUtils.getMostSpecificMethod(invocation.getMethod(), targetClass);
        List<OutboxEvent> events = this.annotations.computeIfAbsent(
                method, m -> List.copyOf(AnnotatedElementUtils.findMergedRepeatableAnnotations(m, OutboxEvent.class)));
        if (events.isEmpty()) {
            return invocation.proceed();
        }
        String origin = ClassUtils.getShortName(targetClass) + "." + method.getName() + "(..)";
        OutboxWriter outboxWriter = this.writer.get();
        // Fail before the method runs, so that nothing it does outside a transaction can stand without its event.
        outboxWriter.requireTransaction("@OutboxEvent method " + origin);
        requireOwnNewTransaction(method, targetClass, origin);
        for (OutboxEvent event : events) {
            if (event.payload().isEmpty() && method.getReturnType() == void.class) {
                throw new OutboxException(("%s returns void, so @OutboxEvent(topic = \"%s\") has no return value"
                                + " to send: set payload to an expression over the arguments, such as"
                                + " payload = \"#command\".")
                        .formatted(origin, event.topic()));
            }
        }
        Object result = invocation.proceed();
        for (OutboxEvent event : events) {
            writeEvent(event, method, invocation.getArguments(), result, origin);
        }
        return result;
    }

    /**
     * This interceptor must run inside Spring's transaction interceptor, which it does by its order. Should another
     * configuration put it outside, a method that starts a new transaction of its own (REQUIRES_NEW) would have its
     * events written in the caller's transaction instead: that is refused rather than done silently.
     */
    private void requireOwnNewTransaction(Method method, Class<?> targetClass, String origin) {
        TransactionAttribute attribute = this.transactionAttributes.getTransactionAttribute(method, targetClass);
        if (attribute != null
                && attribute.getPropagationBehavior() == TransactionDefinition.PROPAGATION_REQUIRES_NEW
                && !ClassUtils.getQualifiedMethodName(method, targetClass)
                        .equals(TransactionSynchronizationManager.getCurrentTransactionName())) {
            throw new OutboxException(("@OutboxEvent method %s runs outside the new transaction that its"
                            + " @Transactional(propagation = REQUIRES_NEW) starts, so its events would be written in"
                            + " the caller's transaction. The outbox advisor must come after Spring's transaction"
                            + " advisor: do not give the transaction advisor a lower precedence than the outbox"
                            + " advisor (both have the lowest precedence by default).")
                    .formatted(origin));
        }
    }

    private void writeEvent(OutboxEvent event, Method method, Object[] args, @Nullable Object result, String origin) {
        String topic = resolveTopic(event, origin);
        String where = "@OutboxEvent(topic = \"%s\") on %s".formatted(event.topic(), origin);
        MethodBasedEvaluationContext context =
                new MethodBasedEvaluationContext(new Root(method, args, result), method, args, this.parameterNames);
        context.setVariable("result", result);
        context.setBeanResolver(new BeanFactoryResolver(this.beanFactory));
        if (!event.condition().isEmpty()) {
            Object condition = evaluate(event.condition(), "condition", context, where);
            if (!(condition instanceof Boolean)) {
                throw new OutboxException(
                        "%s: condition \"%s\" must yield true or false, but yielded %s. Fix the expression."
                                .formatted(where, event.condition(), condition));
            }
            if (!(Boolean) condition) {
                return;
            }
        }
        String key = null;
        if (!event.key().isEmpty()) {
            Object value = evaluate(event.key(), "key", context, where);
            if (value == null) {
                throw new OutboxException(("%s: key \"%s\" yielded null, but the event needs a key. Fix the"
                                + " expression, or leave key empty for an event without a key.")
                        .formatted(where, event.key()));
            }
            key = value.toString();
        }
        Object payload = event.payload().isEmpty() ? result : evaluate(event.payload(), "payload", context, where);
        Map<String, String> headers = new LinkedHashMap<>();
        for (OutboxEvent.Header header : event.headers()) {
            headers.put(header.name(), evaluateTemplate(header, context, where));
        }
        OutboxMessage message =
                new OutboxMessage(topic, key, payload, event.type().isEmpty() ? null : event.type(), headers);
        this.writer.get().write(message, where);
    }

    private String resolveTopic(OutboxEvent event, String origin) {
        String topic;
        try {
            topic = this.beanFactory.resolveEmbeddedValue(event.topic());
        } catch (IllegalArgumentException ex) {
            throw new OutboxException(
                    ("@OutboxEvent on %s: the topic \"%s\" could not be resolved: %s. Define the"
                                    + " property, or give the placeholder a default: ${name:default}.")
                            .formatted(origin, event.topic(), ex.getMessage()),
                    ex);
        }
        if (topic == null || topic.isBlank()) {
            throw new OutboxException(("@OutboxEvent on %s: the topic \"%s\" is blank. Name the Kafka topic, directly"
                            + " or through a ${...} placeholder.")
                    .formatted(origin, event.topic()));
        }
        return topic;
    }

    private @Nullable Object evaluate(
            String expression, String attribute, MethodBasedEvaluationContext context, String where) {
        try {
            return this.expressions
                    .computeIfAbsent(expression, this.parser::parseExpression)
                    .getValue(context);
        } catch (RuntimeException ex) {
            throw expressionFailed(expression, attribute, where, ex);
        }
    }

    private String evaluateTemplate(OutboxEvent.Header header, MethodBasedEvaluationContext context, String where) {
        try {
            Object value = this.templates
                    .computeIfAbsent(
                            header.value(),
                            text -> this.parser.parseExpression(text, ParserContext.TEMPLATE_EXPRESSION))
                    .getValue(context);
            if (value == null) {
                throw new OutboxException("%s: header '%s' = \"%s\" yielded null. Fix the expression."
                        .formatted(where, header.name(), header.value()));
            }
            return value.toString();
        } catch (OutboxException ex) {
            throw ex;
        } catch (RuntimeException ex) {
            throw expressionFailed(header.value(), "header '" + header.name() + "'", where, ex);
        }
    }

    private static OutboxException expressionFailed(
            String expression, String attribute, String where, RuntimeException ex) {
        return new OutboxException(
                ("%s: %s \"%s\" failed: %s. Fix the expression: arguments are #name (compile with -parameters) or"
                                + " #p0, #p1, ..., the return value is #result, beans are @beanName.")
                        .formatted(where, attribute, expression, ex.getMessage()),
                ex);
    }

    /**
     * The root object of the expressions: {@code #root.method}, {@code #root.args}, {@code #root.result}.
     *
     * @param method the annotated method
     * @param args its arguments
     * @param result its return value
     */
    record Root(Method method, Object[] args, @Nullable Object result) {}
}
