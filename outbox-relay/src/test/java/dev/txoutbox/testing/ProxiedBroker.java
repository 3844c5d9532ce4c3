package dev.txoutbox.testing;

import org.apache.kafka.clients.admin.NewTopic;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/**
 * A Kafka broker (KRaft) of its own whose clients all reach it through a {@link TcpProxy}, the address it
 * advertises, so that a test can cut them off, slow them down and connect them again. Topics are created only on
 * purpose, as on the shared broker.
 */
public final class ProxiedBroker implements AutoCloseable {

    private final TcpProxy proxy = new TcpProxy();

    private final EmbeddedKafkaKraftBroker broker;

    private ProxiedBroker(NewTopic... topics) {
        this.broker = new EmbeddedKafkaKraftBroker(1, 1);
        this.broker.brokerProperty("advertised.listeners", "EXTERNAL://localhost:" + this.proxy.port());
        this.broker.brokerProperty("auto.create.topics.enable", "false");
        try {
            this.broker.afterPropertiesSet();
        } catch (RuntimeException | Error ex) {
            // The proxy holds its port and a thread from the start: give both back.
            this.proxy.close();
            throw ex;
        }
        String realAddress = this.broker.getBrokersAsString();
        this.proxy.forwardTo(Integer.parseInt(realAddress.substring(realAddress.lastIndexOf(':') + 1)));
        if (topics.length > 0) {
            this.broker.addTopics(topics);
        }
    }

    /** Starts a broker behind a proxy of its own, with these topics. */
    public static ProxiedBroker start(NewTopic... topics) {
        return new ProxiedBroker(topics);
    }

    /** The proxy between the clients and the broker. */
    public TcpProxy proxy() {
        return this.proxy;
    }

    /** The bootstrap servers for clients: the proxy's address. */
    public String bootstrapServers() {
        return "localhost:" + this.proxy.port();
    }

    /** Creates topics on this broker. */
    public void addTopics(NewTopic... topics) {
        this.broker.addTopics(topics);
    }

    @Override
    public void close() {
        this.proxy.close();
        this.broker.destroy();
    }
}
