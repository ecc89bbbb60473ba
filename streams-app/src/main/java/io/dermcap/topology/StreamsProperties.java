package io.dermcap.topology;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;

import java.time.Duration;
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
    public static final String DEFAULT_APPLICATION_ID = "dermcap";
    public static final long COMMIT_INTERVAL_MS = 1000;
    public static final long COMMIT_INTERVAL_MS_EXACTLY_ONCE = 100;
    /** Kafka Streams' own default (100) would delay every outcome. */
    public static final long LINGER_MS = 5;
    public static final long MIN_MAX_POLL_INTERVAL_MS = 300_000;
    public static final long MIN_TRANSACTION_TIMEOUT_MS = 10_000;
    /** Stream-thread waits for capacity that must fit in a poll interval (and a transaction). */
    public static final int BLOCKS_PER_POLL = 4;
    /** How much longer than a commit may legitimately take a stream thread may go without one. */
    public static final Duration STALL_GRACE = Duration.ofSeconds(30);

    private StreamsProperties() {
    }

    /**
     * @param kafka the {@code kafka.} settings with the prefix removed (their names checked by the configuration)
     * @throws InvalidSetting naming the Kafka key that is missing or too small
     */
    public static Derived derive(Map<String, String> kafka, BatchOptions batch) {
        Properties p = new Properties();
        p.putAll(kafka);
        if (blank(kafka.get(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG))) {
            throw new InvalidSetting(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "is required (host:port,...)");
        }
        p.putIfAbsent(StreamsConfig.APPLICATION_ID_CONFIG, DEFAULT_APPLICATION_ID);

        String guarantee = kafka.getOrDefault(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, AT_LEAST_ONCE);
        if (!guarantee.equals(AT_LEAST_ONCE) && !guarantee.equals(EXACTLY_ONCE_V2)) {
            throw new InvalidSetting(StreamsConfig.PROCESSING_GUARANTEE_CONFIG,
                    "must be " + AT_LEAST_ONCE + " or " + EXACTLY_ONCE_V2);
        }
        boolean eos = guarantee.equals(EXACTLY_ONCE_V2);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);

        // Commits bound how long a forwarded outcome's buffer entry lingers (at_least_once) and
        // how late captions become visible to read_committed consumers (exactly_once_v2).
        long commitMs = positive(kafka, StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, eos ? COMMIT_INTERVAL_MS_EXACTLY_ONCE : COMMIT_INTERVAL_MS);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Long.toString(commitMs));
        // Poll no longer than the batcher's punctuation so age-based flushes stay on time.
        p.putIfAbsent(StreamsConfig.POLL_MS_CONFIG, Long.toString(batch.punctuateInterval().toMillis()));
        p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, Long.toString(LINGER_MS));
        // the topology has no global stores, so this changes nothing but Kafka Streams' warning on
        // every StreamsConfig it builds (three per start); it becomes the default in Kafka 5.0
        p.putIfAbsent(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, "true");

        long block = batch.backpressureBlock().toMillis();
        long maxPoll = atLeast(p, kafka, ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, MIN_MAX_POLL_INTERVAL_MS,
                BLOCKS_PER_POLL * block, BLOCKS_PER_POLL + " x batch.backpressure.block.ms");
        if (eos) {
            atLeast(p, kafka, ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, MIN_TRANSACTION_TIMEOUT_MS,
                    commitMs + BLOCKS_PER_POLL * block, "commit.interval.ms + " + BLOCKS_PER_POLL + " x batch.backpressure.block.ms");
        }
        // a thread that has not committed for longer is stuck on Kafka (brokers not taking writes)
        Duration stall = STALL_GRACE.plusMillis(commitMs + BLOCKS_PER_POLL * block);
        return new Derived(p, eos, Duration.ofMillis(maxPoll), stall);
    }

    /**
     * The Streams properties with what was derived from them, typed.
     *
     * @param maxPollInterval the consumer's max.poll.interval.ms as it will run
     * @param stallLimit      how long a stream thread may go without polling, or without committing
     *                        what it processed, before the service stops reporting ready
     */
    public record Derived(Properties properties, boolean exactlyOnce, Duration maxPollInterval, Duration stallLimit) {
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

    /** The value of {@code key}: the user's, checked against {@code required}, or max(usual, required). */
    private static long atLeast(Properties p, Map<String, String> kafka, String key, long usual, long required, String why) {
        if (kafka.containsKey(key)) {
            long value = positive(kafka, key, 0);
            if (value < required) {
                throw new InvalidSetting(key, "must be at least " + required + " ms (" + why + ")");
            }
            return value;
        }
        long value = Math.max(usual, required);
        p.put(key, Long.toString(value));
        return value;
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
