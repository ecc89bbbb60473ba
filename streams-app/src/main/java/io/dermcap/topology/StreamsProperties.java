package io.dermcap.topology;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;

import java.util.Map;
import java.util.Properties;

/**
 * Kafka Streams settings: the user's {@code kafka.*} settings, plus what the batching needs.
 * The stream thread never waits for a model batch; it only waits for engine capacity, at most
 * {@code batch.backpressure.block.ms} per record, so the poll interval and (under
 * exactly_once_v2) the transaction timeout are derived from that wait, not from batch time.
 */
public final class StreamsProperties {

    public static final String AT_LEAST_ONCE = StreamsConfig.AT_LEAST_ONCE;
    public static final String EXACTLY_ONCE_V2 = StreamsConfig.EXACTLY_ONCE_V2;

    /** Keys dermcap sets itself; a user value would break the one-outcome-per-record promise. */
    private static final java.util.List<String> RESERVED = java.util.List.of(
            StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
            StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG,
            StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG,
            StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG);

    private StreamsProperties() {
    }

    /**
     * @param kafka the {@code kafka.} settings with the prefix removed
     * @throws InvalidSetting naming the Kafka key that is missing, reserved or too small
     */
    public static Properties derive(Map<String, String> kafka, BatchOptions batch) {
        for (String key : RESERVED) {
            if (kafka.containsKey(key)) {
                throw new InvalidSetting(key, "is managed by dermcap and cannot be configured");
            }
        }
        Properties p = new Properties();
        p.putAll(kafka);
        if (blank(kafka.get(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG))) {
            throw new InvalidSetting(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "is required (host:port,...)");
        }
        p.putIfAbsent(StreamsConfig.APPLICATION_ID_CONFIG, "dermcap");

        String guarantee = kafka.getOrDefault(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, AT_LEAST_ONCE);
        if (!guarantee.equals(AT_LEAST_ONCE) && !guarantee.equals(EXACTLY_ONCE_V2)) {
            throw new InvalidSetting(StreamsConfig.PROCESSING_GUARANTEE_CONFIG,
                    "must be " + AT_LEAST_ONCE + " or " + EXACTLY_ONCE_V2);
        }
        boolean eos = guarantee.equals(EXACTLY_ONCE_V2);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);

        // Commits bound how long a forwarded outcome's buffer entry lingers (at_least_once) and
        // how late captions become visible to read_committed consumers (exactly_once_v2).
        long commitMs = positive(kafka, StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, eos ? 100 : 1000);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Long.toString(commitMs));
        // Poll no longer than the batcher's punctuation so age-based flushes stay on time.
        p.putIfAbsent(StreamsConfig.POLL_MS_CONFIG, Long.toString(batch.punctuateInterval().toMillis()));
        p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, "5");

        long block = batch.backpressureBlock().toMillis();
        atLeast(p, kafka, ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 300_000, 4 * block,
                "4 x batch.backpressure.block.ms");
        if (eos) {
            atLeast(p, kafka, ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 10_000, commitMs + 4 * block,
                    "commit.interval.ms + 4 x batch.backpressure.block.ms");
        }
        return p;
    }

    /** A Kafka setting (key without the {@code kafka.} prefix) that cannot work. */
    public static final class InvalidSetting extends IllegalArgumentException {
        private final String key;

        InvalidSetting(String key, String reason) {
            super(reason);
            this.key = key;
        }

        public String key() {
            return key;
        }
    }

    private static void atLeast(Properties p, Map<String, String> kafka, String key, long usual, long required, String why) {
        if (kafka.containsKey(key)) {
            long value = positive(kafka, key, 0);
            if (value < required) {
                throw new InvalidSetting(key, "must be at least " + required + " ms (" + why + ")");
            }
        } else {
            p.put(key, Long.toString(Math.max(usual, required)));
        }
    }

    private static long positive(Map<String, String> kafka, String key, long fallback) {
        String raw = kafka.get(key);
        if (raw == null) {
            return fallback;
        }
        try {
            long v = Long.parseLong(raw.trim());
            if (v > 0) {
                return v;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new InvalidSetting(key, "must be a positive integer");
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}
