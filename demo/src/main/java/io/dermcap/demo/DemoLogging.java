package io.dermcap.demo;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The demo's log levels. Quiet by default (WARN): the embedded broker's and S3Proxy's notices,
 * Kafka Streams' state lines and the service's INFO lines are hidden so that the demo's own output
 * reads well, while real warnings of the clients and the service still show; INFO or DEBUG shows
 * everything as {@code dermcap run} logs it. The previous levels come back with {@link #restore()}.
 */
final class DemoLogging {

    /** The embedded broker's own loggers: a freshly formatted log and benign races are not the demo's concern. */
    private static final List<String> BROKER = List.of("kafka", "state.change.logger", "org.apache.kafka.server",
            "org.apache.kafka.controller", "org.apache.kafka.raft", "org.apache.kafka.metadata", "org.apache.kafka.image",
            "org.apache.kafka.storage", "org.apache.kafka.coordinator");

    private final Level level;
    private final Map<Logger, Optional<Level>> saved = new LinkedHashMap<>();

    DemoLogging(String level) {
        this.level = Level.toLevel(level, Level.WARN);
    }

    private boolean quietMode() {
        return level.isGreaterOrEqual(Level.WARN);
    }

    void quiet() {
        set(org.slf4j.Logger.ROOT_LOGGER_NAME, level);
        if (quietMode()) {
            set("org.apache.kafka.streams.KafkaStreams", level);
            BROKER.forEach(name -> set(name, Level.ERROR));
            // state in a temporary folder is the point here; and dermcap has no global stores, so
            // Kafka 4.x's advice on global-thread exception handling does not apply
            set("org.apache.kafka.streams.processor.internals.StateDirectory", Level.ERROR);
            set("org.apache.kafka.streams.StreamsConfig", Level.ERROR);
        }
    }

    /** While everything is taken down, only errors: the clients' and the broker's shutdown chatter is noise. */
    void quietShutdown() {
        if (quietMode()) {
            set(org.slf4j.Logger.ROOT_LOGGER_NAME, Level.ERROR);
            set("org.apache.kafka", Level.ERROR);
        }
    }

    /** Puts the levels back, for a caller that goes on in this JVM (a test). */
    void restore() {
        saved.forEach((logger, previous) -> logger.setLevel(previous.orElse(null)));
        saved.clear();
    }

    private void set(String name, Level value) {
        Logger logger = (Logger) LoggerFactory.getLogger(name);
        saved.putIfAbsent(logger, Optional.ofNullable(logger.getLevel()));
        logger.setLevel(value);
    }
}
