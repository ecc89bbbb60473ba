package io.dermcap.testing;

import io.dermcap.Sha256;
import io.dermcap.storage.FetchException;
import io.dermcap.storage.FetchedObject;
import io.dermcap.storage.ObjectFetcher;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Objects in a map (unit tests only); failures are registered per URI. */
public final class FakeFetcher implements ObjectFetcher {

    private final Map<String, byte[]> objects = new ConcurrentHashMap<>();
    private final Map<String, FetchException> failures = new ConcurrentHashMap<>();
    private final Map<String, Long> delays = new ConcurrentHashMap<>();
    public final java.util.concurrent.atomic.AtomicInteger fetches = new java.util.concurrent.atomic.AtomicInteger();

    /** An object whose decoded image carries {@code tag} as its first pixel value. */
    public String put(String uri, int tag) {
        byte[] bytes = ("img:" + tag).getBytes(StandardCharsets.US_ASCII);
        objects.put(uri, bytes);
        return Sha256.of(bytes);
    }

    public void putRaw(String uri, byte[] bytes) {
        objects.put(uri, bytes);
    }

    public void fail(String uri, FetchException e) {
        failures.put(uri, e);
    }

    /** Makes fetching {@code uri} take {@code millis}. */
    public void delay(String uri, long millis) {
        delays.put(uri, millis);
    }

    @Override
    public FetchedObject fetch(String uri, String expectedSha256) throws FetchException {
        fetches.incrementAndGet();
        Long delay = delays.get(uri);
        if (delay != null) {
            try {
                Thread.sleep(delay);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        FetchException f = failures.get(uri);
        if (f != null) {
            throw f;
        }
        byte[] bytes = objects.get(uri);
        if (bytes == null) {
            throw new FetchException(FetchException.Reason.OBJECT_MISSING, false, 1, "no such object: " + uri, null);
        }
        String sha = Sha256.of(bytes);
        if (expectedSha256 != null && !expectedSha256.equals(sha)) {
            throw new FetchException(FetchException.Reason.INTEGRITY_MISMATCH, false, 1,
                    "sha256 " + sha + " differs from expected " + expectedSha256, null);
        }
        return new FetchedObject(uri, bytes, sha, 1, 3_000_000);
    }


    @Override
    public void close() {
    }
}
