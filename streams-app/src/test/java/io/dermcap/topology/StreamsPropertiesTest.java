package io.dermcap.topology;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

class StreamsPropertiesTest {

    private static final BatchOptions BATCH = new BatchOptions(4, Duration.ofMillis(100), 16, 32, Duration.ofSeconds(5), 2);

    @Test
    void kafkaStreamsDoesNotWarnAboutTheProcessingExceptionHandlerAtEveryStart() {
        Logger logger = (Logger) LoggerFactory.getLogger(StreamsConfig.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try {
            new StreamsConfig(Map.of(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092",
                    StreamsConfig.APPLICATION_ID_CONFIG, "control"));
            assertThat(warnings(appender)).as("control: the warning exists without the setting").isPositive();
            appender.list.clear();
            Properties p = StreamsProperties.derive(Map.of(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092"), BATCH).properties();
            new StreamsConfig(p);
            assertThat(warnings(appender)).isZero();
        } finally {
            logger.detachAppender(appender);
        }
    }

    private static long warnings(ListAppender<ILoggingEvent> appender) {
        return appender.list.stream().filter(e -> e.getLevel() == Level.WARN)
                .filter(e -> e.getFormattedMessage().contains("Processing exception handler is not enabled")).count();
    }
}
