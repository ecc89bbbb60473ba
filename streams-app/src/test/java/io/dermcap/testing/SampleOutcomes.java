package io.dermcap.testing;

import io.dermcap.audit.LocalOutcomes;
import io.dermcap.events.CaptionEvent;
import io.dermcap.events.ErrorCode;
import io.dermcap.events.FailureEvent;
import io.dermcap.events.FinishReason;
import io.dermcap.events.Generation;
import io.dermcap.events.ModelLineage;
import io.dermcap.events.Passthrough;
import io.dermcap.events.RuntimeInfo;
import io.dermcap.events.SourceFile;
import io.dermcap.events.SourcePosition;
import io.dermcap.events.Stage;
import io.dermcap.events.Timings;
import io.dermcap.events.CaptionEvent.Builder;
import io.dermcap.topology.OutcomeStores;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/** Outcome events with every field set, and a driver that runs only the audit stores' indexer. */
public final class SampleOutcomes implements AutoCloseable {

    public final TopologyTestDriver driver;
    private final TestInputTopic<String, CaptionEvent> captions;
    private final TestInputTopic<String, FailureEvent> failures;

    public SampleOutcomes(OutcomeStores.Options options) {
        Topology t = new Topology();
        t.addSource("captions-in", Serdes.String().deserializer(), new AvroTestSerde<>(CaptionEvent.class).deserializer(),
                "captions-in");
        t.addSource("failures-in", Serdes.String().deserializer(), new AvroTestSerde<>(FailureEvent.class).deserializer(),
                "failures-in");
        OutcomeStores.addTo(t, options, "captions", "failures", "captions-in", "failures-in");
        t.addSink("captions", "captions", Serdes.String().serializer(), new AvroTestSerde<>(CaptionEvent.class).serializer(),
                OutcomeStores.INDEX);
        t.addSink("failures", "failures", Serdes.String().serializer(), new AvroTestSerde<>(FailureEvent.class).serializer(),
                OutcomeStores.INDEX);
        Properties p = new Properties();
        p.put("application.id", "dermcap-audit-test");
        p.put("bootstrap.servers", "unused:9092");
        driver = new TopologyTestDriver(t, p);
        captions = driver.createInputTopic("captions-in", new StringSerializer(), new AvroTestSerde<>(CaptionEvent.class).serializer());
        failures = driver.createInputTopic("failures-in", new StringSerializer(), new AvroTestSerde<>(FailureEvent.class).serializer());
    }

    /** The driver's stores as the audit lookups see them: one partition, 0. */
    public LocalOutcomes.Stores localStores() {
        return new LocalOutcomes.Stores() {
            @Override
            public ReadOnlyWindowStore<String, byte[]> store(String name, Integer partition, boolean stale) {
                return driver.getWindowStore(name);
            }

            @Override
            public List<Integer> partitions() {
                return List.of(0);
            }
        };
    }

    public void add(CaptionEvent e) {
        captions.pipeInput(e.getRequestId(), e, e.getCaptionedAt());
    }

    public void add(FailureEvent e) {
        failures.pipeInput(e.getRequestId(), e, e.getFailedAt());
    }

    public static Passthrough ids(String accession) {
        return Passthrough.newBuilder().setStudyInstanceUid("1.2.826.0.1.3680043.8.498.1").setSourceSystem("intake")
                .setCorrelation(Map.of("accession", accession)).build();
    }

    public static CaptionEvent caption(String requestId, String caption, String sha256, String accession, Instant at,
                                       int partition, long offset) {
        Builder b = CaptionEvent.newBuilder()
                .setRequestId(requestId)
                .setIds(ids(accession))
                .setImageUri("s3://images/" + requestId + ".jpg")
                .setImageSha256(sha256)
                .setImageBytes(1234)
                .setCaption(caption)
                .setTokenCount(3)
                .setTokenIds(List.of(10, 11, 12))
                .setFinishReason(FinishReason.EOS)
                .setGeneration(new Generation("a photo of", 4, 60, 24, 3, 1.0, 1.0, true, List.of(), "card", 0, false))
                .setModel(ModelLineage.newBuilder().setBundleName("dermcap-test").setBundleVersion("2025.08.30-test")
                        .setRandomWeights(true).setCheckpoint(new SourceFile("ckpt.pt", "ab".repeat(32)))
                        .setConfig(null).setStages(List.of(new Stage("A", "META", "a.pt", null)))
                        .setVisionWeightsId(null).setVisionWeightsSha256(null).setBaseLm("gpt2-medium")
                        .setGraphSha256(Map.of("vision_encoder", "cd".repeat(32))).setExporterVersion("0.1.0").setOpset(17)
                        .build())
                .setRuntime(new RuntimeInfo("onnxruntime", "1.29.0", "CPU", 4, "test-instance", "0.1.0-test"))
                .setTimings(new Timings(1.0, 2.0, 1, 3.0, 4.0, 5.0, null, null))
                .setSource(new SourcePosition("image-requests", partition, offset))
                .setRequestedAt(at.minusSeconds(1))
                .setCaptionedAt(at);
        return b.build();
    }

    public static FailureEvent failure(String requestId, ErrorCode code, String message, Instant at, int partition, long offset) {
        return FailureEvent.newBuilder()
                .setRequestId(requestId).setIds(ids("ACC-" + requestId)).setImageUri("s3://images/" + requestId + ".jpg")
                .setCode(code).setMessage(message).setRetryable(false).setAttempts(1)
                .setSource(new SourcePosition("image-requests", partition, offset))
                .setRawKey(null).setRawValue(null).setBundleName("dermcap-test").setBundleVersion("2025.08.30-test")
                .setInstanceId("test-instance").setServiceVersion("0.1.0-test")
                .setRequestedAt(at.minusSeconds(1)).setFailedAt(at).build();
    }

    @Override
    public void close() {
        driver.close();
    }
}
