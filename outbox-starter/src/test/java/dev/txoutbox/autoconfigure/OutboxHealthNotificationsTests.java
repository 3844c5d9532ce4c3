package dev.txoutbox.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.txoutbox.relay.postgresql.WakeUpListener;
import dev.txoutbox.store.OutboxDialect;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.PgBouncer;
import dev.txoutbox.testing.PgBouncer.PoolMode;
import dev.txoutbox.testing.RollingBackConnection;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * The outbox health tells whether wake-up notifications reach the instance, and stays UP when they do not: the relay
 * then finds other instances' rows at its poll interval.
 */
class OutboxHealthNotificationsTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final String databaseUrl = EmbeddedInfrastructure.newDatabaseUrl();

    @Test
    void onDirectConnectionsTheDetailsSayThatNotificationsArrive() {
        runner(this.databaseUrl).run(context -> {
            awaitChecked(context);

            Health health = context.getBean(OutboxHealthIndicator.class).health(true);

            assertThat(health.getStatus()).isEqualTo(Status.UP);
            assertThat(health.getDetails())
                    .containsEntry("notifications", "arrive")
                    .containsEntry("listening", true);
        });
    }

    @Test
    void throughPgBouncerInTransactionModeTheDetailsSayThatNotificationsDoNotArriveAndTheHealthStaysUp() {
        try (PgBouncer bouncer = PgBouncer.start(PoolMode.TRANSACTION)) {
            runner(bouncer.jdbcUrl(this.databaseUrl, "prepareThreshold=0")).run(context -> {
                awaitChecked(context);

                Health health = context.getBean(OutboxHealthIndicator.class).health(true);

                assertThat(health.getStatus()).isEqualTo(Status.UP);
                assertThat((String) health.getDetails().get("notifications"))
                        .startsWith("do not arrive")
                        .contains("outbox.relay.poll-interval");
                WakeUpListener listener = context.getBean(WakeUpListener.class);
                await().atMost(TIMEOUT).until(() -> !listener.isListening());
                Map<String, Object> details = context.getBean(OutboxHealthIndicator.class)
                        .health(true)
                        .getDetails();
                assertThat(details).containsEntry("listening", false);
                assertThat((String) details.get("notifications")).contains("the listener stopped listening");
            });
        }
    }

    @Test
    void onADirectConnectionWhoseTestNotificationsDoNotArriveTheDetailsSayThatTheListenerKeepsListening() {
        runner(this.databaseUrl, DroppingTestNotifications.class).run(context -> {
            awaitChecked(context);

            Map<String, Object> details =
                    context.getBean(OutboxHealthIndicator.class).health(true).getDetails();

            assertThat(details).containsEntry("listening", true);
            assertThat((String) details.get("notifications"))
                    .startsWith("do not arrive")
                    .contains("the listener keeps listening")
                    .doesNotContain("stopped listening");
        });
    }

    @Test
    void withoutAListenerTheDetailsSayNothingAboutNotifications() {
        new ApplicationContextRunner()
                .withConfiguration(
                        AutoConfigurations.of(OutboxStoreAutoConfiguration.class, OutboxHealthAutoConfiguration.class))
                .withBean(DataSource.class, () -> EmbeddedInfrastructure.dataSource(this.databaseUrl, "health"))
                .run(context -> assertThat(context.getBean(OutboxHealthIndicator.class)
                                .health(true)
                                .getDetails())
                        .doesNotContainKey("notifications"));
    }

    private static ApplicationContextRunner runner(String url) {
        return runner(url, Listening.class);
    }

    private static ApplicationContextRunner runner(String url, Class<?> listening) {
        return new ApplicationContextRunner()
                .withConfiguration(
                        AutoConfigurations.of(OutboxStoreAutoConfiguration.class, OutboxHealthAutoConfiguration.class))
                .withBean(DataSource.class, () -> EmbeddedInfrastructure.dataSource(url, "health"))
                .withUserConfiguration(listening)
                .withPropertyValues("outbox.metrics.refresh-interval=0s");
    }

    /** A wake-up listener, as the relay's auto-configuration declares one, on the application's DataSource. */
    @Configuration(proxyBeanMethods = false)
    static class Listening {

        @Bean
        WakeUpListener listener(OutboxStore store, OutboxDialect dialect) {
            return new WakeUpListener(store.dataSource(), dialect, store.table(), "own", () -> {});
        }
    }

    /**
     * A wake-up listener on the application's DataSource whose test notifications are rolled back, so that they never
     * arrive, as when a busy database delays them past their deadline.
     */
    @Configuration(proxyBeanMethods = false)
    static class DroppingTestNotifications {

        @Bean
        WakeUpListener listener(OutboxStore store, OutboxDialect dialect) {
            DataSource dropping = new DelegatingDataSource(store.dataSource()) {
                @Override
                public Connection getConnection() throws SQLException {
                    return RollingBackConnection.of(super.getConnection());
                }
            };
            return new WakeUpListener(store.dataSource(), dropping, dialect, store.table(), "own", () -> {});
        }
    }

    private static void awaitChecked(ApplicationContext context) {
        WakeUpListener listener = context.getBean(WakeUpListener.class);
        await().atMost(TIMEOUT).until(() -> listener.notifications() != WakeUpListener.Notifications.NOT_CHECKED);
    }
}
