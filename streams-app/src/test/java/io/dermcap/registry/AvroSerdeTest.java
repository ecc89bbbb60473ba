package io.dermcap.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.dermcap.registry.fixtures.Other;
import io.dermcap.registry.fixtures.Sample;

class AvroSerdeTest {

    private final String scope = "serde-" + UUID.randomUUID();
    private final MockSchemaRegistry registry = MockSchemaRegistry.forScope(scope);

    @AfterEach
    void dropScope() {
        MockSchemaRegistry.dropScope(scope);
    }

    private static Sample sample() {
        return Sample.newBuilder().setId("req-1").setSize(42).setTags(List.of("a", "b"))
                .setCreated(Instant.ofEpochMilli(1_700_000_000_123L)).setNote("n").build();
    }

    private Map<String, Object> config(Object... extra) {
        Map<String, Object> map = new HashMap<>();
        map.put(AvroSerdeConfig.SCHEMA_REGISTRY_URL, "mock://" + scope);
        for (int i = 0; i < extra.length; i += 2) {
            map.put((String) extra[i], extra[i + 1]);
        }
        return map;
    }

    private AvroSerde<Sample> serde(Object... extra) {
        AvroSerde<Sample> serde = new AvroSerde<>(Sample.class);
        serde.configure(config(extra), false);
        return serde;
    }

    private static final Schema SAMPLE_V1 = new Schema.Parser().parse("""
            {"type":"record","name":"Sample","namespace":"io.dermcap.registry.fixtures","fields":[
              {"name":"id","type":"string"},
              {"name":"size","type":"int"},
              {"name":"tags","type":{"type":"array","items":"string"},"default":[]},
              {"name":"created","type":{"type":"long","logicalType":"timestamp-millis"}}]}""");

    private static final Schema SAMPLE_V3 = new Schema.Parser().parse("""
            {"type":"record","name":"Sample","namespace":"io.dermcap.registry.fixtures","fields":[
              {"name":"id","type":"string"},
              {"name":"size","type":"int"},
              {"name":"tags","type":{"type":"array","items":"string"},"default":[]},
              {"name":"created","type":{"type":"long","logicalType":"timestamp-millis"}},
              {"name":"note","type":["null","string"],"default":null},
              {"name":"site","type":"string","default":"unknown"}]}""");

    private static byte[] framed(int id, Schema schema, GenericRecord record) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.write(ByteBuffer.allocate(4).putInt(id).array());
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(schema).write(record, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    @Test
    void roundTripWritesTheConfluentFrameWithAnIdThatResolves() {
        AvroSerde<Sample> serde = serde();
        byte[] bytes = serde.serializer().serialize("image-requests", sample());

        assertThat(bytes[0]).isEqualTo((byte) 0);
        int id = ByteBuffer.wrap(bytes, 1, 4).getInt();
        assertThat(registry.schemaById(id)).isEqualTo(Sample.getClassSchema());
        assertThat(registry.latest("image-requests-value").id()).isEqualTo(id);
        assertThat(serde.deserializer().deserialize("image-requests", bytes)).isEqualTo(sample());
    }

    @Test
    void primingRegistersTheSchemaSoTheFirstRecordNeedsNoRegistryCall() {
        AvroSerde<Sample> serde = serde();
        RegisteredSchema primed = serde.prime("primed");
        assertThat(primed.subject()).isEqualTo("primed-value");
        assertThat(registry.latest("primed-value").id()).isEqualTo(primed.id());
        assertThat(ByteBuffer.wrap(serde.serializer().serialize("primed", sample()), 1, 4).getInt()).isEqualTo(primed.id());
    }

    @Test
    void keysAndRecordNameStrategiesNameTheirSubjects() {
        AvroSerde<Sample> keySerde = new AvroSerde<>(Sample.class);
        keySerde.configure(config(), true);
        keySerde.serializer().serialize("t", sample());
        AvroSerde<Sample> byRecord = serde(AvroSerdeConfig.VALUE_SUBJECT_NAME_STRATEGY,
                "io.confluent.kafka.serializers.subject.RecordNameStrategy");
        byRecord.serializer().serialize("t", sample());
        AvroSerde<Sample> byTopicRecord = serde(AvroSerdeConfig.VALUE_SUBJECT_NAME_STRATEGY, "TopicRecordNameStrategy");
        byTopicRecord.serializer().serialize("t", sample());

        assertThat(registry.latest("t-key").schema()).isEqualTo(Sample.getClassSchema());
        assertThat(registry.latest("io.dermcap.registry.fixtures.Sample").schema()).isEqualTo(Sample.getClassSchema());
        assertThat(registry.latest("t-io.dermcap.registry.fixtures.Sample").schema()).isEqualTo(Sample.getClassSchema());
    }

    @Test
    void readsOlderAndNewerCompatibleWritersIntoTheGeneratedClass() throws IOException {
        int v1 = registry.register("old-value", SAMPLE_V1);
        GenericRecord old = new GenericData.Record(SAMPLE_V1);
        old.put("id", "r-old");
        old.put("size", 7);
        old.put("tags", List.of("x"));
        old.put("created", 5L);
        Sample fromOld = serde().deserializer().deserialize("old", framed(v1, SAMPLE_V1, old));
        assertThat(fromOld.getId()).isEqualTo("r-old");
        assertThat(fromOld.getNote()).isNull(); // the default of the field v1 lacked
        assertThat(fromOld.getCreated()).isEqualTo(Instant.ofEpochMilli(5));

        int v3 = registry.register("new-value", SAMPLE_V3);
        GenericRecord newer = new GenericData.Record(SAMPLE_V3);
        newer.put("id", "r-new");
        newer.put("size", 8);
        newer.put("tags", List.of());
        newer.put("created", 6L);
        newer.put("note", "hello");
        newer.put("site", "derm-2");
        Sample fromNew = serde().deserializer().deserialize("new", framed(v3, SAMPLE_V3, newer));
        assertThat(fromNew.getNote()).isEqualTo("hello"); // and 'site' is skipped
    }

    @Test
    void autoRegisterOffFailsClearlyForAMissingSubjectAndWorksOnceRegistered() {
        AvroSerde<Sample> serde = serde(AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, "false");
        assertThatThrownBy(() -> serde.serializer().serialize("unregistered", sample()))
                .isInstanceOfSatisfying(SerdeException.class, e -> {
                    assertThat(e.kind()).isEqualTo(SerdeException.Kind.SCHEMA_NOT_REGISTERED);
                    assertThat(e.retryable()).isFalse();
                })
                .hasMessageContaining("subject 'unregistered-value'")
                .hasMessageContaining("auto.register.schemas is false");
        assertThat(registry.checkCompatibility("unregistered-value", Sample.getClassSchema()).compatible()).isTrue();

        int id = registry.register("unregistered-value", Sample.getClassSchema());
        byte[] bytes = serde.serializer().serialize("unregistered", sample());
        assertThat(ByteBuffer.wrap(bytes, 1, 4).getInt()).isEqualTo(id);
    }

    @Test
    void useLatestVersionWritesWithTheLatestSchemaAndItsId() {
        registry.register("latest-value", Sample.getClassSchema());
        int v3 = registry.register("latest-value", SAMPLE_V3);
        AvroSerde<Sample> serde = serde(AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, false,
                AvroSerdeConfig.USE_LATEST_VERSION, true);
        byte[] bytes = serde.serializer().serialize("latest", sample());

        assertThat(ByteBuffer.wrap(bytes, 1, 4).getInt()).isEqualTo(v3);
        AvroSerde<GenericRecord> generic = AvroSerde.generic(null, registry,
                AvroSerdeConfig.fromMap(config()), false);
        GenericRecord asWritten = generic.deserializer().deserialize("latest", bytes);
        assertThat(asWritten.get("site").toString()).isEqualTo("unknown");
        assertThat(serde.deserializer().deserialize("latest", bytes)).isEqualTo(sample());
    }

    @Test
    void useLatestVersionRefusesALatestSchemaThatCannotHoldTheRecord() {
        registry.register("other-value", Other.getClassSchema());
        AvroSerde<Sample> serde = serde(AvroSerdeConfig.USE_LATEST_VERSION, "true");
        assertThatThrownBy(() -> serde.serializer().serialize("other", sample()))
                .isInstanceOfSatisfying(SerdeException.class,
                        e -> assertThat(e.kind()).isEqualTo(SerdeException.Kind.INCOMPATIBLE_SCHEMA))
                .hasMessageContaining("subject 'other-value'");
    }

    @Test
    void anIncompatibleRegistrationIsARegistryError() {
        Schema breaking = new Schema.Parser().parse("""
                {"type":"record","name":"Sample","namespace":"io.dermcap.registry.fixtures","fields":[
                  {"name":"id","type":"string"},{"name":"mandatory","type":"int"}]}""");
        serde().serializer().serialize("evolving", sample());
        assertThatThrownBy(() -> registry.register("evolving-value", breaking))
                .isInstanceOfSatisfying(RegistryException.class, e -> {
                    assertThat(e.status()).isEqualTo(409);
                    assertThat(e.errorCode()).isEqualTo(RegistryException.INCOMPATIBLE_SCHEMA);
                })
                .hasMessageContaining("mandatory");
    }

    @Test
    void recordsThatAreNotConfluentAvroFailWithTheirOwnKinds() throws IOException {
        AvroSerde<Sample> serde = serde();
        byte[] good = serde.serializer().serialize("t", sample());
        int id = ByteBuffer.wrap(good, 1, 4).getInt();

        assertKind(serde, new byte[] {0, 0, 1}, SerdeException.Kind.TRUNCATED, "shorter than the 5-byte");
        assertKind(serde, "{\"json\":true}".getBytes(), SerdeException.Kind.WRONG_MAGIC_BYTE, "0x7b");
        byte[] unknown = good.clone();
        ByteBuffer.wrap(unknown, 1, 4).putInt(987_654);
        assertKind(serde, unknown, SerdeException.Kind.UNKNOWN_SCHEMA_ID, "schema id 987654");
        ByteBuffer.wrap(unknown, 1, 4).putInt(-2);
        assertKind(serde, unknown, SerdeException.Kind.UNKNOWN_SCHEMA_ID, "schema id -2");

        byte[] truncated = java.util.Arrays.copyOf(good, good.length - 3);
        assertKind(serde, truncated, SerdeException.Kind.CORRUPT_BODY, "schema id " + id);
        byte[] trailing = java.util.Arrays.copyOf(good, good.length + 2);
        assertKind(serde, trailing, SerdeException.Kind.CORRUPT_BODY, "left over");

        AvroSerde<Other> otherSerde = new AvroSerde<>(Other.class);
        otherSerde.configure(config(), false);
        byte[] other = otherSerde.serializer().serialize("t2", new Other(3L));
        assertKind(serde, other, SerdeException.Kind.INCOMPATIBLE_SCHEMA, "cannot be read as io.dermcap.registry.fixtures.Sample");
        // a few words per incompatibility, never the schemas themselves
        assertThatThrownBy(() -> serde.deserializer().deserialize("t", other))
                .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(600).doesNotContain("\"fields\""));
    }

    @Test
    void bodiesClaimingHugeStringsOrArraysFailWithoutAllocatingThem() {
        AvroSerde<Sample> serde = serde();
        int id = ByteBuffer.wrap(serde.serializer().serialize("t", sample()), 1, 4).getInt();
        // 'id' claims a 2^30-byte string
        byte[] hugeString = concat(new byte[] {0, 0, 0, 0, (byte) id}, zigzag(1L << 30));
        // 'id' = "", 'size' = 0, then 'tags' claims 2^28 strings
        byte[] hugeArray = concat(new byte[] {0, 0, 0, 0, (byte) id, 0, 0}, zigzag(1L << 28));
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        for (byte[] hostile : List.of(hugeString, hugeArray)) {
            long before = threads.getCurrentThreadAllocatedBytes();
            assertKind(serde, hostile, SerdeException.Kind.CORRUPT_BODY, "does not decode");
            assertThat(threads.getCurrentThreadAllocatedBytes() - before).isLessThan(64L << 20);
        }
    }

    private static byte[] zigzag(long value) {
        long n = (value << 1) ^ (value >> 63);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while ((n & ~0x7FL) != 0) {
            out.write((int) ((n & 0x7F) | 0x80));
            n >>>= 7;
        }
        out.write((int) n);
        return out.toByteArray();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void theNoArgDeserializerReadsGeneratedClassesBySchemaNameOrGenericRecords() {
        byte[] bytes = serde().serializer().serialize("t", sample());

        AvroDeserializer<GenericRecord> specific = new AvroDeserializer<>();
        specific.configure(config(AvroSerdeConfig.SPECIFIC_AVRO_READER, "true"), false);
        Object read = specific.deserialize("t", bytes);
        assertThat(read).isInstanceOf(Sample.class).isEqualTo(sample());

        AvroDeserializer<GenericRecord> generic = new AvroDeserializer<>();
        generic.configure(config(), false);
        GenericRecord record = generic.deserialize("t", bytes);
        assertThat(record).isNotInstanceOf(Sample.class);
        assertThat(record.get("size")).isEqualTo(42);
    }

    @Test
    void nullIsATombstoneBothWays() {
        AvroSerde<Sample> serde = serde();
        assertThat(serde.serializer().serialize("t", null)).isNull();
        assertThat(serde.deserializer().deserialize("t", null)).isNull();
    }

    @Test
    void aRecordViolatingItsSchemaCannotBeSerialized() {
        Sample broken = sample();
        broken.setId(null);
        assertThatThrownBy(() -> serde().serializer().serialize("t", broken))
                .isInstanceOfSatisfying(SerdeException.class,
                        e -> assertThat(e.kind()).isEqualTo(SerdeException.Kind.CORRUPT_BODY));
    }

    @Test
    void configErrorsNameTheirKey() {
        assertThatThrownBy(() -> AvroSerdeConfig.fromMap(Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("schema.registry.url");
        assertThatThrownBy(() -> AvroSerdeConfig.fromMap(config(AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, "yes")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("auto.register.schemas");
        assertThatThrownBy(() -> AvroSerdeConfig.fromMap(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, "ftp://x")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("schema.registry.url");
        assertThatThrownBy(() -> AvroSerdeConfig.fromMap(config(AvroSerdeConfig.BASIC_AUTH_CREDENTIALS_SOURCE, "USER_INFO")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("basic.auth.user.info");
        assertThatThrownBy(() -> AvroSerdeConfig.fromMap(config(AvroSerdeConfig.VALUE_SUBJECT_NAME_STRATEGY, "Nope")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("value.subject.name.strategy");
        assertThatThrownBy(() -> AvroSerdeConfig.fromMap(config(AvroSerdeConfig.MAX_RETRIES, "-1")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("max.retries");
    }

    @Test
    void confluentKeysAreRead() {
        AvroSerdeConfig c = AvroSerdeConfig.fromMap(Map.of(
                AvroSerdeConfig.SCHEMA_REGISTRY_URL, "https://a.example:8081, https://bob:p%40ss@b.example/apis/ccompat/v7",
                AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, false,
                AvroSerdeConfig.MAX_RETRIES, 5,
                AvroSerdeConfig.RETRIES_WAIT_MS, "250",
                AvroSerdeConfig.LATEST_CACHE_TTL_SEC, "30",
                AvroSerdeConfig.KEY_SUBJECT_NAME_STRATEGY, "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy"));
        assertThat(c.autoRegister()).isFalse();
        assertThat(c.registry().urls()).extracting(Object::toString)
                .containsExactly("https://a.example:8081", "https://b.example/apis/ccompat/v7");
        assertThat(c.registry().userInfo()).isEqualTo("bob:p@ss");
        assertThat(c.registry().maxRetries()).isEqualTo(5);
        assertThat(c.registry().retryWait().toMillis()).isEqualTo(250);
        assertThat(c.latestCacheTtl().toSeconds()).isEqualTo(30);
        assertThat(c.keySubjectStrategy()).isEqualTo(SubjectNameStrategy.TOPIC_RECORD);
        assertThat(c.valueSubjectStrategy()).isEqualTo(SubjectNameStrategy.TOPIC);
        assertThat(c.registry().toString()).doesNotContain("p@ss");

        AvroSerdeConfig userInfo = AvroSerdeConfig.fromMap(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, "http://h:1",
                AvroSerdeConfig.BASIC_AUTH_CREDENTIALS_SOURCE, "USER_INFO", AvroSerdeConfig.BASIC_AUTH_USER_INFO, "alice:s3cret"));
        assertThat(userInfo.registry().userInfo()).isEqualTo("alice:s3cret");
    }

    private static void assertKind(AvroSerde<?> serde, byte[] bytes, SerdeException.Kind kind, String message) {
        assertThatThrownBy(() -> serde.deserializer().deserialize("t", bytes))
                .isInstanceOfSatisfying(SerdeException.class, e -> {
                    assertThat(e.kind()).isEqualTo(kind);
                    assertThat(e.retryable()).isFalse();
                })
                .hasMessageContaining(message);
    }
}
