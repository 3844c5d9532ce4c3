package dev.txoutbox.it;

import dev.txoutbox.Outbox;
import dev.txoutbox.OutboxEvent;
import dev.txoutbox.OutboxMessage;
import java.util.UUID;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Propagation;
import org.springframework.transaction.annotation.Transactional;

/** Business methods that write outbox events in the ways users do, and in the ways users get wrong. */
@Service
public class InvoiceService {

    private final InvoiceRepository invoices;

    private final Outbox outbox;

    public InvoiceService(InvoiceRepository invoices, Outbox outbox) {
        this.invoices = invoices;
        this.outbox = outbox;
    }

    /** The event payload: what consumers see. */
    public record InvoiceIssued(long id, String customer, long amount) {}

    /** A payload that Jackson cannot serialize: it refers to itself. */
    public static final class SelfReferencing {

        public SelfReferencing getSelf() {
            return this;
        }
    }

    @Transactional
    @OutboxEvent(
            topic = "${test.topic}",
            key = "#result.id()",
            headers = @OutboxEvent.Header(name = "customer", value = "#{#customer}"))
    public InvoiceIssued issue(String customer, long amount) {
        Invoice invoice = this.invoices.save(new Invoice(customer, amount));
        return new InvoiceIssued(invoice.getId(), customer, amount);
    }

    @Transactional
    @OutboxEvent(topic = "${test.topic}", key = "#result.id()")
    public InvoiceIssued issueThenFail(String customer, long amount) {
        Invoice invoice = this.invoices.save(new Invoice(customer, amount));
        this.invoices.flush();
        throw new IllegalStateException("payment service down after invoice " + invoice.getId());
    }

    @OutboxEvent(topic = "${test.topic}", key = "#result.id()")
    public InvoiceIssued issueWithoutTransaction(String customer, long amount) {
        Invoice invoice = this.invoices.save(new Invoice(customer, amount));
        return new InvoiceIssued(invoice.getId(), customer, amount);
    }

    /** Not transactional itself: it joins the caller's transaction. */
    @OutboxEvent(topic = "${test.topic}", key = "#id", payload = "null", type = "InvoiceDeleted")
    public void delete(long id) {
        this.invoices.deleteById(id);
    }

    @Transactional
    public UUID issueThroughTheFacade(String topic, String customer, long amount) {
        Invoice invoice = this.invoices.save(new Invoice(customer, amount));
        return this.outbox.write(OutboxMessage.to(topic)
                .key(String.valueOf(invoice.getId()))
                .payload(new InvoiceIssued(invoice.getId(), customer, amount))
                .header("source", "facade")
                .build());
    }

    @Transactional
    @OutboxEvent(topic = "${test.topic}", key = "#result.id()", type = "InvoiceIssued")
    @OutboxEvent(topic = "${test.audit-topic}", key = "#customer", payload = "'issued ' + #result.id()", type = "Audit")
    @OutboxEvent(topic = "${test.audit-topic}", key = "#customer", payload = "'big'", condition = "#amount > 1000")
    public InvoiceIssued issueWithAudit(String customer, long amount) {
        return issue(customer, amount);
    }

    @Transactional
    @OutboxEvent(topic = "${test.topic}", key = "#result.idd")
    public InvoiceIssued issueWithBrokenKey(String customer, long amount) {
        return issue(customer, amount);
    }

    @Transactional
    @OutboxEvent(topic = "${test.topic}", key = "#customer.toUpperCase()")
    public InvoiceIssued issueWithUpperCaseKey(String customer, long amount) {
        return issue(customer, amount);
    }

    @Transactional
    @OutboxEvent(topic = "${test.topic}", key = "#result.customer().isEmpty() ? null : #result.customer()")
    public InvoiceIssued issueWithNullKey(String customer, long amount) {
        Invoice invoice = this.invoices.save(new Invoice(customer, amount));
        return new InvoiceIssued(invoice.getId(), customer, amount);
    }

    @Transactional
    @OutboxEvent(
            topic = "${test.topic}",
            key = "#customer",
            payload = "new dev.txoutbox.it.InvoiceService.SelfReferencing()")
    public InvoiceIssued issueWithUnserializablePayload(String customer, long amount) {
        Invoice invoice = this.invoices.save(new Invoice(customer, amount));
        return new InvoiceIssued(invoice.getId(), customer, amount);
    }

    @Transactional
    @OutboxEvent(topic = "${test.blank-topic:}", key = "#customer")
    public InvoiceIssued issueToBlankTopic(String customer, long amount) {
        Invoice invoice = this.invoices.save(new Invoice(customer, amount));
        return new InvoiceIssued(invoice.getId(), customer, amount);
    }

    @Transactional(propagation = Propagation.REQUIRES_NEW)
    @OutboxEvent(topic = "${test.topic}", key = "#key", payload = "'audit'")
    public String auditInNewTransaction(String key) {
        return key;
    }

    @Transactional
    @OutboxEvent(
            topic = "${test.topic}",
            key = "#customer",
            headers = @OutboxEvent.Header(name = "outbox-event-id", value = "mine"))
    public InvoiceIssued issueWithReservedHeader(String customer, long amount) {
        Invoice invoice = this.invoices.save(new Invoice(customer, amount));
        return new InvoiceIssued(invoice.getId(), customer, amount);
    }

    @Transactional
    @OutboxEvent(topic = "${test.topic}", key = "#result.id()", payload = "#note", type = "InvoiceNote")
    public InvoiceIssued issueWithNote(String customer, long amount, String note) {
        Invoice invoice = this.invoices.save(new Invoice(customer, amount));
        return new InvoiceIssued(invoice.getId(), customer, amount);
    }

    @Transactional(readOnly = true)
    @OutboxEvent(topic = "${test.topic}", key = "#customer")
    public String readOnly(String customer) {
        return customer;
    }
}
