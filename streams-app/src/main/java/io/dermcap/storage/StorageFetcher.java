package io.dermcap.storage;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

import io.dermcap.Sha256;
import io.dermcap.storage.FetchException.Reason;

/**
 * The {@link ObjectFetcher}: checks the URI against the {@link UriPolicy}, reads the object with
 * the reader for its scheme, retries transient failures with exponential backoff and full jitter
 * within the {@link StorageOptions.RetryPolicy}, and returns the bytes with their sha256 (compared
 * with the expected one when given). Permanent failures fail at once; every failure reports the
 * attempts made. Thread-safe; the S3 client is created on the first {@code s3://} fetch.
 */
public final class StorageFetcher implements ObjectFetcher {

    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

    /** Waits between attempts; replaced in tests. */
    interface Sleeper {
        void sleep(Duration duration) throws InterruptedException;
    }

    private final StorageOptions options;
    private final UriPolicy uriPolicy;
    private final HttpReader http;
    private final FileReader files;
    private final Sleeper sleeper;
    private S3Reader s3;

    public StorageFetcher(StorageOptions options) {
        this(options, InetAddress::getAllByName, d -> Thread.sleep(d.toMillis()));
    }

    StorageFetcher(StorageOptions options, AddressPolicy.Resolver resolver, Sleeper sleeper) {
        this.options = options;
        this.uriPolicy = new UriPolicy(options);
        this.http = new HttpReader(options, uriPolicy, new AddressPolicy(options.allowedAddresses(), resolver),
                socketFactory(options.httpsTrustStore()));
        this.files = options.fileRoot() == null ? null : new FileReader(options.fileRoot(), options.maxBytes());
        this.sleeper = sleeper;
    }

    @Override
    public FetchedObject fetch(String uri, String expectedSha256) throws FetchException {
        long started = System.nanoTime();
        String expected = expectedSha256 == null ? null : expectedSha256.toLowerCase(Locale.ROOT);
        if (expected != null && !SHA256_HEX.matcher(expected).matches()) {
            throw new FetchException(Reason.INTEGRITY_MISMATCH, false, 0,
                    "the expected sha256 is not 64 hex digits: '" + abbreviate(expectedSha256) + "'", null);
        }
        ObjectLocation location = uriPolicy.parse(uri);
        StorageOptions.RetryPolicy retry = options.retry();
        long budgetEnd = started + retry.budget().toNanos();
        TransientFailure last = null;
        int attempt = 0;
        while (attempt < retry.maxAttempts()) {
            if (attempt > 0) {
                Duration wait = backoff(attempt, retry);
                if (System.nanoTime() + wait.toNanos() > budgetEnd) {
                    break;
                }
                pause(wait, attempt, last);
            }
            attempt++;
            byte[] bytes;
            try {
                bytes = readOnce(location);
            } catch (TransientFailure e) {
                last = e;
                continue;
            } catch (FetchException e) {
                throw new FetchException(e.reason(), e.retryable(), attempt, e.getMessage(), e.getCause());
            }
            String sha256 = Sha256.of(bytes);
            if (expected != null && !expected.equals(sha256)) {
                throw new FetchException(Reason.INTEGRITY_MISMATCH, false, attempt, uri + ": sha256 of the "
                        + bytes.length + " bytes read is " + sha256 + ", the request expected " + expected, null);
            }
            return new FetchedObject(uri, bytes, sha256, attempt, System.nanoTime() - started);
        }
        long seconds = Duration.ofNanos(System.nanoTime() - started).toSeconds();
        throw new FetchException(Reason.FETCH_FAILED, true, attempt, "gave up after " + attempt + " attempt"
                + (attempt == 1 ? "" : "s") + " in " + seconds + " s: " + last.getMessage(), last.getCause());
    }

    /**
     * The objects under {@code s3://bucket/prefix/}, as {@code s3://} URIs in key order: the bucket
     * checked against the allow-list like a fetch, the listing read {@code pageSize} keys a request.
     * Not retried: a listing is the start of an offline run, which the user repeats.
     */
    public List<String> list(String prefixUri, int pageSize) throws FetchException {
        ObjectLocation.S3 location = uriPolicy.s3Prefix(prefixUri);
        List<String> uris = new ArrayList<>();
        for (String key : s3().list(location.bucket(), location.key(), pageSize)) {
            uris.add("s3://" + location.bucket() + "/" + key);
        }
        return uris;
    }

    private byte[] readOnce(ObjectLocation location) throws FetchException, TransientFailure {
        if (location instanceof ObjectLocation.S3 s) {
            return s3().read(s);
        }
        if (location instanceof ObjectLocation.Http h) {
            return http.read(h);
        }
        return files.read((ObjectLocation.File) location);
    }

    private synchronized S3Reader s3() {
        if (s3 == null) {
            s3 = new S3Reader(options);
        }
        return s3;
    }

    /** Full jitter: uniform in [0, min(max, initial * 2^(attempt-1))]. */
    static Duration backoff(int attempt, StorageOptions.RetryPolicy retry) {
        long cap = Math.min(retry.maxBackoff().toMillis(),
                retry.initialBackoff().toMillis() * (1L << Math.min(attempt - 1, 30)));
        return Duration.ofMillis(cap <= 0 ? 0 : ThreadLocalRandom.current().nextLong(cap + 1));
    }

    private void pause(Duration wait, int attempts, TransientFailure last) throws FetchException {
        try {
            sleeper.sleep(wait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FetchException(Reason.FETCH_FAILED, true, attempts, "interrupted while waiting to retry: "
                    + last.getMessage(), e);
        }
    }

    private static SSLSocketFactory socketFactory(StorageOptions.TrustStore store) {
        if (store == null) {
            return (SSLSocketFactory) SSLSocketFactory.getDefault();
        }
        try (InputStream in = Files.newInputStream(store.location())) {
            KeyStore ks = KeyStore.getInstance(store.type());
            ks.load(in, store.password() == null ? null : store.password().toCharArray());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context.getSocketFactory();
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot load the https trust store " + store.location() + ": " + e.getMessage(), e);
        }
    }

    private static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "…" : s;
    }

    @Override
    public synchronized void close() {
        if (s3 != null) {
            s3.close();
        }
    }
}
