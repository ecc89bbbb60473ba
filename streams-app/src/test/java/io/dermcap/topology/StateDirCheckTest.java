package io.dermcap.topology;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StateDirCheckTest {

    @TempDir
    Path tmp;

    private static Properties stateDir(Path dir) {
        Properties p = new Properties();
        p.put("application.id", "dermcap-test");
        p.put("bootstrap.servers", "127.0.0.1:9");
        p.put("state.dir", dir.toString());
        return p;
    }

    @Test
    void aMissingDirectoryIsCreatedAndLeftEmpty() {
        Path dir = tmp.resolve("a").resolve("state");
        assertThat(StateDirCheck.require(stateDir(dir))).isEqualTo(dir);
        assertThat(dir.toFile().list()).isEmpty();
    }

    @Test
    void aDirectoryThatCannotBeCreatedIsOneClearError() throws Exception {
        Path file = Files.writeString(tmp.resolve("not-a-directory"), "x");
        Path dir = file.resolve("state");
        assertThatThrownBy(() -> StateDirCheck.require(stateDir(dir)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("the state directory " + dir + " (kafka.state.dir) cannot be written: ")
                .hasMessageContaining("give the service a writable directory");
    }
}
