package io.dermcap.topology;

import org.apache.kafka.streams.StreamsConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * The state directory ({@code kafka.state.dir}, where the buffer store lives) must be writable
 * before anything else starts: Kafka Streams would find out only after the bundle is loaded and
 * say so with a stack trace. Checked by creating it if missing and writing a probe file there.
 */
public final class StateDirCheck {

    private StateDirCheck() {
    }

    /** @throws IllegalStateException naming the directory and why it cannot be written */
    public static Path require(Properties streams) {
        Path dir = Path.of(new StreamsConfig(streams).getString(StreamsConfig.STATE_DIR_CONFIG)).toAbsolutePath();
        try {
            Files.createDirectories(dir);
            Files.delete(Files.createTempFile(dir, ".dermcap-write-probe", ""));
            return dir;
        } catch (IOException | SecurityException e) {
            throw new IllegalStateException("the state directory " + dir + " (kafka.state.dir) cannot be written: "
                    + reason(e) + "; the buffer store lives there, so give the service a writable directory");
        }
    }

    private static String reason(Exception e) {
        String name = e.getClass().getSimpleName();
        return e.getMessage() == null ? name : name + " " + e.getMessage();
    }
}
