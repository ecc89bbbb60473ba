package io.dermcap.topology;

import io.dermcap.events.BatchTimings;
import io.dermcap.events.BundleIdentity;
import io.dermcap.events.CaptionEvent;
import io.dermcap.events.CaptionRequest;
import io.dermcap.events.ErrorCode;
import io.dermcap.events.FailureEvent;
import io.dermcap.events.FinishReason;
import io.dermcap.events.Generation;
import io.dermcap.events.GenerationOverrides;
import io.dermcap.events.ModelLineage;
import io.dermcap.events.RuntimeInfo;
import io.dermcap.events.SourceFile;
import io.dermcap.events.Stage;
import io.dermcap.events.Timings;
import io.dermcap.metrics.ServiceMetrics;
import io.dermcap.model.Caption;
import io.dermcap.model.GenerationSettings;
import io.dermcap.model.ModelInfo;
import io.dermcap.pipeline.FailureReason;
import io.dermcap.pipeline.Outcome;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Turns finished requests into the audit records: a {@link CaptionEvent} to the caption topic
 * or a {@link FailureEvent} to the failure topic. Logs carry codes and positions, never
 * caption text, URIs or passthrough identifiers.
 */
final class OutcomeEvents implements Processor<String, Finished, String, Object> {

    private static final Logger log = LoggerFactory.getLogger(OutcomeEvents.class);

    private final TopologyOptions options;
    private final ModelLineage lineage;
    private final BundleIdentity bundle;
    private final ModelInfo.Runtime runtime;
    private final FailureEvents failures;
    private final ServiceMetrics metrics;
    private final String captionSink;
    private final String failureSink;
    private ProcessorContext<String, Object> context;

    OutcomeEvents(TopologyOptions options, ModelInfo model, ServiceMetrics metrics, String captionSink, String failureSink) {
        this.options = options;
        this.lineage = lineage(model);
        this.bundle = EventLineage.bundle(model);
        this.runtime = model.runtime();
        this.failures = new FailureEvents(options, model);
        this.metrics = metrics;
        this.captionSink = captionSink;
        this.failureSink = failureSink;
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
        this.context = context;
    }

    @Override
    public void process(Record<String, Finished> record) {
        Finished f = record.value();
        long now = context.currentSystemTimeMs();
        if (f.outcome() instanceof Outcome.Captioned c) {
            CaptionEvent event = caption(f, c, now);
            metrics.outcome(true, null);
            metrics.stage(ServiceMetrics.Stage.QUEUED, Duration.ofMillis((long) event.getTimings().getQueuedMs()));
            metrics.stage(ServiceMetrics.Stage.END_TO_END, Duration.ofMillis(Math.max(0, now - f.receivedAt())));
            log.debug("event=captioned request_id={} batch_size={}", f.request().getRequestId(), c.caption().batchSize());
            context.forward(record.withValue(event).withTimestamp(now), captionSink);
        } else if (f.outcome() instanceof Outcome.Failed x) {
            ErrorCode code = code(x.reason());
            FailureEvent event = failures.failure(f.request(), f.source(), f.recordTimestamp(), code, x.message(),
                    x.retryable(), x.attempts(), null, null, now);
            metrics.outcome(false, code.name());
            log.info("event=request_failed code={} retryable={} topic={} partition={} offset={}", code, x.retryable(),
                    f.source().getTopic(), f.source().getPartition(), f.source().getOffset());
            context.forward(record.withValue(event).withTimestamp(now), failureSink);
        }
    }

    /** The event schema's code for a pipeline's failure reason: the same vocabulary, name by name. */
    static ErrorCode code(FailureReason reason) {
        return switch (reason) {
            case INVALID_REQUEST -> ErrorCode.INVALID_REQUEST;
            case URI_NOT_ALLOWED -> ErrorCode.URI_NOT_ALLOWED;
            case OBJECT_MISSING -> ErrorCode.OBJECT_MISSING;
            case FETCH_FAILED -> ErrorCode.FETCH_FAILED;
            case TOO_LARGE -> ErrorCode.TOO_LARGE;
            case INTEGRITY_MISMATCH -> ErrorCode.INTEGRITY_MISMATCH;
            case UNDECODABLE_IMAGE -> ErrorCode.UNDECODABLE_IMAGE;
            case MODEL_ERROR -> ErrorCode.MODEL_ERROR;
            case INTERNAL_ERROR -> ErrorCode.INTERNAL_ERROR;
        };
    }

    private CaptionEvent caption(Finished f, Outcome.Captioned c, long now) {
        CaptionRequest r = f.request();
        Caption cap = c.caption();
        double fetchMs = EventLineage.millis(c.fetchNanos());
        double preprocessMs = EventLineage.millis(c.preprocessNanos());
        double queuedMs = Math.max(0, EventLineage.millis(
                (c.modelStartMillis() - f.receivedAt()) * 1_000_000L - c.fetchNanos() - c.preprocessNanos()));
        double encodeMs = EventLineage.millis(cap.encodeNanos());
        double decodeMs = EventLineage.millis(cap.decodeNanos());
        EventLineage.RequestedAt requestedAt = EventLineage.RequestedAt.of(r, f.recordTimestamp());
        List<Integer> tokens = new ArrayList<>(cap.tokenIds().length);
        for (int t : cap.tokenIds()) {
            tokens.add(t);
        }
        return CaptionEvent.newBuilder()
                .setRequestId(r.getRequestId())
                .setIds(r.getIds())
                .setImageUri(r.getImageUri())
                .setImageSha256(c.sha256())
                .setImageBytes(c.imageBytes())
                .setCaption(cap.text())
                .setTokenCount(cap.tokenIds().length)
                .setTokenIds(tokens)
                .setFinishReason(cap.finishReason() == Caption.FinishReason.EOS ? FinishReason.EOS : FinishReason.MAX_NEW_TOKENS)
                .setGeneration(generation(c.settings(), r.getOverrides()))
                .setModel(lineage)
                .setRuntime(new RuntimeInfo(runtime.engine(), runtime.engineVersion(), runtime.executionProvider(),
                        cap.batchSize(), options.instanceId(), options.serviceVersion()))
                .setTimings(new Timings(queuedMs, fetchMs, c.fetchAttempts(), preprocessMs, encodeMs, decodeMs,
                        (double) Math.max(0, now - f.receivedAt()),
                        new BatchTimings(cap.batchSize(), Instant.ofEpochMilli(c.modelStartMillis()), encodeMs, decodeMs)))
                .setSource(f.source())
                .setRequestedAt(requestedAt.at())
                .setRequestedAtSource(requestedAt.source())
                .setCaptionedAt(Instant.ofEpochMilli(now))
                .setBundle(bundle)
                .build();
    }

    private static Generation generation(GenerationSettings s, GenerationOverrides o) {
        List<String> overridden = new ArrayList<>();
        if (o != null) {
            if (o.getPrompt() != null) {
                overridden.add("prompt");
            }
            if (o.getNumBeams() != null) {
                overridden.add("num_beams");
            }
            if (o.getMaxNewTokens() != null) {
                overridden.add("max_new_tokens");
            }
            if (o.getMinNewTokens() != null) {
                overridden.add("min_new_tokens");
            }
        }
        return new Generation(s.prompt(), s.numBeams(), s.maxNewTokens(), s.minNewTokens(), s.noRepeatNgramSize(),
                s.repetitionPenalty(), s.lengthPenalty(), s.earlyStopping(), overridden, s.profile(),
                s.badWordsIds().size(), s.collapseWhitespace());
    }

    private static SourceFile sourceFile(ModelInfo.SourceFile f) {
        return f == null ? null : new SourceFile(f.file(), f.sha256());
    }

    static ModelLineage lineage(ModelInfo m) {
        List<Stage> stages = new ArrayList<>();
        for (ModelInfo.Stage s : m.stages()) {
            stages.add(new Stage(s.stage(), s.dataset(), s.file(), s.sha256()));
        }
        return ModelLineage.newBuilder()
                .setBundleName(m.bundleName())
                .setBundleVersion(m.bundleVersion())
                .setRandomWeights(m.randomWeights())
                .setCheckpoint(sourceFile(m.checkpoint()))
                .setConfig(sourceFile(m.config()))
                .setStages(stages)
                .setVisionWeightsId(m.visionWeightsId())
                .setVisionWeightsSha256(m.visionWeightsSha256())
                .setBaseLm(m.baseLm())
                .setGraphSha256(new TreeMap<>(m.graphSha256()))
                .setExporterVersion(m.exporterVersion())
                .setOpset(m.opset())
                .build();
    }
}
