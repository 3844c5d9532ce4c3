package dev.txoutbox.schemaregistry;

import org.springframework.boot.autoconfigure.SpringBootApplication;

/** An order service that publishes Avro events through the outbox with a schema registry's serializer. */
@SpringBootApplication
class OrderApplication {}
