package io.dermcap.config;

import io.dermcap.registry.AvroSerdeConfig;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The keys the pass-through settings may use: {@code kafka.*} against the configuration
 * definitions Kafka itself publishes (Streams, consumer, producer, admin, topic; unprefixed and in
 * Kafka Streams' prefixed forms), {@code serde.*} against the serde's own keys. An unknown key or
 * one dermcap manages stops the start, naming the key and the nearest valid one: a misspelled
 * setting would otherwise be ignored without a word.
 */
final class KnownSettings {

    /** Kafka Streams' client prefixes, longest first, with the keys each may be followed by. */
    private static final Map<String, Set<String>> KAFKA_PREFIXES = new LinkedHashMap<>();
    /** Keys without a prefix: Streams' own and every client's (Streams hands them to each client). */
    private static final Set<String> KAFKA_PLAIN = new TreeSet<>();

    static {
        Set<String> consumer = ConsumerConfig.configNames();
        KAFKA_PREFIXES.put(StreamsConfig.MAIN_CONSUMER_PREFIX, consumer);
        KAFKA_PREFIXES.put(StreamsConfig.RESTORE_CONSUMER_PREFIX, consumer);
        KAFKA_PREFIXES.put(StreamsConfig.GLOBAL_CONSUMER_PREFIX, consumer);
        KAFKA_PREFIXES.put(StreamsConfig.CONSUMER_PREFIX, consumer);
        KAFKA_PREFIXES.put(StreamsConfig.PRODUCER_PREFIX, ProducerConfig.configNames());
        KAFKA_PREFIXES.put(StreamsConfig.ADMIN_CLIENT_PREFIX, AdminClientConfig.configNames());
        KAFKA_PREFIXES.put(StreamsConfig.TOPIC_PREFIX, topicConfigNames());
        KAFKA_PLAIN.addAll(StreamsConfig.configDef().names());
        KAFKA_PLAIN.addAll(consumer);
        KAFKA_PLAIN.addAll(ProducerConfig.configNames());
        KAFKA_PLAIN.addAll(AdminClientConfig.configNames());
    }

    private static final String UNREADABLE = "dermcap turns unreadable input records into UNDESERIALIZABLE_RECORD "
            + "failure events on topic.failures";
    /**
     * Kafka keys dermcap sets itself, and why: a user value would break the promise of one outcome
     * event per request (or would be ignored).
     */
    static final Map<String, String> KAFKA_MANAGED = Map.of(
            StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, UNREADABLE,
            "default.deserialization.exception.handler", UNREADABLE,
            StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG,
            "dermcap's processors turn every error into a failure event themselves",
            StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG,
            "an outcome that cannot be written must stop the task, not be skipped",
            "default.production.exception.handler", "an outcome that cannot be written must stop the task, not be skipped",
            StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, "failure events go to topic.failures",
            StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, "keys are UTF-8 request ids",
            StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, "values are Avro records, configured with serde.*");

    private KnownSettings() {
    }

    /** @param kafka {@code kafka.*} keys with the prefix removed */
    static void checkKafka(Iterable<String> kafka) {
        for (String key : kafka) {
            String full = ConfigKeys.KAFKA_PREFIX + key;
            String managed = KAFKA_MANAGED.get(key);
            if (managed != null) {
                throw new ConfigException(full, "managed by dermcap, cannot be set (" + managed + ")");
            }
            if (key.startsWith(StreamsConfig.CLIENT_TAG_PREFIX) && key.length() > StreamsConfig.CLIENT_TAG_PREFIX.length()) {
                continue; // rack-aware standby assignment tags: client.tag.<any name>
            }
            String prefix = KAFKA_PREFIXES.keySet().stream().filter(key::startsWith).findFirst().orElse("");
            Set<String> valid = prefix.isEmpty() ? KAFKA_PLAIN : KAFKA_PREFIXES.get(prefix);
            String rest = key.substring(prefix.length());
            if (!valid.contains(rest)) {
                String kind = prefix.isEmpty() ? "Kafka Streams, consumer, producer or admin" : "'" + prefix + "'";
                throw new ConfigException(full, "not a " + kind + " setting; did you mean "
                        + ConfigKeys.KAFKA_PREFIX + prefix + nearest(rest, valid) + "?");
            }
        }
    }

    /**
     * Hands the complete Streams properties to Kafka's own config classes (Streams, and the admin,
     * main consumer and producer configs Streams derives from them), so a value Kafka would refuse
     * when the service starts its clients is refused with the configuration.
     *
     * @throws ConfigException with Kafka's message
     */
    static void checkValues(java.util.Properties streams) {
        try {
            StreamsConfig config = new StreamsConfig(streams);
            new AdminClientConfig(config.getAdminConfigs("dermcap-check"));
            // Kafka Streams adds its byte-array (de)serializers when it creates the clients
            Map<String, Object> consumer = new java.util.HashMap<>(config.getMainConsumerConfigs("dermcap-check", "dermcap-check", 0));
            consumer.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
            consumer.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
            new ConsumerConfig(consumer);
            Map<String, Object> producer = new java.util.HashMap<>(config.getProducerConfigs("dermcap-check"));
            producer.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
            producer.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
            new ProducerConfig(producer);
        } catch (org.apache.kafka.common.config.ConfigException e) {
            throw new ConfigException(ConfigKeys.KAFKA_PREFIX + "*", "Kafka refuses the settings: " + e.getMessage());
        }
    }

    /** @param serde {@code serde.*} keys with the prefix removed */
    static void checkSerde(Iterable<String> serde) {
        for (String key : serde) {
            if (!AvroSerdeConfig.KEYS.contains(key)) {
                throw new ConfigException(ConfigKeys.SERDE_PREFIX + key, "not a setting of dermcap's registry serde; "
                        + "did you mean " + ConfigKeys.SERDE_PREFIX + nearest(key, AvroSerdeConfig.KEYS) + "?");
            }
        }
    }

    /** The candidate with the smallest edit distance to {@code key} (the alphabetically first of equals). */
    static String nearest(String key, Set<String> candidates) {
        return candidates.stream()
                .min(Comparator.comparingInt((String c) -> distance(key, c)).thenComparing(Comparator.naturalOrder()))
                .orElseThrow();
    }

    /** Levenshtein distance with adjacent transpositions counted as one edit. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }

    /** Topic-level settings: Kafka publishes them as the {@code *_CONFIG} constants of {@link TopicConfig}. */
    private static Set<String> topicConfigNames() {
        Set<String> names = new TreeSet<>();
        for (Field f : TopicConfig.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class && f.getName().endsWith("_CONFIG")) {
                try {
                    names.add((String) f.get(null));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return names;
    }
}
