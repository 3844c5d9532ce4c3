package dev.txoutbox.sample.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.txoutbox.sample.SampleIntegrationTest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.web.client.RestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** A burst of orders over HTTP: every order's event is published, and the read model ends up with all of them. */
class BurstEndToEndTests extends SampleIntegrationTest {

    @LocalServerPort
    private int port;

    @Autowired
    private JdbcClient jdbc;

    @Autowired
    private JsonMapper json;

    private RestClient http;

    @BeforeEach
    void connect() {
        this.http = httpClient(this.port);
    }

    @Test
    void burstIsPublishedCompletelyAndReachesTheReadModel() {
        long before = burstOrdersInReadModel();

        ResponseEntity<JsonNode> answer = burst("200");

        assertThat(answer.getStatusCode()).isEqualTo(HttpStatus.OK);
        JsonNode report = answer.getBody();
        assertThat(report.get("orders").asInt()).isEqualTo(200);
        assertThat(report.get("drained").asBoolean()).isTrue();
        assertThat(report.get("rowsLeft").asLong()).isZero();
        assertThat(report.get("secondsToPlace").asDouble()).isPositive();
        assertThat(report.get("ordersPerSecond").asLong()).isPositive();
        assertThat(report.get("secondsToDrain").asDouble())
                .isGreaterThanOrEqualTo(report.get("secondsToPlace").asDouble());
        assertThat(report.get("maxRowsWaiting").asLong()).isBetween(0L, 200L);
        assertThat(this.jdbc
                        .sql("SELECT count(*) FROM orders WHERE customer = 'burst'")
                        .query(Long.class)
                        .single())
                .isEqualTo(before + 200);
        // Published means acknowledged by Kafka; the consumer then brings every order into the read model.
        await().atMost(PATIENCE)
                .untilAsserted(() -> assertThat(burstOrdersInReadModel()).isEqualTo(before + 200));
    }

    @Test
    void burstOutsideItsBoundsIsRefusedWithTheBounds() {
        for (String orders : new String[] {"0", "-3", "20001"}) {
            ResponseEntity<JsonNode> refused = burst(orders);
            assertThat(refused.getStatusCode()).as("orders=%s", orders).isEqualTo(HttpStatus.BAD_REQUEST);
            assertThat(refused.getHeaders().getContentType()).isEqualTo(MediaType.APPLICATION_PROBLEM_JSON);
            assertThat(refused.getBody().get("detail").asString())
                    .isEqualTo("orders: must be between 1 and 20000, but was " + orders);
        }

        ResponseEntity<JsonNode> notANumber = burst("many");
        assertThat(notANumber.getStatusCode()).isEqualTo(HttpStatus.BAD_REQUEST);
        assertThat(notANumber.getBody().get("detail").asString()).isEqualTo("orders: \"many\" is not a valid Integer");
    }

    private ResponseEntity<JsonNode> burst(String orders) {
        ResponseEntity<String> response = this.http
                .post()
                .uri("/demo/burst?orders={orders}", orders)
                .retrieve()
                .toEntity(String.class);
        return new ResponseEntity<>(
                this.json.readTree(response.getBody()), response.getHeaders(), response.getStatusCode());
    }

    private long burstOrdersInReadModel() {
        return this.jdbc
                .sql("SELECT count(*) FROM order_view WHERE customer = 'burst'")
                .query(Long.class)
                .single();
    }
}
