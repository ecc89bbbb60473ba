package io.dermcap.topology;

import io.dermcap.events.ErrorCode;
import io.dermcap.events.FailureEvent;
import io.dermcap.events.SourcePosition;
import io.dermcap.model.ModelInfo;
import io.dermcap.registry.SerdeException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Failure records for input records that could not be deserialized, written by Kafka Streams
 * itself (KIP-1034 dead-letter records), so under exactly_once_v2 they are part of the task's
 * transaction like every other outcome.
 */
public final class DeadLetters {

    private static final int MAX_MESSAGE = 2000;

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
        String message = "the record could not be deserialized as a CaptionRequest" + kind + ": " + describe(error);
        FailureEvent event = failures.failure(null,
                new SourcePosition(raw.topic(), raw.partition(), raw.offset()), raw.timestamp(),
                ErrorCode.UNDESERIALIZABLE_RECORD, message, false, 0, raw.key(), raw.value(), now);
        byte[] value = serializer.serialize(topic, event);
        return new ProducerRecord<>(topic, null, now, raw.key(), value);
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
