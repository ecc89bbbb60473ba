package io.dermcap.topology;

import io.dermcap.events.ErrorCode;
import io.dermcap.events.FailureEvent;
import io.dermcap.events.SourcePosition;
import io.dermcap.model.ModelInfo;
import io.dermcap.registry.SerdeException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serializer;

import java.util.Arrays;

/**
 * Failure records for input records that could not be deserialized, written by Kafka Streams
 * itself (KIP-1034 dead-letter records), so under exactly_once_v2 they are part of the task's
 * transaction like every other outcome.
 */
public final class DeadLetters {

    private static final int MAX_MESSAGE = 2000;
    /**
     * The raw key and value a dead letter carries are cut to this: a record near Kafka's 1 MiB limit
     * plus the event around it would not fit, and the failure would repeat on every retry.
     */
    static final int MAX_RAW_BYTES = 64 * 1024;

    private final String topic;
    private final Serializer<FailureEvent> serializer;
    private final FailureEvents failures;

    public DeadLetters(TopologyOptions options, ModelInfo model, Serializer<FailureEvent> serializer) {
        this.topic = options.failureTopic();
        this.serializer = serializer;
        this.failures = new FailureEvents(options, model);
    }

    ProducerRecord<byte[], byte[]> undeserializable(ConsumerRecord<byte[], byte[]> raw, Exception error, long now) {
        String kind = error instanceof SerdeException e ? " (" + e.kind() + ")" : "";
        String message = "the record could not be deserialized as a CaptionRequest" + kind + ": " + describe(error)
                + cutNote("key", raw.key()) + cutNote("value", raw.value());
        byte[] key = cut(raw.key());
        FailureEvent event = failures.failure(null,
                new SourcePosition(raw.topic(), raw.partition(), raw.offset()), raw.timestamp(),
                ErrorCode.UNDESERIALIZABLE_RECORD, message, false, 0, key, cut(raw.value()), now);
        byte[] value = serializer.serialize(topic, event);
        return new ProducerRecord<>(topic, null, now, key, value);
    }

    private static byte[] cut(byte[] raw) {
        return raw == null || raw.length <= MAX_RAW_BYTES ? raw : Arrays.copyOf(raw, MAX_RAW_BYTES);
    }

    private static String cutNote(String what, byte[] raw) {
        return raw == null || raw.length <= MAX_RAW_BYTES ? ""
                : "; raw " + what + " cut to its first " + MAX_RAW_BYTES + " of " + raw.length + " bytes";
    }

    private static String describe(Throwable error) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = error; t != null && sb.length() < 1000; t = t.getCause()) {
            if (!sb.isEmpty()) {
                sb.append(" <- ");
            }
            sb.append(t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName());
        }
        // schema-resolution messages quote whole schemas: the event keeps the first part
        return sb.length() <= MAX_MESSAGE ? sb.toString() : sb.substring(0, MAX_MESSAGE) + "...";
    }
}
