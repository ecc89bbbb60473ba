package io.dermcap.cli;

import io.dermcap.config.Config;
import io.dermcap.config.DermcapConfig;
import io.dermcap.model.bundle.BundleException;
import io.dermcap.service.CaptionService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A wrong {@code bundle.dir} is reported as such even when Kafka cannot be reached (and so the
 * topics cannot be checked): checks run configuration → bundle → topics → registry.
 */
class StartupOrderTest {

    @TempDir
    Path dir;

    private DermcapConfig config() {
        // nothing listens on port 1: a topic check would wait for Kafka, then report that
        return Config.load(null, Map.of(
                "DERMCAP_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1",
                "DERMCAP_SERDE_SCHEMA_REGISTRY_URL", "mock://startup-order",
                "DERMCAP_BUNDLE_DIR", dir.resolve("no-such-bundle").toString(),
                "DERMCAP_HTTP_HOST", "127.0.0.1",
                "DERMCAP_HTTP_PORT", "0",
                "DERMCAP_KAFKA_STATE_DIR", dir.resolve("state").toString()));
    }

    @Test
    void checkConfigReportsTheBundleBeforeTheTopics() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = RunCommand.check(config(), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(status).isEqualTo(3);
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("configuration: ok").doesNotContain("topic");
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("cannot load the bundle", "no-such-bundle");
    }

    @Test
    void aStartReportsTheBundleBeforeTheTopics() {
        long began = System.nanoTime();
        assertThatThrownBy(() -> CaptionService.start(config()))
                .isInstanceOf(BundleException.class)
                .hasMessageContaining("no-such-bundle");
        // not after the 30 s a topic check would have waited for Kafka
        assertThat(System.nanoTime() - began).isLessThan(20_000_000_000L);
    }

    @Test
    void theTinyBundlePassesTheBundleCheck() {
        DermcapConfig cfg = Config.load(null, Map.of(
                "DERMCAP_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1",
                "DERMCAP_KAFKA_DEFAULT_API_TIMEOUT_MS", "1000",
                "DERMCAP_KAFKA_REQUEST_TIMEOUT_MS", "1000",
                "DERMCAP_SERDE_SCHEMA_REGISTRY_URL", "mock://startup-order",
                "DERMCAP_BUNDLE_DIR", io.dermcap.TestPaths.fixtures().resolve("tiny-bundle").toString()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = RunCommand.check(cfg, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("bundle: ok (dermlip-gpt2-captioner-random-tiny");
        assertThat(status).as(err.toString(StandardCharsets.UTF_8)).isEqualTo(4);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("cannot start");
    }
}
