package dev.txoutbox.modulith;

import dev.txoutbox.Outbox;
import dev.txoutbox.writer.OutboxWriterAutoConfiguration;
import java.util.Arrays;
import java.util.List;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.expression.BeanFactoryResolver;
import org.springframework.expression.spel.SpelEvaluationException;
import org.springframework.expression.spel.SpelMessage;
import org.springframework.expression.spel.support.DataBindingMethodResolver;
import org.springframework.expression.spel.support.DataBindingPropertyAccessor;
import org.springframework.expression.spel.support.StandardEvaluationContext;
import org.springframework.modulith.events.EventExternalizationConfiguration;
import org.springframework.modulith.events.ExternalizationMode;
import org.springframework.modulith.events.config.EventExternalizationAutoConfiguration;
import org.springframework.modulith.events.support.EventExternalizerModuleListener;
import org.springframework.modulith.events.support.OutboxEventExternalizerFactory;

/**
 * Auto-configuration of Spring Modulith event externalization through the outbox, in Modulith's {@code outbox}
 * externalization mode (this module's default): the events that the application's
 * {@link EventExternalizationConfiguration} selects ({@code @Externalized} ones by default) are written to the outbox
 * in the transaction that publishes them. Turned off with {@code spring.modulith.events.externalization.enabled=false}
 * or another {@code spring.modulith.events.externalization.mode}.
 */
@AutoConfiguration(after = {OutboxWriterAutoConfiguration.class, EventExternalizationAutoConfiguration.class})
@ConditionalOnClass(EventExternalizationConfiguration.class)
@ConditionalOnBooleanProperty(name = "spring.modulith.events.externalization.enabled", matchIfMissing = true)
@ConditionalOnProperty(name = ExternalizationMode.PROPERTY, havingValue = "outbox")
@ConditionalOnBean({Outbox.class, EventExternalizationConfiguration.class, OutboxEventExternalizerFactory.class})
public final class OutboxModulithAutoConfiguration {

    @Bean
    ExternalizedEventRecorder outboxExternalizedEventRecorder(
            EventExternalizationConfiguration configuration,
            OutboxEventExternalizerFactory externalizers,
            Outbox outbox,
            ListableBeanFactory beans) {
        refuseSecondExternalization(beans);
        // Routing templates read properties, call instance methods and reference beans (@name); no type references
        // (T(...) static calls), constructors or assignments, whatever text reaches them.
        StandardEvaluationContext evaluation = new StandardEvaluationContext();
        evaluation.setBeanResolver(new BeanFactoryResolver(beans));
        evaluation.setTypeLocator(type -> {
            throw new SpelEvaluationException(SpelMessage.TYPE_NOT_FOUND, type);
        });
        evaluation.setConstructorResolvers(List.of());
        evaluation.setMethodResolvers(List.of(DataBindingMethodResolver.forInstanceMethodInvocation()));
        evaluation.setPropertyAccessors(List.of(DataBindingPropertyAccessor.forReadOnlyAccess()));
        return new ExternalizedEventRecorder(configuration, externalizers, outbox, evaluation);
    }

    /**
     * Stops the start when a listener of Spring Modulith's own also externalizes events after the commit (one that
     * the application declared, since Modulith's broker modules declare none in this mode): every event would reach
     * the broker twice.
     */
    private static void refuseSecondExternalization(ListableBeanFactory beans) {
        String[] listeners = beans.getBeanNamesForType(EventExternalizerModuleListener.class, true, false);
        if (listeners.length > 0) {
            throw new IllegalStateException(("Spring Modulith events are externalized through the outbox, and the"
                            + " application also has Modulith's own externalizing listener %s, which publishes the"
                            + " same events again after the commit. Remove that bean, or set"
                            + " %s=module-listener to let Modulith publish instead of the outbox.")
                    .formatted(Arrays.toString(listeners), ExternalizationMode.PROPERTY));
        }
    }
}
