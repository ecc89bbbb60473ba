package io.dermcap.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigTest {

    @TempDir
    Path dir;

    private Path file(String text) throws IOException {
        Path f = dir.resolve("dermcap.properties");
        Files.writeString(f, text);
        return f;
    }

    @Test
    void defaultsNeedOnlyTheBrokers() throws IOException {
        DermcapConfig c = Config.load(file("kafka.bootstrap.servers=localhost:9092\nserde.schema.registry.url=mock://t\nbundle.dir=/opt/bundle\n"), Map.of());
        assertThat(c.topology().requestTopic()).isEqualTo("image-requests");
        assertThat(c.topology().captionTopic()).isEqualTo("captions");
        assertThat(c.topology().failureTopic()).isEqualTo("caption-failures");
        assertThat(c.topology().instanceId()).isNotBlank();
        assertThat(c.batch().maxSize()).isEqualTo(8);
        assertThat(c.batch().maxDelay()).isEqualTo(Duration.ofMillis(200));
        assertThat(c.batch().maxInflight()).isEqualTo(24);
        assertThat(c.batch().maxBuffered()).isEqualTo(16);
        assertThat(c.http().port()).isEqualTo(8080);
        Properties s = c.streams();
        assertThat(s.getProperty("bootstrap.servers")).isEqualTo("localhost:9092");
        assertThat(s.getProperty("application.id")).isEqualTo("dermcap");
        assertThat(s.getProperty("processing.guarantee")).isEqualTo("at_least_once");
        assertThat(s.getProperty("commit.interval.ms")).isEqualTo("1000");
        assertThat(s.getProperty("max.poll.interval.ms")).isEqualTo("300000");
        assertThat(c.maxPollInterval()).isEqualTo(java.time.Duration.ofMillis(300_000));
        assertThat(s.getProperty("poll.ms")).isEqualTo("50");
        assertThat(s).doesNotContainKey("transaction.timeout.ms");
    }

    @Test
    void environmentOverridesTheFileAndReachesKafka() throws IOException {
        Path f = file("""
                kafka.bootstrap.servers=localhost:9092
                serde.schema.registry.url=mock://t\nbundle.dir=/opt/bundle
                batch.max.size=4
                topic.captions=from-file
                """);
        DermcapConfig c = Config.load(f, Map.of(
                "DERMCAP_BATCH_MAX_SIZE", "16",
                "DERMCAP_KAFKA_SASL_JAAS_CONFIG", "org.example.Login required;",
                "DERMCAP_KAFKA_NUM_STREAM_THREADS", "2",
                "PATH", "/usr/bin",
                "DERMCAP_CONFIG", "/etc/dermcap.properties"));
        assertThat(c.batch().maxSize()).isEqualTo(16);
        assertThat(c.batch().maxInflight()).isEqualTo(48);
        assertThat(c.topology().captionTopic()).isEqualTo("from-file");
        assertThat(c.streams().getProperty("sasl.jaas.config")).isEqualTo("org.example.Login required;");
        assertThat(c.streams().getProperty("num.stream.threads")).isEqualTo("2");
    }

    @Test
    void exactlyOnceDerivesCommitAndTransactionTimeouts() throws IOException {
        DermcapConfig c = Config.load(file("""
                kafka.bootstrap.servers=b:9092
                serde.schema.registry.url=mock://t\nbundle.dir=/opt/bundle
                kafka.processing.guarantee=exactly_once_v2
                batch.backpressure.block.ms=5000
                """), Map.of());
        Properties s = c.streams();
        assertThat(s.getProperty("commit.interval.ms")).isEqualTo("100");
        assertThat(s.getProperty("transaction.timeout.ms")).isEqualTo("20100");
        assertThat(s.getProperty("max.poll.interval.ms")).isEqualTo("300000");
    }

    @Test
    void unknownKeyInFileIsNamed() throws IOException {
        Path f = file("kafka.bootstrap.servers=b:9092\nserde.schema.registry.url=mock://t\nbundle.dir=/opt/bundle\nbatch.max.szie=8\n");
        assertThatThrownBy(() -> Config.load(f, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("batch.max.szie")
                .hasMessageContaining("unknown key")
                .hasMessageContaining("did you mean batch.max.size?");
    }

    /** The three keys a platform team got wrong, accepted silently before (issue 13). */
    @Test
    void misspelledAndManagedPassThroughKeysStopTheStartNamingTheKeyAndTheNearestValidOne() throws IOException {
        String base = "kafka.bootstrap.servers=b:9092\nserde.schema.registry.url=mock://t\nbundle.dir=/opt/bundle\n";
        assertThatThrownBy(() -> Config.load(file(base + "kafka.procesing.guarantee=exactly_once_v2\n"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("kafka.procesing.guarantee: not a Kafka Streams, consumer, producer or admin setting; "
                        + "did you mean kafka.processing.guarantee?");
        assertThatThrownBy(() -> Config.load(file(base.replace("serde.schema.registry.url=mock://t\n", "")
                        + "serde.schema.registry.ur1=http://registry:8081\n"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("serde.schema.registry.ur1: not a setting of dermcap's registry serde; "
                        + "did you mean serde.schema.registry.url?");
        assertThatThrownBy(() -> Config.load(file(base + "kafka.default.deserialization.exception.handler=x.Y\n"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("kafka.default.deserialization.exception.handler: managed by dermcap")
                .hasMessageContaining("UNDESERIALIZABLE_RECORD");
        // values too, as Kafka's own config classes judge them
        assertThatThrownBy(() -> Config.load(file(base + "kafka.compression.type=zip\n"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("Kafka refuses the settings")
                .hasMessageContaining("zip").hasMessageContaining("compression.type");
        // the same from the environment
        assertThatThrownBy(() -> Config.load(file(base), Map.of("DERMCAP_KAFKA_PROCESING_GUARANTEE", "exactly_once_v2")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("kafka.procesing.guarantee");
    }

    @Test
    void unknownEnvironmentVariableIsNamed() throws IOException {
        Path f = file("kafka.bootstrap.servers=b:9092\nserde.schema.registry.url=mock://t\nbundle.dir=/opt/bundle\n");
        assertThatThrownBy(() -> Config.load(f, Map.of("DERMCAP_BATCH_SIZE", "3")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("DERMCAP_BATCH_SIZE");
    }

    @Test
    void invalidValueNamesKeyValueAndOrigin() throws IOException {
        Path f = file("kafka.bootstrap.servers=b:9092\nserde.schema.registry.url=mock://t\nbundle.dir=/opt/bundle\n");
        assertThatThrownBy(() -> Config.load(f, Map.of("DERMCAP_BATCH_MAX_SIZE", "zero")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("batch.max.size")
                .hasMessageContaining("'zero'")
                .hasMessageContaining("DERMCAP_BATCH_MAX_SIZE")
                .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo("batch.max.size"));
        Path g = file("kafka.bootstrap.servers=b:9092\nserde.schema.registry.url=mock://t\nbundle.dir=/opt/bundle\nbatch.max.size=0\n");
        assertThatThrownBy(() -> Config.load(g, Map.of()))
                .hasMessageContaining("batch.max.size").hasMessageContaining("between 1 and 1024");
    }

    @Test
    void inflightBelowBatchSizeIsRefused() throws IOException {
        Path f = file("kafka.bootstrap.servers=b:9092\nserde.schema.registry.url=mock://t\nbundle.dir=/opt/bundle\nbatch.max.size=8\nbatch.max.inflight=4\n");
        assertThatThrownBy(() -> Config.load(f, Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("batch.max.inflight");
    }

    @Test
    void missingBrokersAreNamed() {
        assertThatThrownBy(() -> Config.load(null, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("kafka.bootstrap.servers")
                .hasMessageContaining("required");
    }

    @Test
    void pollIntervalTooShortForTheBackpressureWaitIsRefused() throws IOException {
        Path f = file("kafka.bootstrap.servers=b:9092\nserde.schema.registry.url=mock://t\nbundle.dir=/opt/bundle\nbatch.backpressure.block.ms=10000\nkafka.max.poll.interval.ms=30000\n");
        assertThatThrownBy(() -> Config.load(f, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("kafka.max.poll.interval.ms")
                .hasMessageContaining("at least 40000");
    }

    @Test
    void handlersAndSerdesCannotBeOverridden() throws IOException {
        Path f = file("kafka.bootstrap.servers=b:9092\nserde.schema.registry.url=mock://t\nbundle.dir=/opt/bundle\nkafka.deserialization.exception.handler=x.Y\n");
        assertThatThrownBy(() -> Config.load(f, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("kafka.deserialization.exception.handler");
    }

    @Test
    void onlyTheTwoSupportedGuaranteesAreAccepted() throws IOException {
        Path f = file("kafka.bootstrap.servers=b:9092\nserde.schema.registry.url=mock://t\nbundle.dir=/opt/bundle\nkafka.processing.guarantee=exactly_once\n");
        assertThatThrownBy(() -> Config.load(f, Map.of()))
                .hasMessageContaining("kafka.processing.guarantee").hasMessageContaining("exactly_once_v2");
    }

    @Test
    void sameTopicForInputAndOutputIsRefused() throws IOException {
        Path f = file("kafka.bootstrap.servers=b:9092\nserde.schema.registry.url=mock://t\nbundle.dir=/opt/bundle\ntopic.captions=image-requests\n");
        assertThatThrownBy(() -> Config.load(f, Map.of())).hasMessageContaining("topic.requests");
    }

    @Test
    void storageOptionsAreBuiltAndChecked() throws IOException {
        DermcapConfig c = Config.load(file("""
                kafka.bootstrap.servers=b:9092
                serde.schema.registry.url=mock://t\nbundle.dir=/opt/bundle
                storage.s3.buckets=clinic-a, clinic-b
                storage.s3.endpoint=http://127.0.0.1:9000
                storage.s3.path.style=true
                storage.https.address.classes=public,private
                storage.retry.budget.ms=5000
                """), Map.of("DERMCAP_STORAGE_S3_ACCESS_KEY_ID", "id", "DERMCAP_STORAGE_S3_SECRET_ACCESS_KEY", "s3cr3t"));
        var s = c.storage();
        assertThat(s.allowedBuckets()).containsExactlyInAnyOrder("clinic-a", "clinic-b");
        assertThat(s.allowedHosts()).isEmpty();
        assertThat(s.fileRoot()).isNull();
        assertThat(s.s3().endpoint()).hasToString("http://127.0.0.1:9000");
        assertThat(s.s3().pathStyle()).isTrue();
        assertThat(s.s3().secretAccessKey()).isEqualTo("s3cr3t");
        assertThat(s.allowedAddresses()).containsExactlyInAnyOrder(io.dermcap.storage.AddressClass.PUBLIC,
                io.dermcap.storage.AddressClass.PRIVATE);
        assertThat(s.retry().budget()).isEqualTo(Duration.ofSeconds(5));
        assertThat(s.maxBytes()).isEqualTo(32L << 20);

        Path bad = file("kafka.bootstrap.servers=b:9092\nserde.schema.registry.url=mock://t\nbundle.dir=/opt/bundle\nstorage.https.address.classes=PUBLIC,INTRANET\n");
        assertThatThrownBy(() -> Config.load(bad, Map.of()))
                .hasMessageContaining("storage.https.address.classes").hasMessageContaining("INTRANET");
        Path half = file("kafka.bootstrap.servers=b:9092\nserde.schema.registry.url=mock://t\nbundle.dir=/opt/bundle\nstorage.s3.access.key.id=x\n");
        assertThatThrownBy(() -> Config.load(half, Map.of())).hasMessageContaining("storage.s3.secret.access.key");
    }

    @Test
    void serdeSettingsAreCheckedWithoutShowingSecrets() throws IOException {
        Path none = file("kafka.bootstrap.servers=b:9092\n");
        assertThatThrownBy(() -> Config.load(none, Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("serde.schema.registry.url");
        Path f = file("""
                kafka.bootstrap.servers=b:9092
                serde.schema.registry.url=https://registry:8081
                serde.basic.auth.credentials.source=USER_INFO
                serde.basic.auth.user.info=topsecretwithoutcolon
                """);
        assertThatThrownBy(() -> Config.load(f, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("serde.basic.auth.user.info")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("topsecret"));
        DermcapConfig ok = Config.load(file("kafka.bootstrap.servers=b:9092\nserde.schema.registry.url=mock://x\nbundle.dir=/b\n"),
                Map.of("DERMCAP_SERDE_AUTO_REGISTER_SCHEMAS", "false"));
        assertThat(ok.serdeSettings()).containsEntry("schema.registry.url", "mock://x").containsEntry("auto.register.schemas", "false");
        assertThat(ok.serde().autoRegister()).isFalse();
        assertThat(ok.serde().registry().mockScope()).isEqualTo("x");
    }

    @Test
    void theOfflineCommandsReadTheSameKeysWithTheSameDefaultsAndNeedNoKafka() throws IOException {
        Path run = file("kafka.bootstrap.servers=b:9092\nserde.schema.registry.url=mock://t\nbundle.dir=/b\nstorage.s3.buckets=scans\n");
        DermcapConfig service = Config.load(run, Map.of());
        OfflineConfig same = Config.offline(run, Map.of(), Map.of());
        assertThat(same.storage()).isEqualTo(service.storage());
        assertThat(same.imageLimits()).isEqualTo(service.imageLimits());
        assertThat(same.engine()).isEqualTo(service.engine());

        OfflineConfig flags = Config.offline(null, Map.of("bundle.dir", "/c", "storage.max.bytes", "1000", "engine.threads", "1"),
                Map.of("DERMCAP_STORAGE_MAX_BYTES", "5"));
        assertThat(flags.bundleDir()).isEqualTo(Path.of("/c"));
        assertThat(flags.imageLimits().maxBytes()).isEqualTo(1000).isEqualTo(flags.storage().maxBytes());
        assertThat(flags.engine().intraOpThreads()).isEqualTo(1);
        assertThatThrownBy(() -> Config.offline(null, Map.of("bundle.dir", "/c", "storage.max.byte", "1"), Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("storage.max.byte").hasMessageContaining("the command line");
        assertThatThrownBy(() -> Config.offline(null, Map.of(), Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("bundle.dir").hasMessageContaining("required");
    }

    @Test
    void modelSettingsAreTyped() throws IOException {
        Path none = file("kafka.bootstrap.servers=b:9092\nserde.schema.registry.url=mock://t\n");
        assertThatThrownBy(() -> Config.load(none, Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("bundle.dir").hasMessageContaining("required");
        DermcapConfig c = Config.load(none, Map.of("DERMCAP_BUNDLE_DIR", "/models/b1", "DERMCAP_ENGINE_THREADS", "2",
                "DERMCAP_ENGINE_EXECUTION_PROVIDER", "cuda", "DERMCAP_IMAGE_MAX_PIXELS", "1000000",
                "DERMCAP_STORAGE_MAX_BYTES", "1000", "DERMCAP_LOG_LEVEL", "debug"));
        assertThat(c.bundleDir()).isEqualTo(Path.of("/models/b1"));
        assertThat(c.engine().intraOpThreads()).isEqualTo(2);
        assertThat(c.engine().executionProvider()).isEqualTo(io.dermcap.model.EngineOptions.ExecutionProvider.CUDA);
        assertThat(c.imageLimits().maxPixels()).isEqualTo(1_000_000);
        assertThat(c.imageLimits().maxBytes()).isEqualTo(1000);
        assertThat(c.logLevel()).isEqualTo("DEBUG");
        assertThatThrownBy(() -> Config.load(none, Map.of("DERMCAP_BUNDLE_DIR", "/b", "DERMCAP_ENGINE_EXECUTION_PROVIDER", "TPU")))
                .hasMessageContaining("engine.execution.provider").hasMessageContaining("CPU, CUDA");
    }

    @Test
    void missingFileIsReported() {
        assertThatThrownBy(() -> Config.load(dir.resolve("nope.properties"), Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("nope.properties");
    }
}
