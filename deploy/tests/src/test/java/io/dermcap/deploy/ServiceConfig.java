package io.dermcap.deploy;

import io.dermcap.config.Config;
import io.dermcap.config.DermcapConfig;
import io.dermcap.registry.AvroSerdeConfig;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.StreamsConfig;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What {@code dermcap run} reads inside a container: the file its image's CMD names with
 * {@code --config}, with an environment on top, through the service's own loader
 * ({@link Config#load}), which refuses unknown keys. The pass-through keys it cannot judge
 * ({@code kafka.*}, {@code serde.*}) are checked against what Kafka and the serde really read.
 */
final class ServiceConfig {

    private ServiceConfig() {
    }

    /** Loads the configuration a container of {@code image} would run with under {@code env}. */
    static DermcapConfig load(Dockerfile image, Map<String, String> env) {
        DermcapConfig config = Config.load(configFile(image), env);
        Set<String> unknownKafka = new TreeSet<>();
        config.streams().stringPropertyNames().stream().filter(k -> !knownKafkaKey(k)).forEach(unknownKafka::add);
        if (!unknownKafka.isEmpty()) {
            throw new AssertionError("kafka.* settings that no Kafka client reads: " + unknownKafka);
        }
        Set<String> serdeKeys = publicStringConstants(AvroSerdeConfig.class);
        Set<String> unknownSerde = new TreeSet<>(config.serde().keySet());
        unknownSerde.removeAll(serdeKeys);
        if (!unknownSerde.isEmpty()) {
            throw new AssertionError("serde.* settings that the registry serde does not read: " + unknownSerde);
        }
        return config;
    }

    /** The repository file that the image's {@code CMD [..., "--config", PATH]} reads, found through its COPY. */
    static Path configFile(Dockerfile image) {
        List<String> cmd = image.runtime().only("CMD").execForm();
        int i = cmd.indexOf("--config");
        if (i < 0 || i + 1 >= cmd.size()) {
            throw new AssertionError(image.file() + ": CMD passes no --config file: " + cmd);
        }
        return copiedFrom(image, cmd.get(i + 1));
    }

    /** The repository file a runtime-stage COPY puts at {@code target}. */
    static Path copiedFrom(Dockerfile image, String target) {
        for (Dockerfile.Instruction copy : image.runtime().all("COPY")) {
            List<String> operands = copy.operands();
            if (copy.option("from").isEmpty() && operands.size() == 2 && operands.get(1).equals(target)) {
                return DeployFiles.path(operands.get(0));
            }
        }
        throw new AssertionError(image.file() + ": no COPY from the repository puts a file at " + target);
    }

    static boolean knownKafkaKey(String key) {
        Map<String, Set<String>> prefixed = Map.of(
                StreamsConfig.MAIN_CONSUMER_PREFIX, ConsumerConfig.configNames(),
                StreamsConfig.RESTORE_CONSUMER_PREFIX, ConsumerConfig.configNames(),
                StreamsConfig.GLOBAL_CONSUMER_PREFIX, ConsumerConfig.configNames(),
                StreamsConfig.CONSUMER_PREFIX, ConsumerConfig.configNames(),
                StreamsConfig.PRODUCER_PREFIX, ProducerConfig.configNames(),
                StreamsConfig.ADMIN_CLIENT_PREFIX, AdminClientConfig.configNames(),
                StreamsConfig.TOPIC_PREFIX, publicStringConstants(TopicConfig.class));
        // Longest prefix first: main.consumer. before consumer.
        for (String prefix : prefixed.keySet().stream().sorted((a, b) -> b.length() - a.length()).toList()) {
            if (key.startsWith(prefix)) {
                return prefixed.get(prefix).contains(key.substring(prefix.length()));
            }
        }
        Set<String> names = new HashSet<>(StreamsConfig.configDef().names());
        names.addAll(ConsumerConfig.configNames());
        names.addAll(ProducerConfig.configNames());
        names.addAll(AdminClientConfig.configNames());
        return names.contains(key);
    }

    /** The values of a class's public static final String fields: the keys it declares. */
    private static Set<String> publicStringConstants(Class<?> type) {
        Set<String> values = new HashSet<>();
        for (Field f : type.getFields()) {
            int m = f.getModifiers();
            if (Modifier.isStatic(m) && Modifier.isFinal(m) && f.getType() == String.class) {
                try {
                    values.add((String) f.get(null));
                } catch (IllegalAccessException e) {
                    throw new AssertionError(e);
                }
            }
        }
        return values;
    }
}
