package io.dermcap.topology;

import io.dermcap.events.CaptionRequest;
import io.dermcap.events.GenerationOverrides;
import io.dermcap.events.Passthrough;
import io.dermcap.events.SourcePosition;
import io.dermcap.events.internal.PendingRequest;
import io.dermcap.model.Captioner;
import io.dermcap.model.InvalidSettingsException;
import io.dermcap.pipeline.FailureReason;
import io.dermcap.pipeline.Outcome;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.regex.Pattern;

/**
 * Checks what can be checked without fetching: ids, URI syntax, digest format, generation
 * overrides. A valid request goes to the batcher as a {@link PendingRequest}; an invalid one
 * goes straight to the outcome events as INVALID_REQUEST.
 */
final class RequestValidator implements Processor<String, CaptionRequest, String, Object> {

    private static final Logger log = LoggerFactory.getLogger(RequestValidator.class);
    static final int MAX_ID_LENGTH = 256;
    static final int MAX_URI_LENGTH = 8192;
    /**
     * Passthrough identifiers are copied into every outcome event: bounded so that an outcome can
     * never outgrow Kafka's 1 MiB record limit (it would fail the stream thread on every retry).
     */
    static final int MAX_PASSTHROUGH_BYTES = 64 * 1024;
    /** The longest request_id, image_uri or record key a failure event quotes; longer ones are cut. */
    static final int MAX_QUOTED_CHARS = 8192;
    private static final Pattern SHA256 = Pattern.compile("[0-9a-fA-F]{64}");

    private final Captioner captioner;
    private final String batcher;
    private final String events;
    private ProcessorContext<String, Object> context;

    RequestValidator(Captioner captioner, String batcher, String events) {
        this.captioner = captioner;
        this.batcher = batcher;
        this.events = events;
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
        this.context = context;
    }

    @Override
    public void process(Record<String, CaptionRequest> record) {
        RecordMetadata md = context.recordMetadata().orElseThrow();
        SourcePosition source = new SourcePosition(md.topic(), md.partition(), md.offset());
        long now = context.currentSystemTimeMs();
        CaptionRequest request = record.value();
        String problem;
        try {
            problem = problem(request);
        } catch (RuntimeException e) {
            // A bug must not stop the partition: the request gets its outcome all the same.
            log.error("event=validation_bug offset={} error={}", md.offset(), e.getClass().getName());
            log.debug("event=validation_bug", e);
            fail(record, source, now, FailureReason.INTERNAL_ERROR, "validating the request failed: " + e);
            return;
        }
        if (problem != null) {
            fail(record, source, now, FailureReason.INVALID_REQUEST, problem);
            return;
        }
        PendingRequest pending = new PendingRequest(request, source, Instant.ofEpochMilli(record.timestamp()),
                Instant.ofEpochMilli(now));
        context.forward(record.withKey(request.getRequestId()).withValue(pending), batcher);
    }

    private void fail(Record<String, CaptionRequest> record, SourcePosition source, long now, FailureReason reason, String why) {
        CaptionRequest request = bounded(record.value());
        String key = request != null && !blank(request.getRequestId()) ? request.getRequestId() : cut(record.key());
        Finished finished = new Finished(request, source, record.timestamp(), now,
                new Outcome.Failed(reason, why, false, 0));
        context.forward(record.withKey(key).withValue(finished), events);
    }

    /** What is wrong with the request, or null. */
    private String problem(CaptionRequest r) {
        if (r == null) {
            return "the record has no value (a tombstone); expected a CaptionRequest";
        }
        if (blank(r.getRequestId())) {
            return "request_id is empty";
        }
        if (r.getRequestId().length() > MAX_ID_LENGTH) {
            return "request_id is longer than " + MAX_ID_LENGTH + " characters";
        }
        if (blank(r.getImageUri())) {
            return "image_uri is empty";
        }
        if (r.getImageUri().length() > MAX_URI_LENGTH) {
            return "image_uri is longer than " + MAX_URI_LENGTH + " characters";
        }
        try {
            URI uri = new URI(r.getImageUri());
            if (uri.getScheme() == null) {
                return "image_uri has no scheme (expected s3://, https:// or file://)";
            }
        } catch (URISyntaxException e) {
            return "image_uri is not a valid URI: " + e.getMessage();
        }
        int idsBytes = passthroughBytes(r.getIds());
        if (idsBytes > MAX_PASSTHROUGH_BYTES) {
            return "the passthrough identifiers are " + idsBytes + " bytes, over the limit of " + MAX_PASSTHROUGH_BYTES
                    + " (left out of this event)";
        }
        if (r.getExpectedSha256() != null && !SHA256.matcher(r.getExpectedSha256()).matches()) {
            return "expected_sha256 must be 64 hexadecimal characters";
        }
        GenerationOverrides o = r.getOverrides();
        if (o != null) {
            try {
                captioner.settingsFor(new Captioner.Overrides(o.getPrompt(), o.getNumBeams(), o.getMaxNewTokens(),
                        o.getMinNewTokens()));
            } catch (InvalidSettingsException e) {
                return "invalid generation overrides: " + e.getMessage();
            }
        }
        return null;
    }

    /** UTF-8 bytes of every identifier, correlation key and value. */
    static int passthroughBytes(Passthrough ids) {
        if (ids == null) {
            return 0;
        }
        long n = utf8(ids.getStudyInstanceUid()) + utf8(ids.getSeriesInstanceUid()) + utf8(ids.getSopInstanceUid())
                + utf8(ids.getSourceSystem());
        if (ids.getCorrelation() != null) {
            for (var e : ids.getCorrelation().entrySet()) {
                n += utf8(e.getKey()) + utf8(e.getValue());
            }
        }
        return (int) Math.min(Integer.MAX_VALUE, n);
    }

    private static long utf8(String s) {
        return s == null ? 0 : s.getBytes(StandardCharsets.UTF_8).length;
    }

    /**
     * The request as its failure event may quote it: what broke a size limit is cut (request_id,
     * image_uri) or left out (passthrough identifiers), so the event itself stays small.
     */
    private static CaptionRequest bounded(CaptionRequest r) {
        if (r == null) {
            return null;
        }
        boolean idFits = r.getRequestId() == null || r.getRequestId().length() <= MAX_QUOTED_CHARS;
        boolean uriFits = r.getImageUri() == null || r.getImageUri().length() <= MAX_QUOTED_CHARS;
        boolean idsFit = passthroughBytes(r.getIds()) <= MAX_PASSTHROUGH_BYTES;
        if (idFits && uriFits && idsFit) {
            return r;
        }
        CaptionRequest.Builder b = CaptionRequest.newBuilder(r);
        b.setRequestId(cut(r.getRequestId()));
        b.setImageUri(cut(r.getImageUri()));
        if (!idsFit) {
            b.setIds(Passthrough.newBuilder().build());
        }
        return b.build();
    }

    private static String cut(String s) {
        return s == null || s.length() <= MAX_QUOTED_CHARS ? s : s.substring(0, MAX_QUOTED_CHARS);
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}
