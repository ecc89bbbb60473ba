package io.dermcap.storage;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * What the fetcher may reach and how hard it tries. The configuration's defaults ({@code
 * storage.*} in {@code ConfigKeys}) fail closed: no bucket and no host is allowed until listed,
 * {@code file://} and plain {@code http://} are off, and https hosts must resolve to public
 * addresses only.
 *
 * @param allowedBuckets   S3 buckets that may be read; {@code "*"} allows any (the credentials still limit)
 * @param allowedHosts     https hosts that may be read, exact ({@code images.example.org}) or
 *                         subdomain wildcards ({@code *.example.org}, which does not match the apex)
 * @param allowedAddresses which address classes https hosts may resolve to (default: PUBLIC only)
 * @param allowPlainHttp   accept {@code http://} URIs too (development and tests only)
 * @param fileRoot         the directory {@code file://} URIs must lie in; null disables {@code file://}
 * @param maxBytes         the largest object accepted, checked against headers and while reading
 * @param maxRedirects     https redirects followed per attempt, each one checked like the first URI
 * @param retry            how transient failures are retried
 * @param connectTimeout   per connection
 * @param readTimeout      longest silence while reading a response
 * @param attemptTimeout   longest single attempt, however the server trickles its bytes
 * @param s3               the S3 client's endpoint, region and credentials
 * @param httpsTrustStore  trust store for https servers with a private CA (PKCS12), or null for the JDK's
 */
public record StorageOptions(
        Set<String> allowedBuckets,
        Set<String> allowedHosts,
        Set<AddressClass> allowedAddresses,
        boolean allowPlainHttp,
        Path fileRoot,
        long maxBytes,
        int maxRedirects,
        RetryPolicy retry,
        Duration connectTimeout,
        Duration readTimeout,
        Duration attemptTimeout,
        S3Options s3,
        TrustStore httpsTrustStore) {

    /**
     * Exponential backoff with full jitter: before retry n the fetcher waits a uniform random time
     * in [0, min(maxBackoff, initialBackoff * 2^(n-1))]; it stops after {@code maxAttempts}
     * attempts or when the next wait would end past {@code budget} from the first attempt.
     */
    public record RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff, Duration budget) {
        public RetryPolicy {
            if (maxAttempts < 1) {
                throw new IllegalArgumentException("maxAttempts must be at least 1");
            }
            Objects.requireNonNull(initialBackoff, "initialBackoff");
            Objects.requireNonNull(maxBackoff, "maxBackoff");
            Objects.requireNonNull(budget, "budget");
        }
    }

    /**
     * @param endpoint        endpoint override (MinIO, Ceph, S3Proxy), or null for AWS
     * @param region          signing region (any value for most S3-compatible servers)
     * @param pathStyle       path-style addressing ({@code endpoint/bucket/key}), needed by most non-AWS servers
     * @param accessKeyId     static credentials, or null for the default AWS credential chain
     * @param secretAccessKey its secret
     */
    public record S3Options(URI endpoint, String region, boolean pathStyle, String accessKeyId, String secretAccessKey) {
        public S3Options {
            region = region == null || region.isBlank() ? "us-east-1" : region;
            if ((accessKeyId == null) != (secretAccessKey == null)) {
                throw new IllegalArgumentException("S3 access key id and secret must be given together");
            }
        }

        @Override
        public String toString() {
            return "S3Options[endpoint=" + endpoint + ", region=" + region + ", pathStyle=" + pathStyle
                    + ", staticCredentials=" + (accessKeyId != null) + "]";
        }
    }

    /** A PKCS12 or JKS trust store. */
    public record TrustStore(Path location, String password, String type) {
        public TrustStore {
            Objects.requireNonNull(location, "location");
            type = type == null || type.isBlank() ? "PKCS12" : type;
        }

        @Override
        public String toString() {
            return "TrustStore[" + location + "]";
        }
    }

    public StorageOptions {
        allowedBuckets = Set.copyOf(allowedBuckets);
        allowedHosts = Set.copyOf(allowedHosts);
        allowedAddresses = allowedAddresses.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(allowedAddresses));
        if (maxBytes < 1 || maxRedirects < 0) {
            throw new IllegalArgumentException("maxBytes must be positive and maxRedirects not negative");
        }
        Objects.requireNonNull(retry, "retry");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(readTimeout, "readTimeout");
        Objects.requireNonNull(attemptTimeout, "attemptTimeout");
        Objects.requireNonNull(s3, "s3");
    }

    /** The same options with {@code file://} confined to {@code root} (the offline commands' local files). */
    public StorageOptions withFileRoot(Path root) {
        return new StorageOptions(allowedBuckets, allowedHosts, allowedAddresses, allowPlainHttp, root, maxBytes,
                maxRedirects, retry, connectTimeout, readTimeout, attemptTimeout, s3, httpsTrustStore);
    }
}
