package io.dermcap.topology;

import io.dermcap.registry.SerdeException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;

/**
 * Turns an input record that cannot be deserialized into an UNDESERIALIZABLE_RECORD failure
 * event (with the raw bytes) and carries on: Kafka Streams writes the event to the failure
 * topic itself ({@link Response#resume(List)}, KIP-1034). A registry that cannot be reached is
 * not the record's fault: then the stream thread fails without committing the record, and it is
 * read again once the thread is replaced (see the command line's uncaught exception handler).
 */
public final class UndeserializableRecordHandler implements DeserializationExceptionHandler {

    /** Streams config key under which the {@link DeadLetters} instance is passed. */
    public static final String DEAD_LETTERS = "dermcap.dead.letters";

    private static final Logger log = LoggerFactory.getLogger(UndeserializableRecordHandler.class);

    private DeadLetters deadLetters;

    @Override
    public void configure(Map<String, ?> configs) {
        if (!(configs.get(DEAD_LETTERS) instanceof DeadLetters d)) {
            throw new ConfigException(DEAD_LETTERS, configs.get(DEAD_LETTERS), "expected a DeadLetters instance");
        }
        this.deadLetters = d;
    }

    @Override
    public Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        if (exception instanceof SerdeException e && e.retryable()) {
            log.warn("event=registry_unavailable topic={} partition={} offset={} action=retry_record", record.topic(),
                    record.partition(), record.offset());
            return Response.fail();
        }
        log.info("event=undeserializable_record topic={} partition={} offset={} kind={} error={}", record.topic(),
                record.partition(), record.offset(), exception instanceof SerdeException e ? e.kind() : "NOT_A_SERDE_ERROR",
                exception.getClass().getSimpleName());
        return Response.resume(List.of(deadLetters.undeserializable(record, exception, System.currentTimeMillis())));
    }
}
