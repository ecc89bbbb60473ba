package io.dermcap.config;

import io.dermcap.registry.AvroSerdeConfig;
import io.dermcap.topology.StreamsProperties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;

import java.time.Duration;
import java.util.List;

import static io.dermcap.config.Parsers.bool;
import static io.dermcap.config.Parsers.integer;
import static io.dermcap.config.Parsers.list;
import static io.dermcap.config.Parsers.longValue;
import static io.dermcap.config.Parsers.millis;
import static io.dermcap.config.Parsers.nonBlank;
import static io.dermcap.config.Parsers.oneOf;
import static io.dermcap.config.Parsers.text;

/**
 * Every configuration key dermcap reads, in the order of the configuration table: each with its one
 * default (or the constant of the code that applies it) and its documentation. Public, so that code
 * writing a configuration (the demo, tests) names keys by these constants.
 */
public final class ConfigKeys {

    private ConfigKeys() {
    }

    /** A group of keys with a heading in the table. */
    public record Section(String title, List<Key<?>> keys) {
    }

    public static final String KAFKA_PREFIX = "kafka.";
    public static final String SERDE_PREFIX = "serde.";

    public static final Key<String> INSTANCE_ID = new Key<>("instance.id", "",
            "Id of this instance, recorded in every outcome event; empty: the host name", text());

    public static final Key<String> LOG_LEVEL = new Key<>("log.level", "INFO",
            "Root log level (TRACE, DEBUG, INFO, WARN, ERROR); caption text and identifiers appear at DEBUG and below only",
            oneOf("TRACE", "DEBUG", "INFO", "WARN", "ERROR"));

    public static final Key<String> BUNDLE_DIR = new Key<>("bundle.dir", null,
            "Folder of the model bundle (manifest.json and the ONNX graphs)", nonBlank());
    public static final Key<Integer> ENGINE_THREADS = new Key<>("engine.threads", "0",
            "ONNX Runtime intra-op threads per model run; 0: one per processor", integer(0, 1024));
    public static final Key<String> ENGINE_OPTIMIZATION = new Key<>("engine.optimization", "ALL",
            "ONNX Runtime graph optimisation level: NONE, BASIC, EXTENDED, ALL", oneOf("NONE", "BASIC", "EXTENDED", "ALL"));
    public static final Key<String> ENGINE_PROVIDER = new Key<>("engine.execution.provider", "CPU",
            "CPU, or CUDA (needs the cuda build and a GPU; never falls back silently)", oneOf("CPU", "CUDA"));
    public static final Key<Integer> ENGINE_CUDA_DEVICE = new Key<>("engine.cuda.device", "0", "GPU for CUDA", integer(0, 64));
    public static final Key<Boolean> ENGINE_PREPACK = new Key<>("engine.prepack.weights", "true",
            "Let ONNX Runtime keep weights in its GEMM layout (faster); false saves about 0.45 GB with the full-size bundle",
            bool());
    public static final Key<Long> IMAGE_MAX_PIXELS = new Key<>("image.max.pixels", "89478485",
            "Largest width x height decoded, read from the header before decoding (Pillow's bomb limit)",
            longValue(1, Long.MAX_VALUE));

    public static final Key<String> TOPIC_REQUESTS = new Key<>("topic.requests", "image-requests",
            "Input topic of CaptionRequest records", nonBlank());
    public static final Key<String> TOPIC_CAPTIONS = new Key<>("topic.captions", "captions",
            "Output topic of CaptionEvent records", nonBlank());
    public static final Key<String> TOPIC_FAILURES = new Key<>("topic.failures", "caption-failures",
            "Output topic of FailureEvent records (the dead-letter topic)", nonBlank());

    public static final Key<String> REQUEST_SUBJECT_CHECK = new Key<>("registry.request.subject.check", "WARN",
            "At start, whether the request topic's subject holds a schema dermcap can read: OFF, WARN (log and start), "
                    + "FAIL (refuse to start), REGISTER (register dermcap's when there is none, else as FAIL)",
            oneOf("OFF", "WARN", "FAIL", "REGISTER"));

    public static final Key<Integer> BATCH_MAX_SIZE = new Key<>("batch.max.size", "8",
            "Requests per flush and per model batch", integer(1, 1024));
    public static final Key<Duration> BATCH_MAX_DELAY = new Key<>("batch.max.delay.ms", "200",
            "A partial batch is flushed when its oldest request has waited this long", millis(0, 600_000));
    public static final Key<String> BATCH_MAX_INFLIGHT = new Key<>("batch.max.inflight", "",
            "Requests being fetched, decoded or captioned at once in this process; empty: 3 x batch.max.size",
            text());
    public static final Key<String> BATCH_MAX_BUFFERED = new Key<>("batch.max.buffered", "",
            "Requests a task buffers before the stream thread waits for capacity; empty: 2 x batch.max.size",
            text());
    public static final Key<Duration> BATCH_BACKPRESSURE_BLOCK = new Key<>("batch.backpressure.block.ms", "1000",
            "Longest wait of a stream thread for capacity per request; Kafka poll and transaction timeouts are derived from it",
            millis(0, 60_000));
    public static final Key<Integer> BATCH_FETCH_THREADS = new Key<>("batch.fetch.threads", "4",
            "Threads fetching and decoding images ahead of the model", integer(1, 256));

    public static final Key<String> HTTP_HOST = new Key<>("http.host", "0.0.0.0",
            "Address of the /metrics, /health/live and /health/ready endpoint", nonBlank());
    public static final Key<Integer> HTTP_PORT = new Key<>("http.port", "8080",
            "Port of that endpoint; 0: any free port", integer(0, 65535));

    public static final Key<List<String>> STORAGE_S3_BUCKETS = new Key<>("storage.s3.buckets", "",
            "S3 buckets requests may name, comma-separated; * allows any (the credentials still limit); empty: s3:// refused",
            list());
    public static final Key<List<String>> STORAGE_HTTPS_HOSTS = new Key<>("storage.https.hosts", "",
            "https hosts requests may name (exact, or *.example.org for subdomains); empty: https:// refused", list());
    public static final Key<List<String>> STORAGE_ADDRESS_CLASSES = new Key<>("storage.https.address.classes", "PUBLIC",
            "Address classes https hosts may resolve to: PUBLIC, PRIVATE, LOOPBACK, LINK_LOCAL, METADATA, ... (SSRF guard)",
            list());
    public static final Key<Boolean> STORAGE_PLAIN_HTTP = new Key<>("storage.http.plain.allowed", "false",
            "Also accept http:// URIs (development and tests only)", bool());
    public static final Key<String> STORAGE_FILE_ROOT = new Key<>("storage.file.root", "",
            "Directory that file:// URIs must lie in; empty: file:// refused", text());
    public static final Key<Long> STORAGE_MAX_BYTES = new Key<>("storage.max.bytes", "33554432",
            "Largest image accepted, checked from headers and while reading", longValue(1, 1L << 31));
    public static final Key<Integer> STORAGE_MAX_REDIRECTS = new Key<>("storage.https.max.redirects", "3",
            "https redirects followed, each checked like the first URI", integer(0, 20));
    public static final Key<Integer> STORAGE_RETRY_ATTEMPTS = new Key<>("storage.retry.max.attempts", "5",
            "Attempts per fetch when failures are transient", integer(1, 100));
    public static final Key<Duration> STORAGE_RETRY_INITIAL = new Key<>("storage.retry.initial.backoff.ms", "200",
            "First backoff; doubles per retry, with full jitter", millis(0, 600_000));
    public static final Key<Duration> STORAGE_RETRY_MAX = new Key<>("storage.retry.max.backoff.ms", "5000",
            "Longest backoff", millis(0, 600_000));
    public static final Key<Duration> STORAGE_RETRY_BUDGET = new Key<>("storage.retry.budget.ms", "30000",
            "No retry starts later than this after the first attempt; then the request fails as FETCH_FAILED",
            millis(0, 3_600_000));
    public static final Key<Duration> STORAGE_CONNECT_TIMEOUT = new Key<>("storage.connect.timeout.ms", "5000",
            "Connection timeout", millis(1, 600_000));
    public static final Key<Duration> STORAGE_READ_TIMEOUT = new Key<>("storage.read.timeout.ms", "30000",
            "Longest silence while reading a response", millis(1, 600_000));
    public static final Key<Duration> STORAGE_ATTEMPT_TIMEOUT = new Key<>("storage.attempt.timeout.ms", "60000",
            "Longest single attempt", millis(1, 3_600_000));
    public static final Key<String> STORAGE_S3_ENDPOINT = new Key<>("storage.s3.endpoint", "",
            "S3 endpoint override (MinIO, Ceph, S3Proxy); empty: AWS", text());
    public static final Key<String> STORAGE_S3_REGION = new Key<>("storage.s3.region", "us-east-1", "S3 signing region", nonBlank());
    public static final Key<Boolean> STORAGE_S3_PATH_STYLE = new Key<>("storage.s3.path.style", "false",
            "Path-style S3 addressing (most non-AWS servers need it)", bool());
    public static final Key<String> STORAGE_S3_ACCESS_KEY = new Key<>("storage.s3.access.key.id", "",
            "Static S3 access key id; empty: the default AWS credential chain", text());
    public static final Key<String> STORAGE_S3_SECRET_KEY = new Key<>("storage.s3.secret.access.key", "",
            "Its secret (prefer DERMCAP_STORAGE_S3_SECRET_ACCESS_KEY)", text());
    public static final Key<String> STORAGE_TRUSTSTORE = new Key<>("storage.https.truststore.location", "",
            "Trust store for https servers with a private CA; empty: the JDK's", text());
    public static final Key<String> STORAGE_TRUSTSTORE_PASSWORD = new Key<>("storage.https.truststore.password", "",
            "Its password", text());
    public static final Key<String> STORAGE_TRUSTSTORE_TYPE = new Key<>("storage.https.truststore.type", "PKCS12",
            "Its type (PKCS12 or JKS)", nonBlank());

    public static final Key<Boolean> AUDIT_ENABLED = new Key<>("audit.enabled", "false",
            "Keep every outcome in queryable state stores and serve the audit API and page (needs credentials)", bool());
    public static final Key<String> AUDIT_HOST = new Key<>("audit.host", "127.0.0.1",
            "Address of the audit endpoint (its own listener, apart from the operations endpoint)", nonBlank());
    public static final Key<Integer> AUDIT_PORT = new Key<>("audit.port", "8443", "Its port; 0: any free port", integer(0, 65535));
    public static final Key<String> AUDIT_ADVERTISED_HOST = new Key<>("audit.advertised.host", "",
            "Host other instances use to reach this one (Kafka Streams application.server); empty: audit.host, or the host name when that is 0.0.0.0",
            text());
    public static final Key<String> AUDIT_CREDENTIALS_FILE = new Key<>("audit.credentials.file", "",
            "File of clients, one 'NAME sha256:HEX' or 'NAME pbkdf2-sha256:ITER:SALT:HASH' per line (hashes, never secrets)",
            text());
    public static final Key<String> AUDIT_CREDENTIALS = new Key<>("audit.credentials", "",
            "The same entries inline, ';'-separated (e.g. DERMCAP_AUDIT_CREDENTIALS); used with or instead of the file", text());
    public static final Key<String> AUDIT_KEYSTORE = new Key<>("audit.tls.keystore.location", "",
            "Key store with the endpoint's TLS certificate; empty: plain http, allowed on a loopback address only", text());
    public static final Key<String> AUDIT_KEYSTORE_PASSWORD = new Key<>("audit.tls.keystore.password", "", "Its password", text());
    public static final Key<String> AUDIT_KEYSTORE_TYPE = new Key<>("audit.tls.keystore.type", "PKCS12",
            "Its type (PKCS12 or JKS)", nonBlank());
    public static final Key<Boolean> AUDIT_PLAIN_HTTP = new Key<>("audit.http.plain.allowed", "false",
            "Serve plain http on a non-loopback address (behind a TLS-terminating proxy only)", bool());
    public static final Key<Duration> AUDIT_RETENTION = new Key<>("audit.retention.ms", "604800000",
            "How long outcomes stay queryable (older store segments are dropped)", millis(60_000, 10L * 365 * 86_400_000));
    public static final Key<String> AUDIT_INDEX_PASSTHROUGH = new Key<>("audit.index.passthrough", "",
            "Passthrough field indexed for lookups: a string field of Passthrough or correlation.<key>; empty: none", text());
    public static final Key<Duration> AUDIT_FORWARD_TIMEOUT = new Key<>("audit.forward.timeout.ms", "5000",
            "How long a lookup waits for the instance that owns the data", millis(100, 120_000));
    public static final Key<Integer> AUDIT_RATE = new Key<>("audit.rate.limit.per.minute", "600",
            "Requests per client (or per address before authentication) per minute", integer(1, 1_000_000));
    public static final Key<String> AUDIT_ACCESS_LOG = new Key<>("audit.access.log", "",
            "File the access log is appended to; empty: the dermcap.audit.access logger", text());

    public static final List<Section> SECTIONS = List.of(
            new Section("Service", List.of(INSTANCE_ID, LOG_LEVEL)),
            new Section("Model", List.of(BUNDLE_DIR, ENGINE_THREADS, ENGINE_OPTIMIZATION, ENGINE_PROVIDER,
                    ENGINE_CUDA_DEVICE, ENGINE_PREPACK, IMAGE_MAX_PIXELS)),
            new Section("Topics", List.of(TOPIC_REQUESTS, TOPIC_CAPTIONS, TOPIC_FAILURES, REQUEST_SUBJECT_CHECK)),
            new Section("Micro-batching", List.of(BATCH_MAX_SIZE, BATCH_MAX_DELAY, BATCH_MAX_INFLIGHT,
                    BATCH_MAX_BUFFERED, BATCH_BACKPRESSURE_BLOCK, BATCH_FETCH_THREADS)),
            new Section("Object storage", List.of(STORAGE_S3_BUCKETS, STORAGE_HTTPS_HOSTS, STORAGE_ADDRESS_CLASSES,
                    STORAGE_PLAIN_HTTP, STORAGE_FILE_ROOT, STORAGE_MAX_BYTES, STORAGE_MAX_REDIRECTS,
                    STORAGE_RETRY_ATTEMPTS, STORAGE_RETRY_INITIAL, STORAGE_RETRY_MAX, STORAGE_RETRY_BUDGET,
                    STORAGE_CONNECT_TIMEOUT, STORAGE_READ_TIMEOUT, STORAGE_ATTEMPT_TIMEOUT, STORAGE_S3_ENDPOINT,
                    STORAGE_S3_REGION, STORAGE_S3_PATH_STYLE, STORAGE_S3_ACCESS_KEY, STORAGE_S3_SECRET_KEY,
                    STORAGE_TRUSTSTORE, STORAGE_TRUSTSTORE_PASSWORD, STORAGE_TRUSTSTORE_TYPE)),
            new Section("Operations endpoint", List.of(HTTP_HOST, HTTP_PORT)),
            new Section("Audit endpoint", List.of(AUDIT_ENABLED, AUDIT_HOST, AUDIT_PORT, AUDIT_ADVERTISED_HOST,
                    AUDIT_CREDENTIALS_FILE, AUDIT_CREDENTIALS, AUDIT_KEYSTORE, AUDIT_KEYSTORE_PASSWORD, AUDIT_KEYSTORE_TYPE,
                    AUDIT_PLAIN_HTTP, AUDIT_RETENTION, AUDIT_INDEX_PASSTHROUGH, AUDIT_FORWARD_TIMEOUT, AUDIT_RATE,
                    AUDIT_ACCESS_LOG)));

    /** Pass-through prefixes: keys under them are handed to a library as they are (prefix removed). */
    static final List<String> PREFIXES = List.of(KAFKA_PREFIX, SERDE_PREFIX);

    /** A documented key of a pass-through prefix. */
    public record PassThrough(String key, String defaultValue, String doc) {
    }

    public static final PassThrough SERDE_SCHEMA_REGISTRY_URL = new PassThrough(SERDE_PREFIX + AvroSerdeConfig.SCHEMA_REGISTRY_URL,
            "(required)", "Schema registry URL(s), comma-separated, user:password@ allowed; mock://scope names an "
            + "in-process registry that the demo or a test bound");

    public static final List<PassThrough> SERDE_KEYS = List.of(
            SERDE_SCHEMA_REGISTRY_URL,
            serde(AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, AvroSerdeConfig.DEFAULT_AUTO_REGISTER, "Register dermcap's schemas when missing"),
            serde(AvroSerdeConfig.USE_LATEST_VERSION, AvroSerdeConfig.DEFAULT_USE_LATEST_VERSION,
                    "Write with the subject's latest schema instead"),
            serde(AvroSerdeConfig.BASIC_AUTH_CREDENTIALS_SOURCE, AvroSerdeConfig.DEFAULT_CREDENTIALS_SOURCE, "URL or USER_INFO"),
            serde(AvroSerdeConfig.BASIC_AUTH_USER_INFO, "", "user:password when the source is USER_INFO"),
            serde(AvroSerdeConfig.TRUSTSTORE_LOCATION, "", "Trust store for a registry with a private CA"),
            serde(AvroSerdeConfig.TRUSTSTORE_PASSWORD, "", "Its password"),
            serde(AvroSerdeConfig.MAX_RETRIES, AvroSerdeConfig.DEFAULT_MAX_RETRIES, "Retries of a failed registry call"),
            serde(AvroSerdeConfig.RETRIES_WAIT_MS, AvroSerdeConfig.DEFAULT_RETRIES_WAIT_MS,
                    "First wait between registry retries (doubling)"),
            serde(AvroSerdeConfig.RETRIES_MAX_WAIT_MS, AvroSerdeConfig.DEFAULT_RETRIES_MAX_WAIT_MS,
                    "Longest wait between registry retries"));

    public static final PassThrough KAFKA_BOOTSTRAP_SERVERS = new PassThrough(KAFKA_PREFIX + StreamsConfig.BOOTSTRAP_SERVERS_CONFIG,
            "(required)", "Kafka brokers, host:port,...");
    public static final PassThrough KAFKA_APPLICATION_ID = new PassThrough(KAFKA_PREFIX + StreamsConfig.APPLICATION_ID_CONFIG,
            StreamsProperties.DEFAULT_APPLICATION_ID, "Consumer group and internal topic prefix");
    public static final PassThrough KAFKA_PROCESSING_GUARANTEE = new PassThrough(
            KAFKA_PREFIX + StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsProperties.AT_LEAST_ONCE,
            StreamsProperties.AT_LEAST_ONCE + " or " + StreamsProperties.EXACTLY_ONCE_V2);
    /** Where Kafka Streams keeps its state stores (Kafka's own default applies). */
    public static final String KAFKA_STATE_DIR = KAFKA_PREFIX + StreamsConfig.STATE_DIR_CONFIG;

    /** The documented Kafka settings that dermcap defaults or checks (everything else under {@code kafka.} passes through). */
    public static final List<PassThrough> KAFKA_DEFAULTS = List.of(
            KAFKA_BOOTSTRAP_SERVERS,
            KAFKA_APPLICATION_ID,
            KAFKA_PROCESSING_GUARANTEE,
            new PassThrough(KAFKA_PREFIX + StreamsConfig.COMMIT_INTERVAL_MS_CONFIG,
                    StreamsProperties.COMMIT_INTERVAL_MS + " (" + StreamsProperties.AT_LEAST_ONCE + "), "
                            + StreamsProperties.COMMIT_INTERVAL_MS_EXACTLY_ONCE + " (" + StreamsProperties.EXACTLY_ONCE_V2 + ")",
                    "How often offsets, the batcher's store and (exactly_once_v2) transactions commit"),
            new PassThrough(KAFKA_PREFIX + StreamsConfig.POLL_MS_CONFIG, BATCH_MAX_DELAY.name() + " / 4, between 5 and 100",
                    "Longest poll, so age-based flushes stay on time"),
            new PassThrough(KAFKA_PREFIX + ProducerConfig.LINGER_MS_CONFIG, String.valueOf(StreamsProperties.LINGER_MS),
                    "Producer linger; Kafka Streams' own default (100) would delay every outcome"),
            new PassThrough(KAFKA_PREFIX + ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG,
                    "max(" + StreamsProperties.MIN_MAX_POLL_INTERVAL_MS + ", " + StreamsProperties.BLOCKS_PER_POLL + " x "
                            + BATCH_BACKPRESSURE_BLOCK.name() + ")",
                    "A smaller value than " + StreamsProperties.BLOCKS_PER_POLL + " x " + BATCH_BACKPRESSURE_BLOCK.name()
                            + " is refused"),
            new PassThrough(KAFKA_PREFIX + StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, "0 (Kafka Streams default)",
                    "Standby copies of each task's stores (the audit stores too): lookups survive a failed instance"),
            new PassThrough(KAFKA_PREFIX + StreamsConfig.APPLICATION_SERVER_CONFIG, "(set by dermcap)",
                    "With " + AUDIT_ENABLED.name() + ": " + AUDIT_ADVERTISED_HOST.name()
                            + " and the audit port; other instances forward lookups there"),
            new PassThrough(KAFKA_PREFIX + ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
                    "max(" + StreamsProperties.MIN_TRANSACTION_TIMEOUT_MS + ", commit + " + StreamsProperties.BLOCKS_PER_POLL
                            + " x " + BATCH_BACKPRESSURE_BLOCK.name() + ")",
                    StreamsProperties.EXACTLY_ONCE_V2 + " only; a smaller value is refused"));

    private static PassThrough serde(String key, Object defaultValue, String doc) {
        return new PassThrough(SERDE_PREFIX + key, String.valueOf(defaultValue), doc);
    }

    public static List<Key<?>> all() {
        return SECTIONS.stream().flatMap(s -> s.keys().stream()).toList();
    }
}
