package io.dermcap.storage;

/** One attempt failed in a way another attempt may not (connection refused, timeout, 5xx, throttling). */
final class TransientFailure extends Exception {
    TransientFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
