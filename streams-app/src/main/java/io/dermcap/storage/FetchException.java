package io.dermcap.storage;

/** A fetch that failed for good (after the retries its reason allows). */
public class FetchException extends Exception {

    public enum Reason {
        /** not a well-formed URI of a supported scheme */
        INVALID_URI,
        /** scheme disabled, bucket/host not allow-listed, or a forbidden address */
        URI_NOT_ALLOWED,
        /** the object does not exist (404 / NoSuchKey / no such file) */
        OBJECT_MISSING,
        /** transient errors outlasted the retry budget, or a permanent server error */
        FETCH_FAILED,
        /** over the byte limit (from headers or while streaming) */
        TOO_LARGE,
        /** the bytes' sha256 differs from the request's */
        INTEGRITY_MISMATCH
    }

    private final Reason reason;
    private final boolean retryable;
    private final int attempts;

    public FetchException(Reason reason, boolean retryable, int attempts, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
        this.retryable = retryable;
        this.attempts = attempts;
    }

    public Reason reason() {
        return reason;
    }

    /** Whether trying again later could succeed (e.g. the store was down). */
    public boolean retryable() {
        return retryable;
    }

    public int attempts() {
        return attempts;
    }
}
