package io.dermcap.topology;

import io.dermcap.events.CaptionEvent;
import io.dermcap.events.CaptionRequest;
import io.dermcap.events.FailureEvent;
import io.dermcap.events.Passthrough;
import io.dermcap.metrics.ServiceMetrics;
import io.dermcap.pipeline.InferencePipeline;
import io.dermcap.testing.AvroTestSerde;
import io.dermcap.testing.FakeCaptioner;
import io.dermcap.testing.FakeDecoder;
import io.dermcap.testing.FakeFetcher;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;
import java.util.function.LongSupplier;

/** The real topology on a TopologyTestDriver with the fake engine, fetcher and decoder. */
final class TopologyHarness implements AutoCloseable {

    static final String REQUESTS = "image-requests";
    final FakeCaptioner captioner = new FakeCaptioner();
    final FakeFetcher fetcher = new FakeFetcher();
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final ServiceMetrics metrics = new ServiceMetrics(registry);
    final BatchOptions batch;
    final TopologyOptions options = new TopologyOptions(REQUESTS, "captions", "caption-failures", "test-instance",
            "0.1.0-test", false);
    final EventSerdes serdes;
    final InferencePipeline pipeline;
    final TopologyTestDriver driver;
    final TestInputTopic<String, CaptionRequest> requests;
    final TestInputTopic<byte[], byte[]> rawRequests;
    final TestOutputTopic<String, CaptionEvent> captions;
    final TestOutputTopic<String, FailureEvent> failures;
    final List<KeyValue<String, CaptionEvent>> captionsSeen = new ArrayList<>();
    final List<KeyValue<String, FailureEvent>> failuresSeen = new ArrayList<>();

    TopologyHarness(BatchOptions batch, Function<ProcessorContext<?, ?>, LongSupplier> commitCounter) {
        this(batch, commitCounter, testSerdes());
    }

    static EventSerdes testSerdes() {
        return new EventSerdes(new AvroTestSerde<>(CaptionRequest.class), new AvroTestSerde<>(CaptionEvent.class),
                new AvroTestSerde<>(FailureEvent.class));
    }

    TopologyHarness(BatchOptions batch, Function<ProcessorContext<?, ?>, LongSupplier> commitCounter, EventSerdes serdes) {
        this(batch, commitCounter, serdes, null);
    }

    TopologyHarness(BatchOptions batch, Function<ProcessorContext<?, ?>, LongSupplier> commitCounter, EventSerdes serdes,
                    OutcomeStores.Options audit) {
        this.batch = batch;
        this.serdes = serdes;
        this.pipeline = new InferencePipeline(captioner, fetcher, new FakeDecoder(), batch.pipeline(), metrics);
        Properties props = StreamsProperties.derive(Map.of("bootstrap.servers", "unused:9092",
                "application.id", "dermcap-test"), batch).properties();
        props = CaptionTopology.withHandlers(props, new DeadLetters(options, captioner.info(), serdes.failures().serializer()));
        driver = new TopologyTestDriver(CaptionTopology.build(options, batch, serdes, captioner, pipeline, metrics,
                commitCounter, audit), props, Instant.parse("2026-01-01T00:00:00Z"));
        requests = driver.createInputTopic(REQUESTS, new StringSerializer(), serdes.requests().serializer());
        rawRequests = driver.createInputTopic(REQUESTS, new ByteArraySerializer(), new ByteArraySerializer());
        captions = driver.createOutputTopic("captions", new StringDeserializer(), serdes.captions().deserializer());
        failures = driver.createOutputTopic("caption-failures", new StringDeserializer(), serdes.failures().deserializer());
    }

    static final BatchOptions SMALL = new BatchOptions(4, Duration.ofMillis(200), 12, 8, Duration.ofMillis(200), 2);

    TopologyHarness() {
        this(SMALL, null);
    }

    static CaptionRequest request(String id, String uri) {
        return CaptionRequest.newBuilder()
                .setRequestId(id)
                .setImageUri(uri)
                .setIds(Passthrough.newBuilder()
                        .setStudyInstanceUid("1.2.826.0.1.3680043.8.498." + id)
                        .setSourceSystem("teledermatology-intake")
                        .setCorrelation(Map.of("order", "ORD-" + id))
                        .build())
                .setRequestedAt(Instant.parse("2025-12-31T23:59:00Z"))
                .build();
    }

    /** Advances the wall clock in punctuation steps until {@code n} outcomes arrived (10 s real time at most). */
    void awaitOutcomes(int n) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (outcomes() < n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("only " + outcomes() + " of " + n + " outcomes: captions " + captionsSeen.size()
                        + ", failures " + failuresSeen.size());
            }
            tick(batch.punctuateInterval());
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    void tick(Duration d) {
        driver.advanceWallClockTime(d);
        drain();
    }

    void drain() {
        captionsSeen.addAll(captions.readKeyValuesToList());
        failuresSeen.addAll(failures.readKeyValuesToList());
    }

    int outcomes() {
        drain();
        return captionsSeen.size() + failuresSeen.size();
    }

    KeyValueStore<Long, ?> buffer() {
        return driver.getKeyValueStore(CaptionTopology.BUFFER_STORE);
    }

    long buffered() {
        long n = 0;
        try (var it = buffer().all()) {
            while (it.hasNext()) {
                it.next();
                n++;
            }
        }
        return n;
    }

    FailureEvent onlyFailure() {
        drain();
        if (failuresSeen.size() != 1) {
            throw new AssertionError("expected one failure, got " + failuresSeen);
        }
        return failuresSeen.get(0).value;
    }

    @Override
    public void close() {
        driver.close();
        pipeline.close(Duration.ofSeconds(5));
    }
}
