package dev.txoutbox.writer;

import dev.txoutbox.OutboxEvent;
import dev.txoutbox.OutboxException;
import dev.txoutbox.OutboxMessage;
import java.lang.reflect.Method;
import java.util.ArrayList;
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
import org.springframework.core.MethodClassKey;
import org.springframework.core.ParameterNameDiscoverer;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.expression.Expression;
import org.springframework.expression.ParserContext;
import org.springframework.expression.spel.SpelCompilerMode;
import org.springframework.expression.spel.SpelParserConfiguration;
import org.springframework.expression.spel.standard.SpelExpressionParser;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.annotation.AnnotationTransactionAttributeSource;
import org.springframework.transaction.interceptor.TransactionAttribute;
import org.springframework.transaction.interceptor.TransactionAttributeSource;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.util.ClassUtils;
import org.springframework.util.function.SingletonSupplier;

/**
 * Writes the events of an {@link OutboxEvent} method after it returned normally, in the transaction it ran in.
 * What can be worked out once per method is: its annotations (read into plain values), the topics (placeholders
 * resolved at the first call), the messages' texts, and its transaction attribute. Expressions are parsed once.
 */
final class OutboxEventInterceptor implements MethodInterceptor {

    private final Supplier<OutboxWriter> writer;

    private final ConfigurableBeanFactory beanFactory;

    private final BeanFactoryResolver beanResolver;

    private final SpelExpressionParser parser;

    private final ParameterNameDiscoverer parameterNames = new DefaultParameterNameDiscoverer();

    private final Map<String, Expression> expressions = new ConcurrentHashMap<>();

    private final Map<String, Expression> templates = new ConcurrentHashMap<>();

    private final Map<MethodClassKey, Plan> plans = new ConcurrentHashMap<>();

    private final TransactionAttributeSource transactionAttributes = new AnnotationTransactionAttributeSource();

    OutboxEventInterceptor(Supplier<OutboxWriter> writer, ConfigurableBeanFactory beanFactory) {
        this.writer = SingletonSupplier.of(writer);
        this.beanFactory = beanFactory;
        this.beanResolver = new BeanFactoryResolver(beanFactory);
        // An expression is compiled to bytecode once it has run a hundred times: interpreted, the key expression took
        // a quarter of the writer's own time per event. Should the compiled form ever fail (a value of another type
        // than before, a null), the expression runs interpreted again, with the interpreter's errors.
        this.parser = new SpelExpressionParser(
                new SpelParserConfiguration(SpelCompilerMode.MIXED, beanFactory.getBeanClassLoader()));
    }

    @Override
    public @Nullable Object invoke(MethodInvocation invocation) throws Throwable {
        Object target = invocation.getThis();
        Class<?> targetClass = target != null
                ? AopUtils.getTargetClass(target)
                : invocation.getMethod().getDeclaringClass();
        MethodClassKey key = new MethodClassKey(invocation.getMethod(), targetClass);
        Plan plan = this.plans.get(key);
        if (plan == null) {
            plan = plan(invocation.getMethod(), targetClass);
            this.plans.put(key, plan);
        }
        if (plan.events().isEmpty()) {
            return invocation.proceed();
        }
        OutboxWriter outboxWriter = this.writer.get();
        // Fail before the method runs, so that nothing it does outside a transaction can stand without its event.
        outboxWriter.requireTransaction(plan.annotatedOrigin());
        requireOwnNewTransaction(plan);
        Object result = invocation.proceed();
        for (EventPlan event : plan.events()) {
            writeEvent(outboxWriter, event, plan.method(), invocation.getArguments(), result);
        }
        return result;
    }

    /** What is known of a method before it runs; fails when its annotations cannot work. */
    private Plan plan(Method invoked, Class<?> targetClass) {
        Method method = AopUtils.getMostSpecificMethod(invoked, targetClass);
        String origin = ClassUtils.getShortName(targetClass) + "." + method.getName() + "(..)";
        List<EventPlan> events = new ArrayList<>();
        for (OutboxEvent event : AnnotatedElementUtils.findMergedRepeatableAnnotations(method, OutboxEvent.class)) {
            if (event.payload().isEmpty() && method.getReturnType() == void.class) {
                throw new OutboxException(("%s returns void, so @OutboxEvent(topic = \"%s\") has no return value"
                                + " to send: set payload to an expression over the arguments, such as"
                                + " payload = \"#command\".")
                        .formatted(origin, event.topic()));
            }
            List<HeaderPlan> headers = new ArrayList<>();
            for (OutboxEvent.Header header : event.headers()) {
                headers.add(new HeaderPlan(header.name(), header.value()));
            }
            events.add(new EventPlan(
                    resolveTopic(event, origin),
                    "@OutboxEvent(topic = \"%s\") on %s".formatted(event.topic(), origin),
                    event.condition(),
                    event.key(),
                    event.payload(),
                    event.type().isEmpty() ? null : event.type(),
                    List.copyOf(headers)));
        }
        TransactionAttribute attribute = this.transactionAttributes.getTransactionAttribute(method, targetClass);
        boolean requiresNew = attribute != null
                && attribute.getPropagationBehavior() == TransactionDefinition.PROPAGATION_REQUIRES_NEW;
        return new Plan(
                method,
                origin,
                "@OutboxEvent method " + origin,
                List.copyOf(events),
                requiresNew ? ClassUtils.getQualifiedMethodName(method, targetClass) : null);
    }

    /**
     * This interceptor must run inside Spring's transaction interceptor, which it does by its order. Should another
     * configuration put it outside, a method that starts a new transaction of its own (REQUIRES_NEW) would have its
     * events written in the caller's transaction instead: that is refused rather than done silently.
     */
    private static void requireOwnNewTransaction(Plan plan) {
        if (plan.newTransactionName() != null
                && !plan.newTransactionName().equals(TransactionSynchronizationManager.getCurrentTransactionName())) {
            throw new OutboxException(("@OutboxEvent method %s runs outside the new transaction that its"
                            + " @Transactional(propagation = REQUIRES_NEW) starts, so its events would be written in"
                            + " the caller's transaction. The outbox advisor must come after Spring's transaction"
                            + " advisor: do not give the transaction advisor a lower precedence than the outbox"
                            + " advisor (both have the lowest precedence by default).")
                    .formatted(plan.origin()));
        }
    }

    private void writeEvent(
            OutboxWriter outboxWriter, EventPlan event, Method method, Object[] args, @Nullable Object result) {
        String where = event.where();
        MethodBasedEvaluationContext context =
                new MethodBasedEvaluationContext(new Root(method, args, result), method, args, this.parameterNames);
        context.setVariable("result", result);
        context.setBeanResolver(this.beanResolver);
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
        for (HeaderPlan header : event.headers()) {
            headers.put(header.name(), evaluateTemplate(header, context, where));
        }
        outboxWriter.write(new OutboxMessage(event.topic(), key, payload, event.type(), headers), where);
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

    private String evaluateTemplate(HeaderPlan header, MethodBasedEvaluationContext context, String where) {
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

    /**
     * An annotated method as the interceptor sees it.
     *
     * @param method the most specific method, on the target class
     * @param origin the method for messages, such as {@code OrderService.placeOrder(..)}
     * @param annotatedOrigin the same, for the message that there is no transaction
     * @param events its events, none when it has no {@code @OutboxEvent}
     * @param newTransactionName the name of the transaction the method starts with REQUIRES_NEW, or none
     */
    private record Plan(
            Method method,
            String origin,
            String annotatedOrigin,
            List<EventPlan> events,
            @Nullable String newTransactionName) {}

    /**
     * One {@code @OutboxEvent} of a method, its texts read from the annotation once.
     *
     * @param topic the topic, placeholders resolved
     * @param where the annotation and its method, for messages
     */
    private record EventPlan(
            String topic,
            String where,
            String condition,
            String key,
            String payload,
            @Nullable String type,
            List<HeaderPlan> headers) {}

    private record HeaderPlan(String name, String value) {}
}
