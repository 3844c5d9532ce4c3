package dev.txoutbox.sample.order;

import org.apache.kafka.clients.admin.NewTopic;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.config.TopicBuilder;

/**
 * Creates the orders topic at start-up when it does not exist yet. Brokers are often set not to create topics on
 * first use, and then the relay would have nowhere to publish.
 */
@Configuration(proxyBeanMethods = false)
class OrderTopicConfiguration {

    @Bean
    NewTopic ordersTopic(@Value("${sample.orders-topic}") String name) {
        // Three partitions let three read-model consumers share the work; one order's events stay in one of them.
        // The replication factor is left to the broker's default.
        return TopicBuilder.name(name).partitions(3).build();
    }
}
