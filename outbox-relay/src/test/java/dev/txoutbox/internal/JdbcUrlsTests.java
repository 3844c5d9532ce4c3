package dev.txoutbox.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class JdbcUrlsTests {

    @Test
    void theSuggestedUrlLeavesThePasswordOut() {
        assertThat(JdbcUrls.withoutPasswordParameters("jdbc:postgresql://db:6432/app?password=***&user=app"))
                .isEqualTo("jdbc:postgresql://db:6432/app?user=app");
        assertThat(JdbcUrls.withoutPasswordParameters("jdbc:postgresql://db:6432/app?user=app&password=***"))
                .isEqualTo("jdbc:postgresql://db:6432/app?user=app");
        assertThat(JdbcUrls.withoutPasswordParameters("jdbc:postgresql://db:6432/app?password=***"))
                .isEqualTo("jdbc:postgresql://db:6432/app");
    }

    @Test
    void theReportedUrlHasNoCredentials() {
        assertThat(JdbcUrls.withoutCredentials(
                        "jdbc:postgresql://db:6432/app?user=app&password=s3cret&prepareThreshold=0"))
                .isEqualTo("jdbc:postgresql://db:6432/app?user=app&password=***&prepareThreshold=0");
        assertThat(JdbcUrls.withoutCredentials("jdbc:postgresql://app:s3cret@db/app"))
                .isEqualTo("jdbc:postgresql://***@db/app");
    }
}
