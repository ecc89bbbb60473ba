package io.dermcap.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * dermcap's own meters. Names follow Prometheus conventions once exported
 * ({@code dermcap_model_batch_size}, {@code dermcap_stage_seconds{stage="fetch"}},
 * {@code dermcap_outcomes_total{outcome="failure",code="OBJECT_MISSING"}}, ...).
 */
public final class ServiceMetrics {

    /**
     * Stages of a request, as in the caption event's timings; ENCODE and DECODE are recorded once
     * per model batch, the others once per request.
     */
    public enum Stage { QUEUED, FETCH, PREPROCESS, ENCODE, DECODE, END_TO_END }

    private final MeterRegistry registry;
    private final DistributionSummary batchSize;
    private final Timer modelTime;
    private final Counter fetchRetries;
    private final AtomicLong buffered = new AtomicLong();

    public ServiceMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.batchSize = DistributionSummary.builder("dermcap.model.batch.size")
                .description("Images per model run")
                .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64)
                .register(registry);
        this.modelTime = Timer.builder("dermcap.model.batch")
                .description("Wall time of one model run (encode + decode) for a batch")
                .publishPercentileHistogram()
                .register(registry);
        this.fetchRetries = Counter.builder("dermcap.fetch.retries")
                .description("Fetch attempts beyond the first")
                .register(registry);
        registry.gauge("dermcap.batcher.buffered", buffered);
    }

    public MeterRegistry registry() {
        return registry;
    }

    public void modelBatch(int size, long nanos) {
        batchSize.record(size);
        modelTime.record(nanos, TimeUnit.NANOSECONDS);
    }

    public void stage(Stage stage, Duration d) {
        Timer.builder("dermcap.stage")
                .description("Time a request spent in a stage")
                .tag("stage", stage.name().toLowerCase(java.util.Locale.ROOT))
                .publishPercentileHistogram()
                .register(registry)
                .record(d);
    }

    public void outcome(boolean caption, String code) {
        Counter.builder("dermcap.outcomes")
                .description("Outcome events published, by error code for failures")
                .tag("outcome", caption ? "caption" : "failure")
                .tag("code", caption ? "none" : code)
                .register(registry)
                .increment();
    }

    public void fetchRetries(int attempts) {
        if (attempts > 1) {
            fetchRetries.increment(attempts - 1);
        }
    }

    /** Requests buffered in the batchers of this process and not yet submitted to the engine. */
    public void bufferedChanged(long delta) {
        buffered.addAndGet(delta);
    }

    /** Registers a gauge read from the engine (in-flight requests, ...). */
    public void gauge(String name, String description, Supplier<Number> value) {
        io.micrometer.core.instrument.Gauge.builder(name, value).description(description).register(registry);
    }
}
