package dev.txoutbox.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.awaitility.Awaitility.await;

import dev.txoutbox.OutboxHeaders;
import dev.txoutbox.sample.order.OrderService;
import dev.txoutbox.sample.order.OrderSnapshot;
import dev.txoutbox.sample.order.PlaceOrder;
import dev.txoutbox.test.OutboxDrain;
import dev.txoutbox.test.WrittenEvent;
import dev.txoutbox.test.WrittenEvents;
import dev.txoutbox.testing.TopicReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.web.client.RestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The dual-write story end to end, on real PostgreSQL and Kafka: an HTTP call changes an order, the outbox row
 * commits with it, the relay publishes the record and deletes the row, and the consumer brings the read model up to
 * date. What fails writes nothing anywhere.
 */
class SampleApplicationEndToEndTests extends SampleIntegrationTest {

    @LocalServerPort
    private int port;

    @Autowired
    private JdbcTemplate jdbc;

    @Autowired
    private JsonMapper json;

    @Autowired
    private OrderService orderService;

    @Autowired
    private TransactionTemplate transactions;

    @Autowired
    private WrittenEvents writtenEvents;

    @Autowired
    private OutboxDrain outboxDrain;

    private RestClient http;

    private TopicReader topic;

    @BeforeEach
    void connect() {
        this.http = httpClient(this.port);
        this.topic = new TopicReader(ORDERS_TOPIC);
    }

    @AfterEach
    void disconnect() {
        this.topic.close();
    }

    @Test
    void placedChangedAndDeletedOrderTravelsThroughKafkaToTheReadModel() {
        ResponseEntity<JsonNode> placed =
                send(HttpMethod.POST, "/orders", Map.of("customer", "alice", "product", "keyboard", "quantity", 1));
        assertThat(placed.getStatusCode()).isEqualTo(HttpStatus.CREATED);
        long id = placed.getBody().get("id").asLong();
        assertThat(placed.getHeaders().getLocation()).hasPath("/orders/" + id);
        assertThat(placed.getBody().get("status").asString()).isEqualTo("PLACED");
        assertThat(placed.getBody().get("version").asInt()).isZero();

        ConsumerRecord<String, byte[]> placedRecord = awaitRecordsOf(id, 1).get(0);
        assertThat(header(placedRecord, OutboxHeaders.EVENT_TYPE)).isEqualTo("OrderPlaced");
        UUID placedEventId = UUID.fromString(header(placedRecord, OutboxHeaders.EVENT_ID));
        JsonNode placedEvent = this.json.readTree(placedRecord.value());
        assertThat(placedEvent.get("id").asLong()).isEqualTo(id);
        assertThat(placedEvent.get("customer").asString()).isEqualTo("alice");
        assertThat(placedEvent.get("product").asString()).isEqualTo("keyboard");
        assertThat(placedEvent.get("quantity").asInt()).isEqualTo(1);
        assertThat(placedEvent.get("version").asInt()).isZero();
        this.outboxDrain.awaitDrained(PATIENCE);
        JsonNode view = awaitReadModel(id, 0);
        assertThat(view.get("customer").asString()).isEqualTo("alice");
        assertThat(view.get("lastEventId").asString()).isEqualTo(placedEventId.toString());

        ResponseEntity<JsonNode> changed =
                send(HttpMethod.PUT, "/orders/" + id, Map.of("quantity", 3, "status", "CONFIRMED"));
        assertThat(changed.getStatusCode()).isEqualTo(HttpStatus.OK);
        assertThat(changed.getBody().get("version").asInt()).isEqualTo(1);
        ConsumerRecord<String, byte[]> changedRecord = awaitRecordsOf(id, 2).get(1);
        assertThat(header(changedRecord, OutboxHeaders.EVENT_TYPE)).isEqualTo("OrderChanged");
        view = awaitReadModel(id, 1);
        assertThat(view.get("quantity").asInt()).isEqualTo(3);
        assertThat(view.get("status").asString()).isEqualTo("CONFIRMED");

        assertThat(send(HttpMethod.DELETE, "/orders/" + id, null).getStatusCode())
                .isEqualTo(HttpStatus.NO_CONTENT);
        assertThat(send(HttpMethod.GET, "/orders/" + id, null).getStatusCode()).isEqualTo(HttpStatus.NOT_FOUND);
        ConsumerRecord<String, byte[]> tombstone = awaitRecordsOf(id, 3).get(2);
        assertThat(tombstone.key()).isEqualTo(Long.toString(id));
        assertThat(tombstone.value()).isNull();
        assertThat(header(tombstone, OutboxHeaders.EVENT_TYPE)).isEqualTo("OrderDeleted");
        await().atMost(PATIENCE)
                .untilAsserted(() -> assertThat(send(HttpMethod.GET, "/read-model/orders/" + id, null)
                                .getStatusCode())
                        .isEqualTo(HttpStatus.NOT_FOUND));
        this.outboxDrain.awaitDrained(PATIENCE);
        assertThat(this.writtenEvents.ofKey(ORDERS_TOPIC, Long.toString(id)))
                .extracting(WrittenEvent::type)
                .containsExactly("OrderPlaced", "OrderChanged", "OrderDeleted");
    }

    @Test
    void invalidOrderIsRefusedWithMessagesThatNameTheFieldsAndWritesNothing() {
        long orders = count("SELECT count(*) FROM orders");

        ResponseEntity<JsonNode> refused =
                send(HttpMethod.POST, "/orders", Map.of("customer", " ", "product", "desk", "quantity", 0));

        assertThat(refused.getStatusCode()).isEqualTo(HttpStatus.BAD_REQUEST);
        assertThat(refused.getHeaders().getContentType()).isEqualTo(MediaType.APPLICATION_PROBLEM_JSON);
        assertThat(refused.getBody().get("detail").asString())
                .contains("customer: must not be blank")
                .contains("quantity: must be greater than 0");
        assertThat(refused.getBody().get("errors").propertyNames()).containsExactlyInAnyOrder("customer", "quantity");
        assertThat(count("SELECT count(*) FROM orders")).isEqualTo(orders);
        assertThat(this.writtenEvents.all()).isEmpty();
    }

    @Test
    void changeThatGivesNothingOrValuesOfTheWrongKindIsRefused() {
        long id = send(HttpMethod.POST, "/orders", Map.of("customer", "dave", "product", "pen", "quantity", 2))
                .getBody()
                .get("id")
                .asLong();

        ResponseEntity<JsonNode> empty = send(HttpMethod.PUT, "/orders/" + id, Map.of());
        assertThat(empty.getStatusCode()).isEqualTo(HttpStatus.BAD_REQUEST);
        assertThat(empty.getBody().get("detail").asString()).contains("must give a quantity, a status, or both");

        ResponseEntity<JsonNode> unknown = send(HttpMethod.PUT, "/orders/" + id, Map.of("status", "LOST"));
        assertThat(unknown.getStatusCode()).isEqualTo(HttpStatus.BAD_REQUEST);
        assertThat(unknown.getBody().get("detail").asString())
                .isEqualTo("status: \"LOST\" is not one of PLACED, CONFIRMED, SHIPPED, CANCELLED");

        ResponseEntity<JsonNode> notANumber = send(HttpMethod.PUT, "/orders/" + id, Map.of("quantity", "two"));
        assertThat(notANumber.getStatusCode()).isEqualTo(HttpStatus.BAD_REQUEST);
        assertThat(notANumber.getBody().get("detail").asString()).isEqualTo("quantity: \"two\" is not a valid Integer");

        ResponseEntity<JsonNode> unchanged = send(HttpMethod.GET, "/orders/" + id, null);
        assertThat(unchanged.getBody().get("quantity").asInt()).isEqualTo(2);
        assertThat(unchanged.getBody().get("version").asInt()).isZero();
    }

    @Test
    void unknownOrderIsNotFoundAndWritesNoEvent() {
        long unknown = 999_999;

        ResponseEntity<JsonNode> read = send(HttpMethod.GET, "/orders/" + unknown, null);
        assertThat(read.getStatusCode()).isEqualTo(HttpStatus.NOT_FOUND);
        assertThat(read.getHeaders().getContentType()).isEqualTo(MediaType.APPLICATION_PROBLEM_JSON);
        assertThat(read.getBody().get("detail").asString()).isEqualTo("No order has id 999999");
        assertThat(send(HttpMethod.PUT, "/orders/" + unknown, Map.of("quantity", 2))
                        .getStatusCode())
                .isEqualTo(HttpStatus.NOT_FOUND);
        assertThat(send(HttpMethod.DELETE, "/orders/" + unknown, null).getStatusCode())
                .isEqualTo(HttpStatus.NOT_FOUND);
        assertThat(send(HttpMethod.GET, "/read-model/orders/" + unknown, null).getStatusCode())
                .isEqualTo(HttpStatus.NOT_FOUND);
        assertThat(this.writtenEvents.all()).isEmpty();
    }

    @Test
    void placementRolledBackAfterTheInsertLeavesNoOrderNoOutboxRowAndNoRecord() {
        AtomicLong rolledBack = new AtomicLong();

        assertThatIllegalStateException()
                .isThrownBy(() -> this.transactions.executeWithoutResult(transaction -> {
                    long id = this.orderService
                            .placeOrder(new PlaceOrder("mallory", "anvil", 1))
                            .id();
                    rolledBack.set(id);
                    // Inside the transaction both rows exist; a later step of the same transaction then fails.
                    assertThat(count("SELECT count(*) FROM orders WHERE id = ?", id))
                            .isOne();
                    assertThat(this.writtenEvents.ofKey(ORDERS_TOPIC, Long.toString(id)))
                            .singleElement()
                            .satisfies(event -> assertThat(event)
                                    .hasType("OrderPlaced")
                                    .payload(OrderSnapshot.class)
                                    .extracting(OrderSnapshot::customer)
                                    .isEqualTo("mallory"));
                    throw new IllegalStateException("payment declined");
                }))
                .withMessage("payment declined");

        long id = rolledBack.get();
        assertThat(count("SELECT count(*) FROM orders WHERE id = ?", id)).isZero();
        assertThat(this.writtenEvents.all()).isEmpty();
        // The next order's record shows that the relay has run since; the rolled-back order never reached Kafka.
        long next = send(HttpMethod.POST, "/orders", Map.of("customer", "erin", "product", "chair", "quantity", 1))
                .getBody()
                .get("id")
                .asLong();
        awaitRecordsOf(next, 1);
        assertThat(this.topic.awaitRecords(0, PATIENCE))
                .extracting(ConsumerRecord::key)
                .doesNotContain(Long.toString(id));
        assertThat(send(HttpMethod.GET, "/read-model/orders/" + id, null).getStatusCode())
                .isEqualTo(HttpStatus.NOT_FOUND);
    }

    @Test
    void anOperatorSeesADeadLetterAndRequeuesItOverTheActuatorEndpoint() {
        // A dead letter as the relay leaves it when it gives up on an event.
        UUID eventId = UUID.randomUUID();
        long id = this.jdbc.queryForObject("""
                INSERT INTO outbox_event_dead_letter
                    (id, event_id, topic, record_key, event_type, payload, created_at, attempts, last_error)
                VALUES (nextval(pg_get_serial_sequence('outbox_event', 'id')), ?, ?, '9000001', 'OrderPlaced',
                        convert_to('{"id":9000001,"customer":"ops","product":"crate","quantity":1,"status":"PLACED","version":0}', 'UTF8'), now(), 10, 'broker said no')
                RETURNING id
                """, Long.class, eventId, ORDERS_TOPIC);

        JsonNode state = send(HttpMethod.GET, "/actuator/outbox", null).getBody();
        assertThat(state.get("table").asString()).isEqualTo("outbox_event");
        assertThat(state.get("deadLetterCount").asLong()).isEqualTo(1);
        assertThat(state.get("deadLetters").get(0).get("lastError").asString()).isEqualTo("broker said no");

        JsonNode requeued =
                send(HttpMethod.POST, "/actuator/outbox/" + id, null).getBody();

        assertThat(requeued.get("result").asString()).isEqualTo("requeued");
        ConsumerRecord<String, byte[]> record = this.topic.awaitRecord(
                candidate -> eventId.toString()
                        .equals(new String(
                                candidate
                                        .headers()
                                        .lastHeader(OutboxHeaders.EVENT_ID)
                                        .value(),
                                StandardCharsets.UTF_8)),
                PATIENCE);
        assertThat(record.key()).isEqualTo("9000001");
        assertThat(send(HttpMethod.GET, "/actuator/outbox", null)
                        .getBody()
                        .get("deadLetterCount")
                        .asLong())
                .isZero();
    }

    private ResponseEntity<JsonNode> send(HttpMethod method, String path, @Nullable Map<String, Object> body) {
        RestClient.RequestBodySpec request = this.http.method(method).uri(path);
        if (body != null) {
            request.contentType(MediaType.APPLICATION_JSON).body(body);
        }
        ResponseEntity<String> response = request.retrieve().toEntity(String.class);
        JsonNode parsed = (response.getBody() != null) ? this.json.readTree(response.getBody()) : null;
        return new ResponseEntity<>(parsed, response.getHeaders(), response.getStatusCode());
    }

    private JsonNode awaitReadModel(long id, int version) {
        return await().atMost(PATIENCE)
                .until(
                        () -> send(HttpMethod.GET, "/read-model/orders/" + id, null),
                        response -> response.getStatusCode().is2xxSuccessful()
                                && response.getBody().get("version").asInt() == version)
                .getBody();
    }

    /** Waits until the topic held {@code count} records of an order, and returns them in the order of the topic. */
    private List<ConsumerRecord<String, byte[]>> awaitRecordsOf(long id, int count) {
        String key = Long.toString(id);
        return await().atMost(PATIENCE)
                .until(
                        () -> this.topic.awaitRecords(0, PATIENCE).stream()
                                .filter(record -> key.equals(record.key()))
                                .toList(),
                        records -> records.size() >= count);
    }

    private long count(String sql, Object... arguments) {
        return this.jdbc.queryForObject(sql, Long.class, arguments);
    }

    private static String header(ConsumerRecord<?, ?> record, String name) {
        Header header = record.headers().lastHeader(name);
        assertThat(header).as("header %s", name).isNotNull();
        return new String(header.value(), StandardCharsets.UTF_8);
    }
}
