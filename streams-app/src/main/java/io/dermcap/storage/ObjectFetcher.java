package io.dermcap.storage;

/**
 * Fetches the encoded image a request names ({@code s3://}, {@code https://}, {@code file://}),
 * enforcing the allow-lists and the byte limit, checking the sha256 when one is expected, and
 * retrying transient errors with backoff. Thread-safe.
 */
public interface ObjectFetcher extends AutoCloseable {

    /**
     * @param uri            the object to fetch
     * @param expectedSha256 lower-case hex sha256 the bytes must have, or null
     * @throws FetchException with the reason, whether a later retry could help, and the attempts made
     */
    FetchedObject fetch(String uri, String expectedSha256) throws FetchException;

    @Override
    void close();
}
