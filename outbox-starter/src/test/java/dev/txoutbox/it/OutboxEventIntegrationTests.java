package dev.txoutbox.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.txoutbox.Outbox;
import dev.txoutbox.OutboxException;
import dev.txoutbox.OutboxHeaders;
import dev.txoutbox.OutboxMessage;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.TestDatabase;
import dev.txoutbox.testing.TopicReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.aop.Advisor;
import org.springframework.aop.framework.ProxyFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.annotation.AnnotationTransactionAttributeSource;
import org.springframework.transaction.interceptor.TransactionInterceptor;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The annotation and the facade in a Spring Boot application with JPA, against an embedded database and Kafka: the
 * event is published if and only if the business transaction commits. A subclass per database names the database and
 * the topics.
 */
@SpringBootTest
abstract class OutboxEventIntegrationTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private static final int ONE_MIB = 1024 * 1024;

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        registry.add("spring.kafka.bootstrap-servers", EmbeddedInfrastructure::kafkaBootstrapServers);
        registry.add("spring.jpa.hibernate.ddl-auto", () -> "create");
        // Far longer than any test waits: every record here is published because its commit woke the relay up.
        registry.add("outbox.relay.poll-interval", () -> "10m");
    }

    /**
     * The database of a subclass, its events' topics (made once per subclass, so that no two share a record), and a
     * fresh database in it.
     */
    static void database(DynamicPropertyRegistry registry, TestDatabase database, String topic, String auditTopic) {
        registry.add("spring.datasource.url", database::newDatabaseUrl);
        registry.add("spring.datasource.username", database::username);
        registry.add("spring.datasource.password", database::password);
        registry.add("test.topic", () -> topic);
        registry.add("test.audit-topic", () -> auditTopic);
    }

    @Value("${test.topic}")
    private String topicName;

    @Value("${test.audit-topic}")
    private String auditTopicName;

    @Autowired
    private InvoiceService invoices;

    @Autowired
    private InvoiceRepository invoiceRepository;

    @Autowired
    private OutboxStore store;

    @Autowired
    private JdbcClient jdbc;

    @Autowired
    private TransactionTemplate transactions;

    @Autowired
    private Outbox outbox;

    private TopicReader topic;

    private TopicReader auditTopic;

    @BeforeEach
    void readTopics() {
        this.topic = new TopicReader(this.topicName);
        this.auditTopic = new TopicReader(this.auditTopicName);
    }

    @AfterEach
    void closeReaders() {
        this.topic.close();
        this.auditTopic.close();
    }

    @Test
    void aCommittedEventArrivesOnceWithKeyValueAndHeadersAndItsRowIsDeleted() {
        long before = this.topic.endOffsetTotal();

        InvoiceService.InvoiceIssued issued = this.invoices.issue("alice", 100);

        awaitOutboxDrained();
        ConsumerRecord<String, byte[]> record = recordWithKey(String.valueOf(issued.id()));
        assertThat(text(record.value()))
                .isEqualTo("{\"id\":%d,\"customer\":\"alice\",\"amount\":100}".formatted(issued.id()));
        assertThat(record.headers().toArray())
                .extracting(Header::key)
                .as("the relay names its headers as the public OutboxHeaders does")
                .contains(OutboxHeaders.EVENT_ID, OutboxHeaders.EVENT_TYPE);
        assertThat(header(record, OutboxHeaders.EVENT_TYPE)).isEqualTo("InvoiceIssued");
        assertThat(OutboxHeaders.eventId(record).version())
                .as("a time-ordered event id")
                .isEqualTo(7);
        assertThat(header(record, "customer")).isEqualTo("alice");
        assertThat(this.topic.endOffsetTotal()).as("published exactly once").isEqualTo(before + 1);
    }

    @Test
    void aRolledBackTransactionLeavesNoRowAndPublishesNothing() {
        long before = this.topic.endOffsetTotal();
        long invoicesBefore = this.invoiceRepository.count();

        assertThatThrownBy(() -> this.invoices.issueThenFail("bob", 5)).hasMessageContaining("payment service down");

        assertThat(this.invoiceRepository.count()).isEqualTo(invoicesBefore);
        assertThat(this.store.count()).isZero();
        assertThat(this.topic.endOffsetTotal()).isEqualTo(before);
    }

    @Test
    void aMethodCalledWithoutATransactionFailsBeforeItRunsAndWritesNothing() {
        long invoicesBefore = this.invoiceRepository.count();

        assertThatThrownBy(() -> this.invoices.issueWithoutTransaction("carol", 5))
                .isInstanceOf(OutboxException.class)
                .hasMessageContaining("InvoiceService.issueWithoutTransaction(..)")
                .hasMessageContaining("needs an active transaction")
                .hasMessageContaining("@Transactional");

        assertThat(this.invoiceRepository.count()).as("the method did not run").isEqualTo(invoicesBefore);
        assertThat(this.store.count()).isZero();
    }

    @Test
    void aMethodCalledInsideTheCallersTransactionJoinsIt() {
        InvoiceService.InvoiceIssued issued = this.invoices.issue("dave", 7);
        awaitOutboxDrained();

        this.transactions.executeWithoutResult(status -> this.invoices.delete(issued.id()));

        awaitOutboxDrained();
        ConsumerRecord<String, byte[]> tombstone = this.topic.awaitRecord(
                record -> record.key().equals(String.valueOf(issued.id())) && record.value() == null, TIMEOUT);
        assertThat(tombstone.value()).as("a tombstone").isNull();
        assertThat(header(tombstone, OutboxHeaders.EVENT_TYPE)).isEqualTo("InvoiceDeleted");
        assertThat(this.invoiceRepository.existsById(issued.id())).isFalse();
    }

    @Test
    void oneMethodCanWriteSeveralEventsAndAConditionSkipsOne() {
        long before = this.auditTopic.endOffsetTotal();

        InvoiceService.InvoiceIssued small = this.invoices.issueWithAudit("erin", 10);
        InvoiceService.InvoiceIssued big = this.invoices.issueWithAudit("erin", 5000);

        awaitOutboxDrained();
        List<String> audit = this.auditTopic.awaitRecords((int) before + 3, TIMEOUT).stream()
                .skip(before)
                .map(record -> text(record.value()))
                .toList();
        assertThat(audit).containsExactly("issued " + small.id(), "issued " + big.id(), "big");
    }

    @Test
    void theFacadeWritesInTheCurrentTransaction() {
        UUID eventId = this.invoices.issueThroughTheFacade(this.topicName, "frank", 3);

        awaitOutboxDrained();
        ConsumerRecord<String, byte[]> record = this.topic.awaitRecord(
                candidate -> header(candidate, OutboxHeaders.EVENT_ID).equals(eventId.toString()), TIMEOUT);
        assertThat(header(record, OutboxHeaders.EVENT_TYPE)).isEqualTo("InvoiceIssued");
        assertThat(header(record, "source")).isEqualTo("facade");
    }

    @Test
    void theFacadeWithoutATransactionFails(@Autowired Outbox outbox) {
        assertThatThrownBy(() -> outbox.write(this.topicName, "k", "payload"))
                .isInstanceOf(OutboxException.class)
                .hasMessageContaining("Outbox.write(topic '%s')".formatted(this.topicName))
                .hasMessageContaining("needs an active transaction");
        assertThat(this.store.count()).isZero();
    }

    @Test
    void aFailingKeyExpressionFailsTheBusinessTransactionNamingMethodAndExpression() {
        long invoicesBefore = this.invoiceRepository.count();

        assertThatThrownBy(() -> this.invoices.issueWithBrokenKey("gina", 1))
                .isInstanceOf(OutboxException.class)
                .hasMessageContaining("InvoiceService.issueWithBrokenKey(..)")
                .hasMessageContaining("key \"#result.idd\" failed")
                .hasMessageContaining("Fix the expression");

        assertNothingWritten(invoicesBefore);
    }

    @Test
    void anExpressionKeepsItsResultsAndItsErrorsOnceItRunsCompiled() {
        // Expressions are compiled once they have run a hundred times.
        for (int i = 0; i < 150; i++) {
            this.invoices.issueWithUpperCaseKey("ivy" + i, i);
        }
        awaitOutboxDrained();
        for (String key : List.of("IVY0", "IVY99", "IVY100", "IVY149")) {
            assertThat(recordWithKey(key)).isNotNull();
        }
        long invoicesBefore = this.invoiceRepository.count();

        assertThatThrownBy(() -> this.invoices.issueWithUpperCaseKey(null, 1))
                .isInstanceOf(OutboxException.class)
                .hasMessageContaining("InvoiceService.issueWithUpperCaseKey(..)")
                .hasMessageContaining("key \"#customer.toUpperCase()\" failed")
                .hasMessageContaining("Fix the expression");

        assertNothingWritten(invoicesBefore);
    }

    @Test
    void aKeyExpressionThatYieldsNullFailsTheBusinessTransaction() {
        long invoicesBefore = this.invoiceRepository.count();

        assertThatThrownBy(() -> this.invoices.issueWithNullKey("", 1))
                .isInstanceOf(OutboxException.class)
                .hasMessageContaining("InvoiceService.issueWithNullKey(..)")
                .hasMessageContaining("yielded null");

        assertNothingWritten(invoicesBefore);
    }

    @Test
    void anUnserializablePayloadFailsTheBusinessTransactionNamingTheEvent() {
        long invoicesBefore = this.invoiceRepository.count();

        assertThatThrownBy(() -> this.invoices.issueWithUnserializablePayload("hank", 1))
                .isInstanceOf(OutboxException.class)
                .hasMessageContaining("InvoiceService.issueWithUnserializablePayload(..)")
                .hasMessageContaining("event SelfReferencing")
                .hasMessageContaining("could not be serialized")
                .hasMessageContaining("OutboxPayloadSerializer");

        assertNothingWritten(invoicesBefore);
    }

    @Test
    void anEventLargerThanTheRelayCanPublishFailsTheBusinessTransactionNamingEventSizeLimitAndFix() {
        long invoicesBefore = this.invoiceRepository.count();
        String note = "x".repeat(ONE_MIB + 1);

        assertThatThrownBy(() -> this.invoices.issueWithNote("lena", 1, note))
                .isInstanceOf(OutboxException.class)
                .hasMessageContaining("@OutboxEvent(topic = \"${test.topic}\") on InvoiceService.issueWithNote(..)")
                .hasMessageContaining("event InvoiceNote to topic '%s' (key '".formatted(this.topicName))
                .hasMessageContaining("a payload of %d bytes".formatted(ONE_MIB + 1))
                .hasMessageContaining("more than the %d bytes the relay can publish".formatted(ONE_MIB))
                .hasMessageContaining("the Kafka producer's default max.request.size")
                .hasMessageContaining("outbox.relay.producer.max.request.size")
                .hasMessageContaining("the topic's max.message.bytes together");

        assertNothingWritten(invoicesBefore);
    }

    @Test
    void anEventOfExactlyTheLargestPublishableSizeIsWrittenAndPublishedAndOneByteMoreIsRefused() {
        String key = "largest-" + UUID.randomUUID();
        // Payload, key and headers, with Kafka's framing counted as the writer counts it.
        int framing =
                128 + (10 + "outbox-event-id".length() + 36) + (10 + "outbox-event-type".length() + "Big".length());
        byte[] largest = new byte[ONE_MIB - framing - key.length()];

        assertThatThrownBy(() -> this.transactions.executeWithoutResult(
                        status -> this.outbox.write(OutboxMessage.to(this.topicName)
                                .key(key)
                                .type("Big")
                                .payload(new byte[largest.length + 1])
                                .build())))
                .isInstanceOf(OutboxException.class)
                .hasMessageContaining("Outbox.write(topic '%s'): event Big".formatted(this.topicName))
                .hasMessageContaining("is %d bytes as a Kafka record".formatted(ONE_MIB + 1));
        assertThat(this.store.count()).isZero();

        UUID eventId = this.transactions.execute(status -> {
            UUID written = this.outbox.write(OutboxMessage.to(this.topicName)
                    .key(key)
                    .type("Big")
                    .payload(largest)
                    .build());
            // Read in the writing transaction, before the relay can see and delete the row.
            assertThat(this.jdbc
                            .sql("SELECT event_id FROM outbox_event WHERE record_key = ?")
                            .param(key)
                            .query((rs, row) -> UUID.fromString(rs.getString(1)))
                            .single())
                    .as("the row's event_id")
                    .isEqualTo(written);
            return written;
        });
        assertThat(eventId.version()).as("the writer's ids are version 7").isEqualTo(7);

        ConsumerRecord<String, byte[]> record = this.topic.awaitRecord(
                candidate -> header(candidate, OutboxHeaders.EVENT_ID).equals(String.valueOf(eventId)), TIMEOUT);
        assertThat(record.value()).hasSize(largest.length);
        awaitOutboxDrained();
    }

    @Test
    void aBlankTopicFailsTheBusinessTransaction() {
        long invoicesBefore = this.invoiceRepository.count();

        assertThatThrownBy(() -> this.invoices.issueToBlankTopic("ivy", 1))
                .isInstanceOf(OutboxException.class)
                .hasMessageContaining("InvoiceService.issueToBlankTopic(..)")
                .hasMessageContaining("is blank");

        assertNothingWritten(invoicesBefore);
    }

    @Test
    void aReadOnlyTransactionIsRefused() {
        assertThatThrownBy(() -> this.invoices.readOnly("jack"))
                .isInstanceOf(OutboxException.class)
                .hasMessageContaining("read-only transaction");
    }

    @Test
    void aRequiresNewMethodWritesItsEventInItsOwnTransaction() {
        String key = "audit-" + UUID.randomUUID();

        assertThatThrownBy(() -> this.transactions.executeWithoutResult(status -> {
                    this.invoices.auditInNewTransaction(key);
                    throw new IllegalStateException("the caller fails after the audit committed");
                }))
                .isInstanceOf(IllegalStateException.class);

        assertThat(recordWithKey(key).value()).asString(StandardCharsets.UTF_8).isEqualTo("audit");
    }

    @Test
    void aNewTransactionThatWritesAKeyTheSuspendedOneHoldsIsRefusedInsteadOfWaitingForever() {
        String key = "held-" + UUID.randomUUID();

        assertThatThrownBy(() -> this.transactions.executeWithoutResult(status -> {
                    this.outbox.write(this.topicName, key, "outer");
                    this.invoices.auditInNewTransaction(key);
                }))
                .isInstanceOf(OutboxException.class)
                .hasMessageContaining("InvoiceService.auditInNewTransaction(..)")
                .hasMessageContaining("key '%s'".formatted(key))
                .hasMessageContaining("REQUIRES_NEW");

        assertThat(this.store.count()).isZero();
    }

    @Test
    void aNewTransactionThatWritesAnotherKeyOfTheSameLockAsTheSuspendedOneIsRefusedInsteadOfWaitingForever() {
        // MariaDB and MySQL lock keys by a hash into a fixed number of rows; PostgreSQL's advisory locks take a 64-bit
        // hash, and no two keys within reach share one.
        String outer = "held-" + UUID.randomUUID();
        Object lock = this.store.dialect().keyLock(this.topicName, outer);
        String inner = IntStream.range(0, 2_000_000)
                .mapToObj(i -> "other-" + i)
                .filter(key -> this.store.dialect().keyLock(this.topicName, key).equals(lock))
                .findFirst()
                .orElse(null);
        assumeTrue(
                inner != null,
                "no other key shares the lock of a key on "
                        + this.store.dialect().productName());

        assertThatThrownBy(() -> this.transactions.executeWithoutResult(status -> {
                    this.outbox.write(this.topicName, outer, "outer");
                    this.invoices.auditInNewTransaction(inner);
                }))
                .isInstanceOf(OutboxException.class)
                .hasMessageContaining("key '%s'".formatted(inner))
                .hasMessageContaining("key '%s'".formatted(outer))
                .hasMessageContaining("shares its lock")
                .hasMessageContaining("REQUIRES_NEW");
        assertThat(this.store.count()).isZero();
    }

    @Test
    void aNewTransactionMayWriteTheKeyTheSuspendedOneWroteToAnotherTopic() {
        String key = "shared-" + UUID.randomUUID();

        this.transactions.executeWithoutResult(status -> {
            this.outbox.write(this.auditTopicName, key, "outer");
            this.invoices.auditInNewTransaction(key);
        });

        assertThat(recordWithKey(key).value()).asString(StandardCharsets.UTF_8).isEqualTo("audit");
        assertThat(this.auditTopic
                        .awaitRecord(record -> key.equals(record.key()), TIMEOUT)
                        .value())
                .asString(StandardCharsets.UTF_8)
                .contains("outer");
    }

    @Test
    void aHeaderNamedLikeTheOutboxsOwnIsRefused() {
        long invoicesBefore = this.invoiceRepository.count();

        assertThatThrownBy(() -> this.invoices.issueWithReservedHeader("kim", 1))
                .isInstanceOf(OutboxException.class)
                .hasMessageContaining("'outbox-event-id'")
                .hasMessageContaining("Rename the header");

        assertNothingWritten(invoicesBefore);
    }

    @Test
    void anInterceptorOrderThatPutsTheOutboxOutsideARequiresNewTransactionIsRefused(
            @Autowired PlatformTransactionManager transactionManager,
            @Autowired @Qualifier("outboxEventAdvisor") Advisor advisor) {
        ProxyFactory factory = new ProxyFactory(new InvoiceService(this.invoiceRepository, this.outbox));
        factory.setProxyTargetClass(true);
        factory.addAdvisor(advisor);
        factory.addAdvice(new TransactionInterceptor(transactionManager, new AnnotationTransactionAttributeSource()));
        InvoiceService misordered = (InvoiceService) factory.getProxy();

        assertThatThrownBy(() -> this.transactions.executeWithoutResult(
                        status -> misordered.auditInNewTransaction("misordered")))
                .isInstanceOf(OutboxException.class)
                .hasMessageContaining("runs outside the new transaction");
        assertThat(this.store.count()).isZero();
    }

    private void assertNothingWritten(long invoicesBefore) {
        assertThat(this.invoiceRepository.count())
                .as("the business change rolled back")
                .isEqualTo(invoicesBefore);
        assertThat(this.store.count()).isZero();
    }

    private void awaitOutboxDrained() {
        await().atMost(TIMEOUT).until(() -> this.store.count() == 0);
    }

    private ConsumerRecord<String, byte[]> recordWithKey(String key) {
        return this.topic.awaitRecord(record -> key.equals(record.key()), TIMEOUT);
    }

    private static String header(ConsumerRecord<?, ?> record, String name) {
        return text(record.headers().lastHeader(name).value());
    }

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
