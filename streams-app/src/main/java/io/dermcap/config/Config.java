package io.dermcap.config;

import io.dermcap.batching.BatchOptions;
import io.dermcap.metrics.MetricsOptions;
import io.dermcap.topology.StreamsProperties;
import io.dermcap.topology.TopologyOptions;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/** Reads the configuration: the one place that looks at properties files and the environment. */
public final class Config {

    private Config() {
    }

    /**
     * Reads {@code file} (may be null: defaults and environment only) with {@code DERMCAP_*}
     * variables of {@code env} on top, into the typed options of every package.
     *
     * @throws ConfigException naming the first key that is unknown, missing or invalid
     */
    public static DermcapConfig load(Path file, Map<String, String> env) {
        java.util.Set<String> known = new java.util.HashSet<>();
        ConfigKeys.all().forEach(k -> known.add(k.name()));
        ConfigSource source = ConfigSource.read(file, env, known::contains, ConfigKeys.PREFIXES, known);

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
        Properties streams;
        try {
            streams = StreamsProperties.derive(kafka, batch);
        } catch (StreamsProperties.InvalidSetting e) {
            String key = ConfigKeys.KAFKA_PREFIX + e.key();
            ConfigSource.Value v = source.get(key);
            throw new ConfigException(key, e.getMessage() + (v == null ? "" : " (from " + v.origin() + ")"));
        }
        TopologyOptions topology = new TopologyOptions(
                get(source, ConfigKeys.TOPIC_REQUESTS),
                get(source, ConfigKeys.TOPIC_CAPTIONS),
                get(source, ConfigKeys.TOPIC_FAILURES),
                instanceId,
                serviceVersion(),
                StreamsProperties.EXACTLY_ONCE_V2.equals(streams.getProperty("processing.guarantee")));
        if (topology.requestTopic().equals(topology.captionTopic()) || topology.requestTopic().equals(topology.failureTopic())) {
            throw new ConfigException(ConfigKeys.TOPIC_REQUESTS.name(), "must differ from the output topics");
        }

        return new DermcapConfig(topology, batch, http, streams);
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
