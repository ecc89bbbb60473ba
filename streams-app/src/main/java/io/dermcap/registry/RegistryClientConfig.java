package io.dermcap.registry;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How to reach a schema registry. Either {@code mockScope} is set (an in-memory registry shared by
 * name within the JVM) or {@code urls} lists one or more registry base URLs, tried in turn when
 * one cannot be reached.
 *
 * @param userInfo      {@code user:password} for HTTP basic auth, or null
 * @param trustStore    trust store for https registries with a private CA, or null (JDK defaults)
 * @param keyStore      key store for mutual TLS, or null
 * @param maxRetries    retries after the first attempt, for connection errors, timeouts, 5xx and 429
 * @param retryWait     backoff cap of the first retry; doubled each retry, up to {@code retryMaxWait}
 * @param cacheCapacity schemas and ids kept in memory
 */
public record RegistryClientConfig(
        List<URI> urls,
        String mockScope,
        String userInfo,
        TlsStore trustStore,
        TlsStore keyStore,
        Duration connectTimeout,
        Duration readTimeout,
        int maxRetries,
        Duration retryWait,
        Duration retryMaxWait,
        int cacheCapacity) {

    /** A key or trust store file; {@code keyPassword} only matters for key stores (null: the store password). */
    public record TlsStore(Path location, String password, String type, String keyPassword) {
        public TlsStore {
            Objects.requireNonNull(location, "location");
            type = type == null || type.isBlank() ? "PKCS12" : type;
        }

        @Override
        public String toString() {
            return "TlsStore[" + location + ", " + type + "]";
        }
    }

    public RegistryClientConfig {
        urls = urls == null ? List.of() : List.copyOf(urls);
        if (mockScope == null && urls.isEmpty()) {
            throw new IllegalArgumentException("a registry needs at least one URL or a mock scope");
        }
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(readTimeout, "readTimeout");
        Objects.requireNonNull(retryWait, "retryWait");
        Objects.requireNonNull(retryMaxWait, "retryMaxWait");
        if (maxRetries < 0 || cacheCapacity < 1) {
            throw new IllegalArgumentException("maxRetries must be >= 0 and cacheCapacity >= 1");
        }
    }

    /** Confluent's client defaults: 3 retries from 1 s up to 20 s, 60 s timeouts, 1000 cached schemas. */
    public static RegistryClientConfig of(String url) {
        return AvroSerdeConfig.fromMap(java.util.Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, url)).registry();
    }

    public RegistryClientConfig withRetries(int maxRetries, Duration retryWait, Duration retryMaxWait) {
        return new RegistryClientConfig(urls, mockScope, userInfo, trustStore, keyStore, connectTimeout,
                readTimeout, maxRetries, retryWait, retryMaxWait, cacheCapacity);
    }

    public RegistryClientConfig withUserInfo(String userInfo) {
        return new RegistryClientConfig(urls, mockScope, userInfo, trustStore, keyStore, connectTimeout,
                readTimeout, maxRetries, retryWait, retryMaxWait, cacheCapacity);
    }

    public RegistryClientConfig withTrustStore(TlsStore trustStore) {
        return new RegistryClientConfig(urls, mockScope, userInfo, trustStore, keyStore, connectTimeout,
                readTimeout, maxRetries, retryWait, retryMaxWait, cacheCapacity);
    }

    @Override
    public String toString() {
        // never print the password
        return "RegistryClientConfig[urls=" + urls + ", mockScope=" + mockScope
                + ", basicAuth=" + (userInfo != null) + ", trustStore=" + (trustStore == null ? null : trustStore.location())
                + ", maxRetries=" + maxRetries + "]";
    }
}
