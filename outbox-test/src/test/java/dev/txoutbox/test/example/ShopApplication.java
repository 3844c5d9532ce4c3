package dev.txoutbox.test.example;

import org.apache.kafka.clients.admin.NewTopic;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.kafka.config.TopicBuilder;

/** A shop that takes payments and tells the rest of the company through the outbox. */
@SpringBootApplication
class ShopApplication {

    /** The topic of payment events, created at start-up as a production application would. */
    @Bean
    NewTopic paymentsTopic() {
        return TopicBuilder.name(PaymentService.PAYMENTS).partitions(1).build();
    }
}
