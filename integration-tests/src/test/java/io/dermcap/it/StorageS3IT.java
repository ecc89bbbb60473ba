package io.dermcap.it;

import io.dermcap.Sha256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.dermcap.it.servers.TestServers;
import io.dermcap.storage.FetchException;
import io.dermcap.storage.FetchException.Reason;
import io.dermcap.storage.FetchedObject;
import io.dermcap.storage.StorageFetcher;
import io.dermcap.storage.StorageOptions;
import io.dermcap.storage.StorageOptionsBuilder;

/** The s3:// fetcher against a real S3 API server (S3Proxy in-JVM, or MinIO in a container). */
class StorageS3IT {

    private static final TestServers SERVERS = TestServers.shared();
    private static final String BUCKET = "it-" + UUID.randomUUID().toString().substring(0, 8);
    private static final byte[] IMAGE = "\u00ffJPEG pretend image".getBytes(StandardCharsets.ISO_8859_1);

    @BeforeAll
    static void fixtures() {
        TestServers.S3Endpoint s3 = SERVERS.s3();
        s3.createBucket(BUCKET);
        s3.put(BUCKET, "scans/a.jpg", IMAGE);
        s3.put(BUCKET, "scans/ü-%2e%2e.jpg", IMAGE);
        s3.put(BUCKET, "scans/big.jpg", new byte[4096]);
    }

    private static StorageOptions options(StorageOptions.RetryPolicy retry) {
        return StorageOptionsBuilder.defaults()
                .buckets(BUCKET, "missing-bucket-" + BUCKET)
                .s3(SERVERS.s3().options())
                .maxBytes(1024)
                .retry(retry)
                .timeouts(Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10))
                .build();
    }

    private static StorageOptions quickRetries() {
        return options(new StorageOptions.RetryPolicy(3, Duration.ofMillis(50), Duration.ofMillis(200), Duration.ofSeconds(10)));
    }


    @Test
    void fetchesObjectsWithTheirSha256() throws Exception {
        try (StorageFetcher fetcher = new StorageFetcher(quickRetries())) {
            FetchedObject object = fetcher.fetch("s3://" + BUCKET + "/scans/a.jpg", Sha256.of(IMAGE));
            assertThat(object.bytes()).isEqualTo(IMAGE);
            assertThat(object.sha256()).isEqualTo(Sha256.of(IMAGE));
            assertThat(object.attempts()).isEqualTo(1);
            // keys are literal: non-ASCII and percent signs reach the store unchanged
            assertThat(fetcher.fetch("s3://" + BUCKET + "/scans/ü-%2e%2e.jpg", null).bytes()).isEqualTo(IMAGE);
        }
    }

    @Test
    void missingKeysAndBucketsAreObjectMissingAtOnce() {
        try (StorageFetcher fetcher = new StorageFetcher(quickRetries())) {
            assertFails(fetcher, "s3://" + BUCKET + "/scans/none.jpg", null, Reason.OBJECT_MISSING, false, 1, "no such key");
            assertFails(fetcher, "s3://missing-bucket-" + BUCKET + "/a.jpg", null, Reason.OBJECT_MISSING, false, 1, "bucket");
        }
    }

    @Test
    void theByteLimitAndTheIntegrityCheckHold() {
        try (StorageFetcher fetcher = new StorageFetcher(quickRetries())) {
            assertFails(fetcher, "s3://" + BUCKET + "/scans/big.jpg", null, Reason.TOO_LARGE, false, 1, "4096 bytes");
            assertFails(fetcher, "s3://" + BUCKET + "/scans/a.jpg", "ab".repeat(32), Reason.INTEGRITY_MISMATCH, false, 1,
                    "expected " + "ab".repeat(32));
        }
    }

    @Test
    void wrongCredentialsFailAtOnceAsAnOperatorProblem() {
        TestServers.S3Endpoint s3 = SERVERS.s3();
        StorageOptions wrong = StorageOptionsBuilder.from(quickRetries()).s3(
                new StorageOptions.S3Options(s3.endpoint(), s3.region(), true, s3.accessKey(), "not-the-secret")).build();
        try (StorageFetcher fetcher = new StorageFetcher(wrong)) {
            assertFails(fetcher, "s3://" + BUCKET + "/scans/a.jpg", null, Reason.FETCH_FAILED, false, 1, "HTTP 403");
        }
    }

    @Test
    void aStoppedServerIsRetriedUntilTheBudgetThenFetchFailedWithAttempts() {
        SERVERS.stopS3();
        try (StorageFetcher fetcher = new StorageFetcher(quickRetries())) {
            assertFails(fetcher, "s3://" + BUCKET + "/scans/a.jpg", null, Reason.FETCH_FAILED, true, 3, "gave up after 3 attempts");
        } finally {
            SERVERS.startS3();
        }
    }

    @Test
    void aServerRestartedDuringTheRetriesServesTheObject() throws Exception {
        StorageOptions patient = options(new StorageOptions.RetryPolicy(40, Duration.ofMillis(100), Duration.ofMillis(400),
                Duration.ofSeconds(30)));
        SERVERS.stopS3();
        try (StorageFetcher fetcher = new StorageFetcher(patient)) {
            CompletableFuture<FetchedObject> fetch = CompletableFuture.supplyAsync(() -> {
                try {
                    return fetcher.fetch("s3://" + BUCKET + "/scans/a.jpg", null);
                } catch (FetchException e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(1500);
            assertThat(fetch).isNotDone();
            SERVERS.startS3();
            FetchedObject object = fetch.get(30, TimeUnit.SECONDS);
            assertThat(object.bytes()).isEqualTo(IMAGE);
            assertThat(object.attempts()).isGreaterThan(1);
        } finally {
            SERVERS.startS3();
        }
    }

    static void assertFails(StorageFetcher fetcher, String uri, String sha, Reason reason, boolean retryable, int attempts,
                            String message) {
        assertThatThrownBy(() -> fetcher.fetch(uri, sha))
                .isInstanceOfSatisfying(FetchException.class, e -> {
                    assertThat(e.reason()).as(e.getMessage()).isEqualTo(reason);
                    assertThat(e.retryable()).as("retryable").isEqualTo(retryable);
                    assertThat(e.attempts()).as("attempts").isEqualTo(attempts);
                })
                .hasMessageContaining(message);
    }
}
