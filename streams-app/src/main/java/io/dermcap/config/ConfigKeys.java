package io.dermcap.config;

import java.time.Duration;
import java.util.List;

import static io.dermcap.config.Parsers.integer;
import static io.dermcap.config.Parsers.millis;
import static io.dermcap.config.Parsers.nonBlank;
import static io.dermcap.config.Parsers.text;

/** Every configuration key dermcap reads, in the order of the configuration table. */
final class ConfigKeys {

    private ConfigKeys() {
    }

    /** A group of keys with a heading in the table. */
    record Section(String title, List<Key<?>> keys) {
    }

    /** A documented Kafka setting that dermcap defaults or checks (everything else under {@code kafka.} passes through). */
    record KafkaDefault(String key, String defaultValue, String doc) {
    }

    static final String KAFKA_PREFIX = "kafka.";

    static final Key<String> INSTANCE_ID = new Key<>("instance.id", "",
            "Id of this instance, recorded in every outcome event; empty: the host name", text());

    static final Key<String> TOPIC_REQUESTS = new Key<>("topic.requests", "image-requests",
            "Input topic of CaptionRequest records", nonBlank());
    static final Key<String> TOPIC_CAPTIONS = new Key<>("topic.captions", "captions",
            "Output topic of CaptionEvent records", nonBlank());
    static final Key<String> TOPIC_FAILURES = new Key<>("topic.failures", "caption-failures",
            "Output topic of FailureEvent records (the dead-letter topic)", nonBlank());

    static final Key<Integer> BATCH_MAX_SIZE = new Key<>("batch.max.size", "8",
            "Requests per flush and per model batch", integer(1, 1024));
    static final Key<Duration> BATCH_MAX_DELAY = new Key<>("batch.max.delay.ms", "200",
            "A partial batch is flushed when its oldest request has waited this long", millis(0, 600_000));
    static final Key<String> BATCH_MAX_INFLIGHT = new Key<>("batch.max.inflight", "",
            "Requests being fetched, decoded or captioned at once in this process; empty: 3 x batch.max.size",
            text());
    static final Key<String> BATCH_MAX_BUFFERED = new Key<>("batch.max.buffered", "",
            "Requests a task buffers before the stream thread waits for capacity; empty: 2 x batch.max.size",
            text());
    static final Key<Duration> BATCH_BACKPRESSURE_BLOCK = new Key<>("batch.backpressure.block.ms", "1000",
            "Longest wait of a stream thread for capacity per request; Kafka poll and transaction timeouts are derived from it",
            millis(0, 60_000));
    static final Key<Integer> BATCH_FETCH_THREADS = new Key<>("batch.fetch.threads", "4",
            "Threads fetching and decoding images ahead of the model", integer(1, 256));

    static final Key<String> HTTP_HOST = new Key<>("http.host", "0.0.0.0",
            "Address of the /metrics, /health/live and /health/ready endpoint", nonBlank());
    static final Key<Integer> HTTP_PORT = new Key<>("http.port", "8080",
            "Port of that endpoint; 0: any free port", integer(0, 65535));

    static final List<Section> SECTIONS = List.of(
            new Section("Service", List.of(INSTANCE_ID)),
            new Section("Topics", List.of(TOPIC_REQUESTS, TOPIC_CAPTIONS, TOPIC_FAILURES)),
            new Section("Micro-batching", List.of(BATCH_MAX_SIZE, BATCH_MAX_DELAY, BATCH_MAX_INFLIGHT,
                    BATCH_MAX_BUFFERED, BATCH_BACKPRESSURE_BLOCK, BATCH_FETCH_THREADS)),
            new Section("Operations endpoint", List.of(HTTP_HOST, HTTP_PORT)));

    /** Pass-through prefixes: keys under them are handed to a library as they are (prefix removed). */
    static final List<String> PREFIXES = List.of(KAFKA_PREFIX);

    static final List<KafkaDefault> KAFKA_DEFAULTS = List.of(
            new KafkaDefault("kafka.bootstrap.servers", "(required)", "Kafka brokers, host:port,..."),
            new KafkaDefault("kafka.application.id", "dermcap", "Consumer group and internal topic prefix"),
            new KafkaDefault("kafka.processing.guarantee", "at_least_once", "at_least_once or exactly_once_v2"),
            new KafkaDefault("kafka.commit.interval.ms", "1000 (at_least_once), 100 (exactly_once_v2)",
                    "How often offsets, the batcher's store and (exactly_once_v2) transactions commit"),
            new KafkaDefault("kafka.poll.ms", "batch.max.delay.ms / 4, between 5 and 100",
                    "Longest poll, so age-based flushes stay on time"),
            new KafkaDefault("kafka.linger.ms", "5", "Producer linger; Kafka Streams' own default (100) would delay every outcome"),
            new KafkaDefault("kafka.max.poll.interval.ms", "max(300000, 4 x batch.backpressure.block.ms)",
                    "A smaller value than 4 x batch.backpressure.block.ms is refused"),
            new KafkaDefault("kafka.transaction.timeout.ms", "max(10000, commit + 4 x batch.backpressure.block.ms)",
                    "exactly_once_v2 only; a smaller value is refused"));

    static List<Key<?>> all() {
        return SECTIONS.stream().flatMap(s -> s.keys().stream()).toList();
    }
}
