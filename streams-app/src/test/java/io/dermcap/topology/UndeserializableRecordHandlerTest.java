package io.dermcap.topology;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.dermcap.registry.SerdeException;
import io.dermcap.testing.FakeCaptioner;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** An unreadable record is logged with the kind of problem (never its bytes) and dead-lettered. */
class UndeserializableRecordHandlerTest {

    @Test
    void theLogLineNamesTheKind() {
        UndeserializableRecordHandler handler = new UndeserializableRecordHandler();
        TopologyOptions options = new TopologyOptions("requests", "captions", "failures", "i-1", "0.1.0-test", false);
        handler.configure(Map.of(UndeserializableRecordHandler.DEAD_LETTERS,
                new DeadLetters(options, new FakeCaptioner().info(), (topic, event) -> new byte[] {1})));
        Logger logger = (Logger) LoggerFactory.getLogger(UndeserializableRecordHandler.class);
        Level before = logger.getLevel();
        logger.setLevel(Level.INFO);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try {
            ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>("requests", 0, 7L, "k".getBytes(), "{}".getBytes());
            var response = handler.handleError(null, record,
                    new SerdeException(SerdeException.Kind.WRONG_MAGIC_BYTE, -1, "first byte is 0x7b", null));
            assertThat(response.deadLetterQueueRecords()).hasSize(1);
            handler.handleError(null, record, new SerializationException("key is not UTF-8"));
        } finally {
            logger.detachAppender(appender);
            logger.setLevel(before);
        }
        assertThat(appender.list).extracting(ILoggingEvent::getFormattedMessage).containsExactly(
                "event=undeserializable_record topic=requests partition=0 offset=7 kind=WRONG_MAGIC_BYTE error=SerdeException",
                "event=undeserializable_record topic=requests partition=0 offset=7 kind=NOT_A_SERDE_ERROR error=SerializationException");
    }
}
