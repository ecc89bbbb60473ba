package io.dermcap.topology;

import io.dermcap.events.CaptionEvent;
import io.dermcap.events.CaptionRequest;
import io.dermcap.events.ErrorCode;
import io.dermcap.events.FailureEvent;
import io.dermcap.events.SourcePosition;
import io.dermcap.registry.AvroSerde;
import io.dermcap.registry.MockSchemaRegistry;
import io.dermcap.registry.SerdeException;
import io.dermcap.registry.WireFormat;
import org.apache.avro.Schema;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The topology with the registry serdes (Confluent wire format, mock:// registry). */
class RegistryWireTopologyTest {

    private static final String SCOPE = "wire-topology-test";
    private final TopologyHarness h = new TopologyHarness(TopologyHarness.SMALL, null, serdes());

    private static EventSerdes serdes() {
        MockSchemaRegistry.forScope(SCOPE);
        Map<String, Object> config = Map.of("schema.registry.url", "mock://" + SCOPE);
        AvroSerde<CaptionRequest> requests = new AvroSerde<>(CaptionRequest.class);
        AvroSerde<CaptionEvent> captions = new AvroSerde<>(CaptionEvent.class);
        AvroSerde<FailureEvent> failures = new AvroSerde<>(FailureEvent.class);
        requests.configure(config, false);
        captions.configure(config, false);
        failures.configure(config, false);
        return new EventSerdes(requests, captions, failures);
    }

    @AfterEach
    void close() {
        h.close();
        MockSchemaRegistry.dropScope(SCOPE);
    }

    @Test
    void outcomesAreFramedWithSchemaIdsThatResolve() throws Exception {
        var rawCaptions = h.driver.createOutputTopic("captions", new StringDeserializer(), new ByteArrayDeserializer());
        h.fetcher.put("s3://b/k", 3);
        h.requests.pipeInput("r", TopologyHarness.request("r", "s3://b/k"));
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (rawCaptions.isEmpty() && System.nanoTime() < deadline) {
            h.driver.advanceWallClockTime(h.batch.punctuateInterval());
            Thread.sleep(2);
        }
        byte[] bytes = rawCaptions.readValue();
        assertThat(bytes[0]).isEqualTo(WireFormat.MAGIC_BYTE);
        int id = WireFormat.schemaId(bytes);
        Schema registered = MockSchemaRegistry.forScope(SCOPE).schemaById(id);
        assertThat(registered.getFullName()).isEqualTo("io.dermcap.events.CaptionEvent");
        assertThat(MockSchemaRegistry.forScope(SCOPE).latest("captions-value").id()).isEqualTo(id);
    }

    @Test
    void unreadableRecordsAreTypedFailures() {
        byte[] wrongMagic = {1, 0, 0, 0, 1, 2};
        byte[] unknownId = {0, 0, 1, (byte) 0x86, (byte) 0x9f, 2};
        h.rawRequests.pipeInput("a".getBytes(), wrongMagic);
        h.rawRequests.pipeInput("b".getBytes(), unknownId);
        // a failure event published to the request topic by mistake: another record type
        FailureEvent other = FailureEvent.newBuilder().setCode(ErrorCode.UNKNOWN).setMessage("x").setRetryable(false)
                .setAttempts(0).setSource(new SourcePosition("t", 0, 0L)).setInstanceId("i").setServiceVersion("v")
                .setFailedAt(Instant.EPOCH).build();
        byte[] wrongType = h.serdes.failures().serializer().serialize("image-requests", other);
        h.rawRequests.pipeInput("c".getBytes(), wrongType);
        h.awaitOutcomes(3);
        assertThat(h.captionsSeen).isEmpty();
        assertThat(h.failuresSeen).extracting(kv -> kv.value.getCode()).containsOnly(ErrorCode.UNDESERIALIZABLE_RECORD);
        assertThat(h.failuresSeen.get(0).value.getMessage()).contains("(WRONG_MAGIC_BYTE)");
        assertThat(h.failuresSeen.get(1).value.getMessage()).contains("(UNKNOWN_SCHEMA_ID)");
        assertThat(h.failuresSeen.get(2).value.getMessage()).contains("(INCOMPATIBLE_SCHEMA)");
        assertThat(h.failuresSeen.get(2).value.getRawValue()).isEqualTo(ByteBuffer.wrap(wrongType));
    }

    @Test
    void anUnreachableRegistryFailsTheThreadInsteadOfDeadLetteringTheRecord() {
        UndeserializableRecordHandler handler = new UndeserializableRecordHandler();
        handler.configure(Map.of(UndeserializableRecordHandler.DEAD_LETTERS,
                new DeadLetters(h.options, h.captioner.info(), h.serdes.failures().serializer())));
        var record = new ConsumerRecord<>("image-requests", 0, 5L, new byte[]{1}, new byte[]{0, 0, 0, 0, 7});
        var down = new SerdeException(SerdeException.Kind.REGISTRY_UNAVAILABLE, 7, "connection refused", null);
        assertThat(handler.handleError(null, record, down).result()).isEqualTo(DeserializationExceptionHandler.Result.FAIL);
        var corrupt = new SerdeException(SerdeException.Kind.CORRUPT_BODY, 7, "bad body", null);
        var response = handler.handleError(null, record, corrupt);
        assertThat(response.result()).isEqualTo(DeserializationExceptionHandler.Result.RESUME);
        assertThat(response.deadLetterQueueRecords()).singleElement()
                .satisfies(r -> assertThat(r.topic()).isEqualTo("caption-failures"));
    }
}
