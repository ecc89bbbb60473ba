package io.dermcap.registry;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.apache.kafka.common.config.ConfigException;

/**
 * The serdes' settings, read from the map Kafka hands to {@code configure} under the keys
 * Confluent's serdes use, so a configuration written for {@code KafkaAvroSerde} works here and
 * the other way round. Unknown keys are ignored (Kafka passes the whole client configuration).
 *
 * @param latestCacheTtl how long {@code use.latest.version} trusts a looked-up latest version; null: forever
 */
public record AvroSerdeConfig(
        RegistryClientConfig registry,
        boolean autoRegister,
        boolean useLatestVersion,
        boolean latestCompatibilityStrict,
        Duration latestCacheTtl,
        SubjectNameStrategy keySubjectStrategy,
        SubjectNameStrategy valueSubjectStrategy,
        boolean specificReader) {

    public static final String SCHEMA_REGISTRY_URL = "schema.registry.url";
    public static final String AUTO_REGISTER_SCHEMAS = "auto.register.schemas";
    public static final String USE_LATEST_VERSION = "use.latest.version";
    public static final String LATEST_COMPATIBILITY_STRICT = "latest.compatibility.strict";
    public static final String LATEST_CACHE_TTL_SEC = "latest.cache.ttl.sec";
    public static final String BASIC_AUTH_CREDENTIALS_SOURCE = "basic.auth.credentials.source";
    public static final String BASIC_AUTH_USER_INFO = "basic.auth.user.info";
    public static final String TRUSTSTORE_LOCATION = "schema.registry.ssl.truststore.location";
    public static final String TRUSTSTORE_PASSWORD = "schema.registry.ssl.truststore.password";
    public static final String TRUSTSTORE_TYPE = "schema.registry.ssl.truststore.type";
    public static final String KEYSTORE_LOCATION = "schema.registry.ssl.keystore.location";
    public static final String KEYSTORE_PASSWORD = "schema.registry.ssl.keystore.password";
    public static final String KEYSTORE_TYPE = "schema.registry.ssl.keystore.type";
    public static final String KEY_PASSWORD = "schema.registry.ssl.key.password";
    public static final String KEY_SUBJECT_NAME_STRATEGY = "key.subject.name.strategy";
    public static final String VALUE_SUBJECT_NAME_STRATEGY = "value.subject.name.strategy";
    public static final String SPECIFIC_AVRO_READER = "specific.avro.reader";
    public static final String MAX_RETRIES = "max.retries";
    public static final String RETRIES_WAIT_MS = "retries.wait.ms";
    public static final String RETRIES_MAX_WAIT_MS = "retries.max.wait.ms";
    public static final String HTTP_CONNECT_TIMEOUT_MS = "http.connect.timeout.ms";
    public static final String HTTP_READ_TIMEOUT_MS = "http.read.timeout.ms";
    public static final String MAX_SCHEMAS_PER_SUBJECT = "max.schemas.per.subject";

    public static final boolean DEFAULT_AUTO_REGISTER = true;
    public static final boolean DEFAULT_USE_LATEST_VERSION = false;
    public static final String DEFAULT_CREDENTIALS_SOURCE = "URL";
    public static final int DEFAULT_MAX_RETRIES = 3;
    public static final int DEFAULT_RETRIES_WAIT_MS = 1_000;
    public static final int DEFAULT_RETRIES_MAX_WAIT_MS = 20_000;

    /** Every key this serde reads; configuration checks refuse any other. */
    public static final java.util.Set<String> KEYS = java.util.Set.of(SCHEMA_REGISTRY_URL, AUTO_REGISTER_SCHEMAS,
            USE_LATEST_VERSION, LATEST_COMPATIBILITY_STRICT, LATEST_CACHE_TTL_SEC, BASIC_AUTH_CREDENTIALS_SOURCE,
            BASIC_AUTH_USER_INFO, TRUSTSTORE_LOCATION, TRUSTSTORE_PASSWORD, TRUSTSTORE_TYPE, KEYSTORE_LOCATION,
            KEYSTORE_PASSWORD, KEYSTORE_TYPE, KEY_PASSWORD, KEY_SUBJECT_NAME_STRATEGY, VALUE_SUBJECT_NAME_STRATEGY,
            SPECIFIC_AVRO_READER, MAX_RETRIES, RETRIES_WAIT_MS, RETRIES_MAX_WAIT_MS, HTTP_CONNECT_TIMEOUT_MS,
            HTTP_READ_TIMEOUT_MS, MAX_SCHEMAS_PER_SUBJECT);

    private static final String MOCK_PREFIX = "mock://";

    public SubjectNameStrategy subjectStrategy(boolean isKey) {
        return isKey ? keySubjectStrategy : valueSubjectStrategy;
    }

    /** @throws ConfigException naming the key whose value is missing or invalid */
    public static AvroSerdeConfig fromMap(Map<String, ?> configs) {
        Reader r = new Reader(configs);
        List<String> urls = r.list(SCHEMA_REGISTRY_URL);
        if (urls.isEmpty()) {
            throw new ConfigException(SCHEMA_REGISTRY_URL, null, "a schema registry URL (or mock://scope) is required");
        }
        String source = r.string(BASIC_AUTH_CREDENTIALS_SOURCE, DEFAULT_CREDENTIALS_SOURCE).toUpperCase(Locale.ROOT);
        String userInfo = switch (source) {
            case "USER_INFO" -> {
                String info = r.string(BASIC_AUTH_USER_INFO, null);
                if (info == null || !info.contains(":")) {
                    throw new ConfigException(BASIC_AUTH_USER_INFO, "(hidden)", "expected user:password");
                }
                yield info;
            }
            case "URL" -> null; // taken from the URLs below
            default -> throw new ConfigException(BASIC_AUTH_CREDENTIALS_SOURCE, source,
                    "supported: URL, USER_INFO (SASL_INHERIT is not)");
        };

        String mockScope = null;
        List<URI> uris = new ArrayList<>();
        for (String url : urls) {
            if (url.startsWith(MOCK_PREFIX)) {
                if (urls.size() > 1) {
                    throw new ConfigException(SCHEMA_REGISTRY_URL, urls, "a mock:// URL cannot be combined with others");
                }
                mockScope = url.substring(MOCK_PREFIX.length());
                continue;
            }
            URI uri = r.uri(SCHEMA_REGISTRY_URL, url);
            if (uri.getRawUserInfo() != null) {
                if (userInfo == null && "URL".equals(source)) {
                    userInfo = java.net.URLDecoder.decode(uri.getRawUserInfo(), java.nio.charset.StandardCharsets.UTF_8);
                }
                uri = withoutUserInfo(uri);
            }
            uris.add(uri);
        }

        RegistryClientConfig.TlsStore trust = r.store(TRUSTSTORE_LOCATION, TRUSTSTORE_PASSWORD, TRUSTSTORE_TYPE, null);
        RegistryClientConfig.TlsStore keys = r.store(KEYSTORE_LOCATION, KEYSTORE_PASSWORD, KEYSTORE_TYPE, KEY_PASSWORD);
        RegistryClientConfig registry = new RegistryClientConfig(uris, mockScope, userInfo, trust, keys,
                r.millis(HTTP_CONNECT_TIMEOUT_MS, 60_000), r.millis(HTTP_READ_TIMEOUT_MS, 60_000),
                r.integer(MAX_RETRIES, DEFAULT_MAX_RETRIES, 0), r.millis(RETRIES_WAIT_MS, DEFAULT_RETRIES_WAIT_MS),
                r.millis(RETRIES_MAX_WAIT_MS, DEFAULT_RETRIES_MAX_WAIT_MS),
                r.integer(MAX_SCHEMAS_PER_SUBJECT, 1000, 1));

        int ttl = r.integer(LATEST_CACHE_TTL_SEC, -1, -1);
        return new AvroSerdeConfig(registry,
                r.bool(AUTO_REGISTER_SCHEMAS, DEFAULT_AUTO_REGISTER),
                r.bool(USE_LATEST_VERSION, DEFAULT_USE_LATEST_VERSION),
                r.bool(LATEST_COMPATIBILITY_STRICT, true),
                ttl < 0 ? null : Duration.ofSeconds(ttl),
                r.strategy(KEY_SUBJECT_NAME_STRATEGY),
                r.strategy(VALUE_SUBJECT_NAME_STRATEGY),
                r.bool(SPECIFIC_AVRO_READER, false));
    }

    private static URI withoutUserInfo(URI uri) {
        try {
            return new URI(uri.getScheme(), null, uri.getHost(), uri.getPort(), uri.getPath(), uri.getQuery(), null);
        } catch (URISyntaxException e) {
            throw new ConfigException(SCHEMA_REGISTRY_URL, uri.getHost(), e.getMessage());
        }
    }

    /** Typed access to a Kafka-style config map; every error names its key. */
    private record Reader(Map<String, ?> configs) {

        String string(String key, String fallback) {
            Object v = configs.get(key);
            if (v == null) {
                return fallback;
            }
            if (v instanceof Class<?> c) {
                return c.getName();
            }
            String s = v.toString().trim();
            return s.isEmpty() ? fallback : s;
        }

        List<String> list(String key) {
            Object v = configs.get(key);
            List<String> out = new ArrayList<>();
            if (v instanceof Collection<?> c) {
                c.forEach(o -> out.add(o.toString().trim()));
            } else if (v != null) {
                for (String part : v.toString().split(",")) {
                    out.add(part.trim());
                }
            }
            out.removeIf(String::isEmpty);
            return out;
        }

        boolean bool(String key, boolean fallback) {
            String s = string(key, null);
            if (s == null) {
                return fallback;
            }
            if (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false")) {
                return Boolean.parseBoolean(s);
            }
            throw new ConfigException(key, s, "expected true or false");
        }

        int integer(String key, int fallback, int min) {
            String s = string(key, null);
            if (s == null) {
                return fallback;
            }
            try {
                int i = Integer.parseInt(s);
                if (i < min) {
                    throw new ConfigException(key, s, "must be at least " + min);
                }
                return i;
            } catch (NumberFormatException e) {
                throw new ConfigException(key, s, "expected an integer");
            }
        }

        Duration millis(String key, int fallback) {
            return Duration.ofMillis(integer(key, fallback, 0));
        }

        URI uri(String key, String value) {
            try {
                URI uri = new URI(value);
                String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
                if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
                    throw new ConfigException(key, value, "expected an http(s)://host[:port][/path] URL or mock://scope");
                }
                return uri;
            } catch (URISyntaxException e) {
                throw new ConfigException(key, value, "not a URL: " + e.getMessage());
            }
        }

        RegistryClientConfig.TlsStore store(String locationKey, String passwordKey, String typeKey, String keyPasswordKey) {
            String location = string(locationKey, null);
            if (location == null) {
                return null;
            }
            Path path = Path.of(location);
            if (!java.nio.file.Files.isReadable(path)) {
                throw new ConfigException(locationKey, location, "file not readable");
            }
            return new RegistryClientConfig.TlsStore(path, string(passwordKey, null), string(typeKey, null),
                    keyPasswordKey == null ? null : string(keyPasswordKey, null));
        }

        SubjectNameStrategy strategy(String key) {
            String s = string(key, null);
            if (s == null) {
                return SubjectNameStrategy.TOPIC;
            }
            try {
                return SubjectNameStrategy.parse(s);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(key, s, e.getMessage());
            }
        }
    }
}
