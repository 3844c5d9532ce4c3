package dev.txoutbox.it;

import org.springframework.boot.autoconfigure.SpringBootApplication;

/** An application that uses the starter as users do: JPA, @Transactional services, @OutboxEvent. */
@SpringBootApplication
public class OutboxTestApplication {}
