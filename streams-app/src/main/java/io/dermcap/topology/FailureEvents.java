package io.dermcap.topology;

import io.dermcap.events.BundleIdentity;
import io.dermcap.events.CaptionRequest;
import io.dermcap.events.ErrorCode;
import io.dermcap.events.FailureEvent;
import io.dermcap.events.SourcePosition;
import io.dermcap.model.ModelInfo;

import java.nio.ByteBuffer;
import java.time.Instant;

/** Builds failure events: the one place that knows their fields. */
final class FailureEvents {

    private final TopologyOptions options;
    private final ModelInfo model;
    private final BundleIdentity bundle;

    FailureEvents(TopologyOptions options, ModelInfo model) {
        this.options = options;
        this.model = model;
        this.bundle = EventLineage.bundle(model);
    }

    /**
     * @param request  the request when it could be read, else null
     * @param rawKey   the input key bytes when the record could not be read, else null
     * @param rawValue the input value bytes when the record could not be read, else null
     */
    FailureEvent failure(CaptionRequest request, SourcePosition source, long recordTimestamp, ErrorCode code,
                         String message, boolean retryable, int attempts, byte[] rawKey, byte[] rawValue, long now) {
        EventLineage.RequestedAt requestedAt = EventLineage.RequestedAt.of(request, recordTimestamp);
        return FailureEvent.newBuilder()
                .setRequestId(request == null ? null : request.getRequestId())
                .setIds(request == null ? null : request.getIds())
                .setImageUri(request == null ? null : request.getImageUri())
                .setCode(code)
                .setMessage(message == null ? code.name() : message)
                .setRetryable(retryable)
                .setAttempts(attempts)
                .setSource(source)
                .setRawKey(rawKey == null ? null : ByteBuffer.wrap(rawKey))
                .setRawValue(rawValue == null ? null : ByteBuffer.wrap(rawValue))
                .setBundleName(model.bundleName())
                .setBundleVersion(model.bundleVersion())
                .setInstanceId(options.instanceId())
                .setServiceVersion(options.serviceVersion())
                .setRequestedAt(requestedAt.at())
                .setRequestedAtSource(requestedAt.source())
                .setFailedAt(Instant.ofEpochMilli(now))
                .setBundle(bundle)
                .build();
    }
}
