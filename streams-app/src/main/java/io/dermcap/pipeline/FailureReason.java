package io.dermcap.pipeline;

/**
 * Why an image got no caption: the one vocabulary of the service's failure events and the
 * offline commands' error lines (the topology maps each to the event schema's error code of the
 * same name).
 */
public enum FailureReason {
    /** The request itself is wrong: its URI, digest or generation overrides. */
    INVALID_REQUEST,
    /** The URI names a scheme, bucket, host or path that the storage settings do not allow. */
    URI_NOT_ALLOWED,
    /** The storage answered that there is no such object. */
    OBJECT_MISSING,
    /** The object could not be read, also after the retries (the storage, the network). */
    FETCH_FAILED,
    /** Over the byte limit or the pixel limit. */
    TOO_LARGE,
    /** The bytes' sha256 is not the one the request expected. */
    INTEGRITY_MISMATCH,
    /** The bytes are no image that can be decoded. */
    UNDECODABLE_IMAGE,
    /** The model failed on the batch this image was in. */
    MODEL_ERROR,
    /** A bug: something failed that should not have. */
    INTERNAL_ERROR
}
