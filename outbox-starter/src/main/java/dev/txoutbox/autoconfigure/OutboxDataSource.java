package dev.txoutbox.autoconfigure;

import java.util.Arrays;
import java.util.List;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.BeanWrapper;
import org.springframework.beans.PropertyAccessorFactory;
import org.springframework.beans.factory.BeanFactoryUtils;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.jdbc.datasource.TransactionAwareDataSourceProxy;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.ResourceTransactionManager;

/**
 * Chooses the DataSource that holds the outbox tables: the bean that {@code outbox.datasource} names, else the
 * application's only DataSource or its {@code @Primary} one; and checks that {@code outbox.transaction-manager}, when
 * set, manages that DataSource. Every other part of the outbox takes the DataSource from the store built on it.
 */
final class OutboxDataSource {

    private OutboxDataSource() {}

    /**
     * The outbox's DataSource.
     *
     * @throws OutboxDataSourceException when the named bean is not a DataSource, or when none is named and the
     *     application has several without a {@code @Primary} one
     */
    static DataSource resolve(ListableBeanFactory beans, OutboxProperties properties) {
        List<String> candidates = candidates(beans);
        String name = properties.getDatasource();
        if (name != null) {
            if (!beans.containsBean(name)) {
                throw new OutboxDataSourceException(
                        "outbox.datasource names the bean '%s', and the application has no bean of that name."
                                .formatted(name),
                        setTheDataSource(candidates));
            }
            if (!beans.isTypeMatch(name, DataSource.class)) {
                throw new OutboxDataSourceException(
                        "outbox.datasource names the bean '%s', which is a %s, not a DataSource."
                                .formatted(name, typeOf(beans, name)),
                        setTheDataSource(candidates));
            }
            return beans.getBean(name, DataSource.class);
        }
        DataSource unique = beans.getBeanProvider(DataSource.class).getIfUnique();
        if (unique == null) {
            throw new OutboxDataSourceException(
                    ("The outbox needs to know which DataSource holds its tables, and the application has %d: %s,"
                                    + " none of them @Primary.")
                            .formatted(candidates.size(), String.join(", ", candidates)),
                    setTheDataSource(candidates) + " Or mark one of the DataSource beans @Primary.");
        }
        return unique;
    }

    /**
     * Checks that the transaction manager {@code outbox.transaction-manager} names exists and, when it tells which
     * DataSource it manages, that this is the outbox's: events written in a transaction of another DataSource would
     * not commit with the outbox rows.
     *
     * @throws OutboxDataSourceException when it does not
     */
    static void checkTransactionManager(ListableBeanFactory beans, OutboxProperties properties, DataSource dataSource) {
        String name = properties.getTransactionManager();
        if (name == null) {
            return;
        }
        List<String> managers = Arrays.asList(
                BeanFactoryUtils.beanNamesForTypeIncludingAncestors(beans, PlatformTransactionManager.class));
        String action = "Set outbox.transaction-manager to the transaction manager of the outbox's DataSource (the"
                + " application's: %s), or leave it unset.".formatted(String.join(", ", managers));
        if (!beans.containsBean(name) || !beans.isTypeMatch(name, PlatformTransactionManager.class)) {
            throw new OutboxDataSourceException(
                    "outbox.transaction-manager names the bean '%s', which is not a transaction manager of the"
                                    .formatted(name)
                            + " application.",
                    action);
        }
        PlatformTransactionManager manager = beans.getBean(name, PlatformTransactionManager.class);
        DataSource managed = managedDataSource(manager);
        if (managed != null && unwrapped(managed) != unwrapped(dataSource)) {
            throw new OutboxDataSourceException(
                    ("outbox.transaction-manager names '%s', which manages the DataSource %s, not the outbox's %s, so"
                                    + " events written in its transactions would not commit with them.")
                            .formatted(name, nameOf(beans, managed), nameOf(beans, dataSource)),
                    action);
        }
    }

    private static String nameOf(ListableBeanFactory beans, DataSource dataSource) {
        return candidates(beans).stream()
                .filter(candidate -> beans.getBean(candidate) == dataSource)
                .map(candidate -> "'" + candidate + "'")
                .findFirst()
                .orElse("(not a bean)");
    }

    /**
     * The DataSource a transaction manager runs on: a JDBC one's resource factory; a JPA or Hibernate one's
     * {@code dataSource} property (their resource factory is the EntityManagerFactory or SessionFactory), read as a
     * bean property so that the starter needs neither on its classpath. None when it does not say.
     */
    private static @Nullable DataSource managedDataSource(PlatformTransactionManager manager) {
        if (manager instanceof ResourceTransactionManager resources
                && resources.getResourceFactory() instanceof DataSource dataSource) {
            return dataSource;
        }
        BeanWrapper properties = PropertyAccessorFactory.forBeanPropertyAccess(manager);
        return properties.isReadableProperty("dataSource")
                        && properties.getPropertyValue("dataSource") instanceof DataSource dataSource
                ? dataSource
                : null;
    }

    /** The DataSource behind a transaction-aware proxy, which the transaction managers also look through. */
    private static DataSource unwrapped(DataSource dataSource) {
        return dataSource instanceof TransactionAwareDataSourceProxy proxy && proxy.getTargetDataSource() != null
                ? proxy.getTargetDataSource()
                : dataSource;
    }

    private static String typeOf(ListableBeanFactory beans, String name) {
        Class<?> type = beans.getType(name);
        return type != null ? type.getName() : "bean of unknown type";
    }

    private static List<String> candidates(ListableBeanFactory beans) {
        return Arrays.asList(BeanFactoryUtils.beanNamesForTypeIncludingAncestors(beans, DataSource.class));
    }

    private static String setTheDataSource(List<String> candidates) {
        return ("Set outbox.datasource to the name of the DataSource bean that holds the outbox tables (the"
                        + " application's: %s), and outbox.transaction-manager to the name of its transaction manager.")
                .formatted(String.join(", ", candidates));
    }
}
