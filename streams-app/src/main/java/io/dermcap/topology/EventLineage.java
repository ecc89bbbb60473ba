package io.dermcap.topology;

import io.dermcap.events.BundleIdentity;
import io.dermcap.events.CaptionRequest;
import io.dermcap.events.PreprocessingConstants;
import io.dermcap.events.RequestedAtSource;
import io.dermcap.model.ModelInfo;

import java.time.Instant;

/** The lineage both outcome events carry: the bundle as a whole, where requested_at came from, times in ms. */
final class EventLineage {

    private EventLineage() {
    }

    /** The outcome's requested_at and where it came from; {@code at} is null only with {@link RequestedAtSource#NONE}. */
    record RequestedAt(Instant at, RequestedAtSource source) {

        /** The request's own requested_at, else the input record's Kafka timestamp (when it has one). */
        static RequestedAt of(CaptionRequest request, long recordTimestamp) {
            if (request != null && request.getRequestedAt() != null) {
                return new RequestedAt(request.getRequestedAt(), RequestedAtSource.REQUEST);
            }
            if (recordTimestamp >= 0) {
                return new RequestedAt(Instant.ofEpochMilli(recordTimestamp), RequestedAtSource.RECORD_TIMESTAMP);
            }
            return new RequestedAt(null, RequestedAtSource.NONE);
        }
    }

    static BundleIdentity bundle(ModelInfo model) {
        ModelInfo.Identity id = model.identity();
        ModelInfo.Preprocessing p = id.preprocessing();
        return BundleIdentity.newBuilder()
                .setManifestSha256(id.manifestSha256())
                .setFormat(id.format())
                .setName(model.bundleName())
                .setVersion(model.bundleVersion())
                .setCreated(id.created())
                .setExporterName(id.exporterName())
                .setExporterVersion(id.exporterVersion())
                .setRandomWeights(model.randomWeights())
                .setPreprocessing(p == null ? null : new PreprocessingConstants(p.imageSize(), p.resize(),
                        p.interpolation(), p.crop(), p.mean(), p.std()))
                .build();
    }

    /** Nanoseconds as milliseconds rounded to whole microseconds (no float noise beyond them). */
    static double millis(long nanos) {
        return Math.round(nanos / 1_000.0) / 1_000.0;
    }
}
