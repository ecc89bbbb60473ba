package io.dermcap.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import io.dermcap.embedded.EmbeddedKafka;
import io.dermcap.embedded.SelfSignedCertificate;
import io.dermcap.embedded.ServerSupport;

/** The in-JVM KRaft broker: a bounce keeps the data, and the SASL_SSL/SCRAM listener works. */
class EmbeddedKafkaIT {

    @Test
    void aRestartKeepsTopicsAndRecordsOnTheSameAddress() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.launch()) {
            String topic = "bounce-" + UUID.randomUUID();
            Map<String, Object> client = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
            createTopic(client, topic);
            produce(client, topic, "before");
            String address = kafka.bootstrapServers();

            kafka.restart();

            assertThat(kafka.bootstrapServers()).isEqualTo(address);
            produce(client, topic, "after");
            assertThat(consumeAll(client, topic, 2)).containsExactly("before", "after");
        }
    }

    @Test
    void saslSslScramClientsAuthenticateAndOthersAreRefused() throws Exception {
        Path dir = Files.createTempDirectory("dermcap-kafka-tls-");
        try {
            SelfSignedCertificate cert = SelfSignedCertificate.generate(dir);
            String password = UUID.randomUUID().toString();
            EmbeddedKafka.Options options = new EmbeddedKafka.Options(
                    new EmbeddedKafka.SaslSsl(cert, Map.of("dermcap", password)), Map.of());
            try (EmbeddedKafka kafka = EmbeddedKafka.launch(options)) {
                Map<String, Object> client = new HashMap<>(kafka.clientSecurity("dermcap"));
                client.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
                String topic = "secure-" + UUID.randomUUID();
                createTopic(client, topic);
                produce(client, topic, "over TLS");
                assertThat(consumeAll(client, topic, 1)).containsExactly("over TLS");

                Map<String, Object> wrong = new HashMap<>(client);
                wrong.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required "
                        + "username=\"dermcap\" password=\"wrong\";");
                wrong.put("max.block.ms", 10_000);
                assertThatThrownBy(() -> produce(wrong, topic, "refused"))
                        .hasRootCauseInstanceOf(SaslAuthenticationException.class);
            }
        } finally {
            ServerSupport.deleteRecursively(dir);
        }
    }

    private static void createTopic(Map<String, Object> client, String topic) throws Exception {
        try (Admin admin = Admin.create(client)) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
        }
    }

    private static void produce(Map<String, Object> client, String topic, String value)
            throws ExecutionException, InterruptedException {
        Map<String, Object> config = new HashMap<>(client);
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(config)) {
            producer.send(new ProducerRecord<>(topic, value)).get();
        }
    }

    private static List<String> consumeAll(Map<String, Object> client, String topic, int expected) {
        Map<String, Object> config = new HashMap<>(client);
        config.put(ConsumerConfig.GROUP_ID_CONFIG, "it-" + UUID.randomUUID());
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (values.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
                    values.add(record.value());
                }
            }
        }
        return values;
    }
}
