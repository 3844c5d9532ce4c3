package dev.txoutbox.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.springframework.boot.jdbc.autoconfigure.DataSourceProperties;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/** The wake-up listener's own connections to outbox.relay.notify.listener-url: their credentials and errors. */
class ListenerDataSourceTests {

    @Test
    void theListenersOwnCredentialsComeFirst() {
        OutboxProperties.Notify notify = notify("jdbc:postgresql://postgres:5432/orders");
        notify.setListenerUsername("listener");
        notify.setListenerPassword("listening");

        DriverManagerDataSource listening =
                (DriverManagerDataSource) ListenerDataSource.of(notify, spring("app", "s3cret"));

        assertThat(listening.getUsername()).isEqualTo("listener");
        assertThat(listening.getPassword()).isEqualTo("listening");
    }

    @Test
    void withoutThemSpringDatasourceUsernameAndPasswordAreUsed() {
        DriverManagerDataSource listening = (DriverManagerDataSource)
                ListenerDataSource.of(notify("jdbc:postgresql://postgres:5432/orders"), spring("app", "s3cret"));

        assertThat(listening.getUsername()).isEqualTo("app");
        assertThat(listening.getPassword()).isEqualTo("s3cret");
    }

    @Test
    void anApplicationWithItsOwnDataSourceAndNoSpringDatasourceSettingsGetsAListenerWithoutCredentials() {
        DriverManagerDataSource listening = (DriverManagerDataSource)
                ListenerDataSource.of(notify("jdbc:postgresql://postgres:5432/orders"), new DataSourceProperties());

        assertThat(listening.getUrl()).isEqualTo("jdbc:postgresql://postgres:5432/orders");
        assertThat(listening.getUsername()).isNull();
        assertThat(listening.getPassword()).isNull();
    }

    @Test
    void aFailureToConnectNamesTheUrlWithoutItsPassword() {
        String url = "jdbc:nosuchdriver://postgres:5432/orders?password=s3cret";

        assertThatThrownBy(() -> ListenerDataSource.of(notify(url), null).getConnection())
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("outbox.relay.notify.listener-url")
                .hasMessageContaining("jdbc:nosuchdriver://postgres:5432/orders?password=***")
                .hasMessageNotContaining("s3cret")
                .hasNoCause();
    }

    private static OutboxProperties.Notify notify(String url) {
        OutboxProperties.Notify notify = new OutboxProperties.Notify();
        notify.setListenerUrl(url);
        return notify;
    }

    private static DataSourceProperties spring(String username, String password) {
        DataSourceProperties properties = new DataSourceProperties();
        properties.setUsername(username);
        properties.setPassword(password);
        return properties;
    }
}
