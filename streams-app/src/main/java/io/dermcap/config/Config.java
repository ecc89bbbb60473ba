package io.dermcap.config;

import io.dermcap.audit.AuditOptions;
import io.dermcap.audit.Credentials;
import io.dermcap.image.ImageLimits;
import io.dermcap.metrics.MetricsOptions;
import io.dermcap.model.EngineOptions;
import io.dermcap.registry.AvroSerdeConfig;
import io.dermcap.registry.RequestSubjectCheck;
import io.dermcap.storage.AddressClass;
import io.dermcap.storage.StorageOptions;
import io.dermcap.topology.BatchOptions;
import io.dermcap.topology.OutcomeStores;
import io.dermcap.topology.StreamsProperties;
import io.dermcap.topology.TopologyOptions;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/** Reads the configuration: the one place that looks at properties files and the environment. */
public final class Config {

    private Config() {
    }

    /** {@link #load(Path, Map)} with this process's environment. */
    public static DermcapConfig load(Path file) {
        return load(file, System.getenv());
    }

    /**
     * Reads {@code file} (null: the file {@code DERMCAP_CONFIG} names, or none) with {@code DERMCAP_*}
     * variables of {@code env} on top, into the typed options of every package.
     *
     * @throws ConfigException naming the first key that is unknown, missing or invalid
     */
    public static DermcapConfig load(Path file, Map<String, String> env) {
        ConfigSource source = source(file, env, Map.of());

        String instanceId = get(source, ConfigKeys.INSTANCE_ID);
        if (instanceId.isBlank()) {
            instanceId = hostName();
        }
        int size = get(source, ConfigKeys.BATCH_MAX_SIZE);
        int inflight = sizeMultiple(source, ConfigKeys.BATCH_MAX_INFLIGHT, size, 3);
        int buffered = sizeMultiple(source, ConfigKeys.BATCH_MAX_BUFFERED, size, 2);
        BatchOptions batch = new BatchOptions(size, get(source, ConfigKeys.BATCH_MAX_DELAY), inflight, buffered,
                get(source, ConfigKeys.BATCH_BACKPRESSURE_BLOCK), get(source, ConfigKeys.BATCH_FETCH_THREADS));

        MetricsOptions http = new MetricsOptions(get(source, ConfigKeys.HTTP_HOST), get(source, ConfigKeys.HTTP_PORT));

        Map<String, String> kafka = new TreeMap<>();
        source.withPrefix(ConfigKeys.KAFKA_PREFIX).forEach((k, v) -> kafka.put(k, v.text()));
        KnownSettings.checkKafka(kafka.keySet());
        StreamsProperties.Derived streams;
        try {
            streams = StreamsProperties.derive(kafka, batch);
        } catch (StreamsProperties.InvalidSetting e) {
            String key = ConfigKeys.KAFKA_PREFIX + e.key();
            ConfigSource.Value v = source.get(key);
            throw new ConfigException(key, e.getMessage() + (v == null ? "" : " (from " + v.origin() + ")"));
        }
        KnownSettings.checkValues(streams.properties());
        TopologyOptions topology = new TopologyOptions(
                get(source, ConfigKeys.TOPIC_REQUESTS),
                get(source, ConfigKeys.TOPIC_CAPTIONS),
                get(source, ConfigKeys.TOPIC_FAILURES),
                instanceId,
                serviceVersion(),
                streams.exactlyOnce());
        if (topology.requestTopic().equals(topology.captionTopic()) || topology.requestTopic().equals(topology.failureTopic())) {
            throw new ConfigException(ConfigKeys.TOPIC_REQUESTS.name(), "must differ from the output topics");
        }

        StorageOptions storage = storage(source);
        Map<String, String> serdeSettings = new TreeMap<>();
        source.withPrefix(ConfigKeys.SERDE_PREFIX).forEach((k, v) -> serdeSettings.put(k, v.text()));
        KnownSettings.checkSerde(serdeSettings.keySet());
        AvroSerdeConfig serde;
        try {
            serde = AvroSerdeConfig.fromMap(serdeSettings);
        } catch (org.apache.kafka.common.config.ConfigException e) {
            throw new ConfigException(ConfigKeys.SERDE_PREFIX + "*", e.getMessage().replace("configuration ",
                    "configuration " + ConfigKeys.SERDE_PREFIX));
        }
        return new DermcapConfig(Path.of(get(source, ConfigKeys.BUNDLE_DIR)), engine(source), imageLimits(source, storage),
                topology, batch, http, streams.properties(), streams.maxPollInterval(), streams.stallLimit(), storage, serde, serdeSettings,
                get(source, ConfigKeys.LOG_LEVEL), RequestSubjectCheck.Mode.parse(get(source, ConfigKeys.REQUEST_SUBJECT_CHECK)),
                audit(source));
    }

    /** {@link #offline(Path, Map, Map)} with this process's environment. */
    public static OfflineConfig offline(Path file, Map<String, String> settings) {
        return offline(file, settings, System.getenv());
    }

    /**
     * The settings of the offline commands ({@code caption}, {@code bench}): the bundle, engine, image
     * and storage keys of {@code run}, with its defaults and checks, from {@code file} (null: the one
     * {@code DERMCAP_CONFIG} names, or none), {@code env} and {@code settings} (the command line) on
     * top. Keys of Kafka and the topology are accepted and ignored, so {@code run}'s file serves.
     *
     * @throws ConfigException naming the first key that is unknown, missing or invalid
     */
    public static OfflineConfig offline(Path file, Map<String, String> settings, Map<String, String> env) {
        ConfigSource source = source(file, env, settings);
        StorageOptions storage = storage(source);
        return new OfflineConfig(Path.of(get(source, ConfigKeys.BUNDLE_DIR)), engine(source),
                imageLimits(source, storage), storage, get(source, ConfigKeys.BATCH_FETCH_THREADS));
    }

    private static ConfigSource source(Path file, Map<String, String> env, Map<String, String> settings) {
        if (file == null && env.get(ConfigSource.CONFIG_FILE) != null && !env.get(ConfigSource.CONFIG_FILE).isBlank()) {
            file = Path.of(env.get(ConfigSource.CONFIG_FILE));
        }
        java.util.Set<String> known = new java.util.HashSet<>();
        ConfigKeys.all().forEach(k -> known.add(k.name()));
        return ConfigSource.read(file, env, settings, known::contains, ConfigKeys.PREFIXES, known);
    }

    private static EngineOptions engine(ConfigSource source) {
        return new EngineOptions(get(source, ConfigKeys.ENGINE_THREADS),
                EngineOptions.OptimizationLevel.valueOf(get(source, ConfigKeys.ENGINE_OPTIMIZATION)),
                EngineOptions.ExecutionProvider.valueOf(get(source, ConfigKeys.ENGINE_PROVIDER)),
                get(source, ConfigKeys.ENGINE_CUDA_DEVICE),
                get(source, ConfigKeys.ENGINE_PREPACK));
    }

    /** The byte limit is the storage's: the fetcher and the decoder hold an image to the same one. */
    private static ImageLimits imageLimits(ConfigSource source, StorageOptions storage) {
        return new ImageLimits(get(source, ConfigKeys.IMAGE_MAX_PIXELS), storage.maxBytes());
    }

    /** The audit settings, or null when off; on, credentials are required and plain http only on loopback. */
    private static AuditOptions audit(ConfigSource source) {
        if (!get(source, ConfigKeys.AUDIT_ENABLED)) {
            return null;
        }
        String file = get(source, ConfigKeys.AUDIT_CREDENTIALS_FILE);
        StringBuilder entries = new StringBuilder(get(source, ConfigKeys.AUDIT_CREDENTIALS));
        if (!file.isBlank()) {
            try {
                entries.append('\n').append(java.nio.file.Files.readString(Path.of(file)));
            } catch (IOException e) {
                throw new ConfigException(ConfigKeys.AUDIT_CREDENTIALS_FILE.name(), "cannot read " + file + ": "
                        + e.getClass().getSimpleName());
            }
        }
        Credentials credentials;
        try {
            credentials = Credentials.parse(entries.toString());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(ConfigKeys.AUDIT_CREDENTIALS_FILE.name(), "(or " + ConfigKeys.AUDIT_CREDENTIALS.name()
                    + "): " + e.getMessage() + "; the audit endpoint needs at least one client when audit.enabled=true");
        }
        String host = get(source, ConfigKeys.AUDIT_HOST);
        String keyStore = get(source, ConfigKeys.AUDIT_KEYSTORE);
        if (keyStore.isBlank() && !loopback(host) && !get(source, ConfigKeys.AUDIT_PLAIN_HTTP)) {
            throw new ConfigException(ConfigKeys.AUDIT_KEYSTORE.name(), "is required when audit.host (" + host
                    + ") is not a loopback address: PHI must not cross a network in clear text");
        }
        String advertised = get(source, ConfigKeys.AUDIT_ADVERTISED_HOST);
        if (advertised.isBlank()) {
            advertised = host.equals("0.0.0.0") || host.equals("::") ? hostName() : host;
        }
        String field = get(source, ConfigKeys.AUDIT_INDEX_PASSTHROUGH);
        OutcomeStores.PassthroughField passthrough = null;
        if (!field.isBlank()) {
            try {
                passthrough = new OutcomeStores.PassthroughField(field);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(ConfigKeys.AUDIT_INDEX_PASSTHROUGH.name(), "'" + field + "' " + e.getMessage());
            }
        }
        String accessLog = get(source, ConfigKeys.AUDIT_ACCESS_LOG);
        return new AuditOptions(host, get(source, ConfigKeys.AUDIT_PORT), advertised, credentials,
                keyStore.isBlank() ? null : new AuditOptions.KeyStoreFile(Path.of(keyStore),
                        get(source, ConfigKeys.AUDIT_KEYSTORE_PASSWORD), get(source, ConfigKeys.AUDIT_KEYSTORE_TYPE)),
                get(source, ConfigKeys.AUDIT_FORWARD_TIMEOUT), get(source, ConfigKeys.AUDIT_RATE),
                accessLog.isBlank() ? null : Path.of(accessLog),
                new OutcomeStores.Options(get(source, ConfigKeys.AUDIT_RETENTION), passthrough));
    }

    private static boolean loopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (IOException e) {
            return false;
        }
    }

    private static StorageOptions storage(ConfigSource source) {
        java.util.Set<AddressClass> classes = java.util.EnumSet.noneOf(AddressClass.class);
        for (String name : get(source, ConfigKeys.STORAGE_ADDRESS_CLASSES)) {
            try {
                classes.add(AddressClass.valueOf(name.toUpperCase(java.util.Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(ConfigKeys.STORAGE_ADDRESS_CLASSES.name(), "unknown address class '" + name
                        + "'; known: " + java.util.Arrays.toString(AddressClass.values()));
            }
        }
        String endpoint = get(source, ConfigKeys.STORAGE_S3_ENDPOINT);
        String keyId = get(source, ConfigKeys.STORAGE_S3_ACCESS_KEY);
        String secret = get(source, ConfigKeys.STORAGE_S3_SECRET_KEY);
        if (keyId.isBlank() != secret.isBlank()) {
            throw new ConfigException(ConfigKeys.STORAGE_S3_ACCESS_KEY.name(),
                    "and " + ConfigKeys.STORAGE_S3_SECRET_KEY.name() + " must be given together");
        }
        URI endpointUri = null;
        if (!endpoint.isBlank()) {
            endpointUri = URI.create(endpoint);
            if (endpointUri.getScheme() == null || endpointUri.getHost() == null) {
                throw new ConfigException(ConfigKeys.STORAGE_S3_ENDPOINT.name(), "must be an http(s)://host[:port] URL, got '" + endpoint + "'");
            }
        }
        String fileRoot = get(source, ConfigKeys.STORAGE_FILE_ROOT);
        String trustStore = get(source, ConfigKeys.STORAGE_TRUSTSTORE);
        return new StorageOptions(
                java.util.Set.copyOf(get(source, ConfigKeys.STORAGE_S3_BUCKETS)),
                java.util.Set.copyOf(get(source, ConfigKeys.STORAGE_HTTPS_HOSTS)),
                classes,
                get(source, ConfigKeys.STORAGE_PLAIN_HTTP),
                fileRoot.isBlank() ? null : Path.of(fileRoot),
                get(source, ConfigKeys.STORAGE_MAX_BYTES),
                get(source, ConfigKeys.STORAGE_MAX_REDIRECTS),
                new StorageOptions.RetryPolicy(get(source, ConfigKeys.STORAGE_RETRY_ATTEMPTS),
                        get(source, ConfigKeys.STORAGE_RETRY_INITIAL), get(source, ConfigKeys.STORAGE_RETRY_MAX),
                        get(source, ConfigKeys.STORAGE_RETRY_BUDGET)),
                get(source, ConfigKeys.STORAGE_CONNECT_TIMEOUT),
                get(source, ConfigKeys.STORAGE_READ_TIMEOUT),
                get(source, ConfigKeys.STORAGE_ATTEMPT_TIMEOUT),
                new StorageOptions.S3Options(endpointUri, get(source, ConfigKeys.STORAGE_S3_REGION),
                        get(source, ConfigKeys.STORAGE_S3_PATH_STYLE), keyId.isBlank() ? null : keyId,
                        secret.isBlank() ? null : secret),
                trustStore.isBlank() ? null : new StorageOptions.TrustStore(Path.of(trustStore),
                        get(source, ConfigKeys.STORAGE_TRUSTSTORE_PASSWORD), get(source, ConfigKeys.STORAGE_TRUSTSTORE_TYPE)));
    }

    /** dermcap's version, from the build. */
    public static String serviceVersion() {
        Properties p = new Properties();
        try (InputStream in = Config.class.getResourceAsStream("/io/dermcap/version.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the version resource", e);
        }
        return p.getProperty("version", "unknown");
    }

    static <T> T get(ConfigSource source, Key<T> key) {
        ConfigSource.Value v = source.get(key.name());
        String text = v == null ? key.defaultValue() : v.text();
        if (text == null) {
            throw new ConfigException(key.name(), "is required (" + key.doc() + ")");
        }
        try {
            return key.parse().apply(text);
        } catch (IllegalArgumentException e) {
            String shown = key.secret() ? "(hidden)" : "'" + text + "'";
            throw new ConfigException(key.name(), e.getMessage() + ", got " + shown
                    + (v == null ? "" : " (from " + v.origin() + ")"));
        }
    }

    private static int sizeMultiple(ConfigSource source, Key<String> key, int size, int factor) {
        String text = get(source, key);
        if (text.isBlank()) {
            return factor * size;
        }
        int v;
        try {
            v = Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw new ConfigException(key.name(), "must be an integer, got '" + text + "'");
        }
        if (v < size || v > 1_000_000) {
            throw new ConfigException(key.name(), "must be between batch.max.size (" + size + ") and 1000000, got " + v);
        }
        return v;
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown-host";
        }
    }
}
