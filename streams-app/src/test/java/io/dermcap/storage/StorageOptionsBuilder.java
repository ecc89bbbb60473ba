package io.dermcap.storage;

import io.dermcap.testing.TestDefaults;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/**
 * Storage options for tests: the configuration's defaults (they fail closed), changed a setting at
 * a time.
 */
public final class StorageOptionsBuilder {

    private Set<String> buckets;
    private Set<String> hosts;
    private Set<AddressClass> addresses;
    private boolean plainHttp;
    private Path fileRoot;
    private long maxBytes;
    private int maxRedirects;
    private StorageOptions.RetryPolicy retry;
    private Duration connectTimeout;
    private Duration readTimeout;
    private Duration attemptTimeout;
    private StorageOptions.S3Options s3;
    private StorageOptions.TrustStore trustStore;

    /** The configuration's defaults. */
    public static StorageOptionsBuilder defaults() {
        return from(TestDefaults.STORAGE);
    }

    public static StorageOptionsBuilder from(StorageOptions options) {
        return new StorageOptionsBuilder(options);
    }

    private StorageOptionsBuilder(StorageOptions o) {
        buckets = o.allowedBuckets();
        hosts = o.allowedHosts();
        addresses = o.allowedAddresses();
        plainHttp = o.allowPlainHttp();
        fileRoot = o.fileRoot();
        maxBytes = o.maxBytes();
        maxRedirects = o.maxRedirects();
        retry = o.retry();
        connectTimeout = o.connectTimeout();
        readTimeout = o.readTimeout();
        attemptTimeout = o.attemptTimeout();
        s3 = o.s3();
        trustStore = o.httpsTrustStore();
    }

    public StorageOptionsBuilder buckets(String... allowed) {
        buckets = Set.of(allowed);
        return this;
    }

    public StorageOptionsBuilder hosts(String... allowed) {
        hosts = Set.of(allowed);
        return this;
    }

    public StorageOptionsBuilder addresses(Set<AddressClass> allowed) {
        addresses = allowed;
        return this;
    }

    public StorageOptionsBuilder plainHttp(boolean allowed) {
        plainHttp = allowed;
        return this;
    }

    public StorageOptionsBuilder fileRoot(Path root) {
        fileRoot = root;
        return this;
    }

    public StorageOptionsBuilder maxBytes(long max) {
        maxBytes = max;
        return this;
    }

    public StorageOptionsBuilder maxRedirects(int max) {
        maxRedirects = max;
        return this;
    }

    public StorageOptionsBuilder retry(StorageOptions.RetryPolicy policy) {
        retry = policy;
        return this;
    }

    public StorageOptionsBuilder timeouts(Duration connect, Duration read, Duration attempt) {
        connectTimeout = connect;
        readTimeout = read;
        attemptTimeout = attempt;
        return this;
    }

    public StorageOptionsBuilder s3(StorageOptions.S3Options options) {
        s3 = options;
        return this;
    }

    public StorageOptionsBuilder httpsTrustStore(StorageOptions.TrustStore store) {
        trustStore = store;
        return this;
    }

    public StorageOptions build() {
        return new StorageOptions(buckets, hosts, addresses, plainHttp, fileRoot, maxBytes, maxRedirects, retry,
                connectTimeout, readTimeout, attemptTimeout, s3, trustStore);
    }
}
