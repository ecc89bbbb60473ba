package io.dermcap.storage;

import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Path;

/** Where an object lives, once its URI has passed the {@link UriPolicy}. */
sealed interface ObjectLocation {

    /** {@code s3://bucket/key}; the key is taken literally, as the AWS CLI does (no percent-decoding). */
    record S3(String bucket, String key) implements ObjectLocation {
    }

    /**
     * An https (or, when enabled, http) URL.
     *
     * @param host    lower-case ASCII host name, or the IP literal without brackets
     * @param literal the address when the host is an IP literal, else null
     * @param target  the request target: raw path and query, as sent on the request line
     */
    record Http(URI uri, boolean tls, String host, InetAddress literal, int port, String target) implements ObjectLocation {
    }

    /** A regular file inside the configured root (checked again against symlinks when read). */
    record File(Path path) implements ObjectLocation {
    }
}
