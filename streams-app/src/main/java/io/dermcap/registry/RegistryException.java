package io.dermcap.registry;

/**
 * A registry call that failed: the HTTP status (0 when no response came), the registry's error
 * code (Confluent's, e.g. 40401 subject not found, 40403 schema not found, 409 incompatible,
 * 42201 invalid schema; 0 when absent) and message, and whether retrying later could help.
 */
public class RegistryException extends RuntimeException {

    public static final int SUBJECT_NOT_FOUND = 40401;
    public static final int VERSION_NOT_FOUND = 40402;
    public static final int SCHEMA_NOT_FOUND = 40403;
    public static final int INCOMPATIBLE_SCHEMA = 409;
    public static final int INVALID_SCHEMA = 42201;

    private final int status;
    private final int errorCode;
    private final boolean retryable;

    public RegistryException(int status, int errorCode, String message, boolean retryable, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.errorCode = errorCode;
        this.retryable = retryable;
    }

    /** HTTP status of the last response, or 0 when the registry could not be reached. */
    public int status() {
        return status;
    }

    /** The registry's {@code error_code}, or 0. */
    public int errorCode() {
        return errorCode;
    }

    /** True for connection failures, timeouts, 5xx and 429 that outlasted the retries. */
    public boolean retryable() {
        return retryable;
    }

    /** 404 with "schema not found" or "subject not found": the thing asked for does not exist. */
    public boolean notFound() {
        return status == 404;
    }
}
