package io.dermcap.model.bundle;

/** A bundle the engine refuses; the message names the file and the difference. */
public class BundleException extends Exception {

    public enum Reason {
        /** no manifest.json, not JSON, or missing or contradictory fields */
        MANIFEST_INVALID,
        /** a file the manifest lists is not in the folder */
        FILE_MISSING,
        /** a file's size or sha256 differs from the manifest */
        HASH_MISMATCH,
        /** a graph's inputs or outputs differ from the manifest or from what the engine needs */
        SIGNATURE_MISMATCH,
        /** the runtime cannot load the graphs (e.g. CUDA asked for but not available) */
        RUNTIME_UNAVAILABLE
    }

    private final Reason reason;

    public BundleException(Reason reason, String message) {
        this(reason, message, null);
    }

    public BundleException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
