package io.dermcap.storage;

/** The bytes of one object, their sha256 (lower-case hex), and how they were obtained. */
public record FetchedObject(String uri, byte[] bytes, String sha256, int attempts, long fetchNanos) {
}
