package io.dermcap.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;

import io.dermcap.it.servers.TestServers;
import io.dermcap.registry.AvroSerde;
import io.dermcap.registry.AvroSerdeConfig;
import io.dermcap.registry.CompatibilityResult;
import io.dermcap.registry.HttpSchemaRegistryClient;
import io.dermcap.registry.RegisteredSchema;
import io.dermcap.registry.RegistryClientConfig;
import io.dermcap.registry.RegistryException;
import io.dermcap.registry.SchemaRegistryClient;
import io.dermcap.registry.SerdeException;

/** The registry client and serde against a real registry with the Confluent API. */
class RegistryIT {

    private static final TestServers SERVERS = TestServers.shared();

    private static final Schema V1 = new Schema.Parser().parse("""
            {"type":"record","name":"ImageRef","namespace":"io.dermcap.it","fields":[
              {"name":"request_id","type":"string"},
              {"name":"uri","type":"string"}]}""");
    /** BACKWARD compatible with V1: the new field has a default. */
    private static final Schema V2 = new Schema.Parser().parse("""
            {"type":"record","name":"ImageRef","namespace":"io.dermcap.it","fields":[
              {"name":"request_id","type":"string"},
              {"name":"uri","type":"string"},
              {"name":"sha256","type":["null","string"],"default":null}]}""");
    /** Not BACKWARD compatible with V2: a new field without a default. */
    private static final Schema V3_BREAKING = new Schema.Parser().parse("""
            {"type":"record","name":"ImageRef","namespace":"io.dermcap.it","fields":[
              {"name":"request_id","type":"string"},
              {"name":"uri","type":"string"},
              {"name":"sha256","type":["null","string"],"default":null},
              {"name":"site","type":"string"}]}""");

    private static String subject() {
        return "it-" + UUID.randomUUID() + "-value";
    }

    private static SchemaRegistryClient client() {
        return new HttpSchemaRegistryClient(RegistryClientConfig.of(SERVERS.registryUrl().toString())
                .withRetries(2, Duration.ofMillis(100), Duration.ofMillis(500)));
    }

    private static Map<String, Object> serdeConfig(Object... extra) {
        Map<String, Object> config = new HashMap<>();
        config.put(AvroSerdeConfig.SCHEMA_REGISTRY_URL, SERVERS.registryUrl().toString());
        for (int i = 0; i < extra.length; i += 2) {
            config.put((String) extra[i], extra[i + 1]);
        }
        return config;
    }

    @Test
    void registersLooksUpAndFetchesSchemasById() {
        SchemaRegistryClient client = client();
        String subject = subject();
        int id = client.register(subject, V1);

        assertThat(client.register(subject, V1)).as("registering again").isEqualTo(id);
        assertThat(client.lookup(subject, V1)).isEqualTo(id);
        assertThat(client.schemaById(id)).isEqualTo(V1);
        RegisteredSchema latest = client.latest(subject);
        assertThat(latest.version()).isEqualTo(1);
        assertThat(latest.id()).isEqualTo(id);
        assertThat(latest.schema()).isEqualTo(V1);
        // ids are global: the same schema under another subject has the same id
        assertThat(client.register(subject(), V1)).isEqualTo(id);
    }

    @Test
    void unknownIdsAndSubjectsAreNotFound() {
        SchemaRegistryClient client = client();
        assertThatThrownBy(() -> client.schemaById(Integer.MAX_VALUE - 7))
                .isInstanceOfSatisfying(RegistryException.class, e -> {
                    assertThat(e.status()).isEqualTo(404);
                    assertThat(e.errorCode()).isEqualTo(RegistryException.SCHEMA_NOT_FOUND);
                    assertThat(e.retryable()).isFalse();
                })
                .hasMessageContaining("HTTP 404");
        String subject = subject();
        assertThatThrownBy(() -> client.lookup(subject, V1))
                .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.notFound()).isTrue());
        assertThatThrownBy(() -> client.latest(subject))
                .isInstanceOfSatisfying(RegistryException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(RegistryException.SUBJECT_NOT_FOUND));
    }

    @Test
    void compatibilityLevelsAreEnforcedAndAnIncompatibleChangeIsRejected() {
        SchemaRegistryClient client = client();
        String subject = subject();
        client.register(subject, V1);
        client.setCompatibility(subject, "BACKWARD");
        assertThat(client.compatibility(subject)).isEqualTo("BACKWARD");

        assertThat(client.checkCompatibility(subject, V2).compatible()).isTrue();
        int v2 = client.register(subject, V2);
        assertThat(client.latest(subject).id()).isEqualTo(v2);
        assertThat(client.latest(subject).version()).isEqualTo(2);

        CompatibilityResult verdict = client.checkCompatibility(subject, V3_BREAKING);
        assertThat(verdict.compatible()).isFalse();
        assertThatThrownBy(() -> client.register(subject, V3_BREAKING))
                .isInstanceOfSatisfying(RegistryException.class, e -> {
                    assertThat(e.status()).isEqualTo(409);
                    assertThat(e.retryable()).isFalse();
                })
                .hasMessageContaining("HTTP 409");
        assertThat(client.latest(subject).id()).isEqualTo(v2);
    }

    @Test
    void serdeRoundTripWritesIdsThatResolveAndReadsOlderWriters() {
        String topic = "it-" + UUID.randomUUID();
        AvroSerde<GenericRecord> v1Serde = generic(null);
        GenericRecord old = new GenericData.Record(V1);
        old.put("request_id", "r-1");
        old.put("uri", "s3://images/r-1.png");
        byte[] bytes = v1Serde.serializer().serialize(topic, old);

        assertThat(bytes[0]).isZero();
        int id = ByteBuffer.wrap(bytes, 1, 4).getInt();
        assertThat(client().schemaById(id)).isEqualTo(V1);
        assertThat(client().latest(topic + "-value").id()).isEqualTo(id);
        assertThat(v1Serde.deserializer().deserialize(topic, bytes)).isEqualTo(old);

        AvroSerde<GenericRecord> v2Reader = generic(V2);
        GenericRecord upgraded = v2Reader.deserializer().deserialize(topic, bytes);
        assertThat(upgraded.get("request_id").toString()).isEqualTo("r-1");
        assertThat(upgraded.get("sha256")).isNull();
    }

    private static AvroSerde<GenericRecord> generic(Schema reader, Object... extra) {
        AvroSerdeConfig config = AvroSerdeConfig.fromMap(serdeConfig(extra));
        return AvroSerde.generic(reader, SchemaRegistryClient.create(config.registry()), config, false);
    }

    @Test
    void withAutoRegisterOffAMissingSubjectIsAClearError() {
        AvroSerde<GenericRecord> serde = AvroSerde.generic(null, null, null, false);
        serde.configure(serdeConfig(AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, "false"), false);
        GenericRecord record = new GenericData.Record(V1);
        record.put("request_id", "r-2");
        record.put("uri", "s3://images/r-2.png");
        String topic = "it-" + UUID.randomUUID();
        assertThatThrownBy(() -> serde.serializer().serialize(topic, record))
                .isInstanceOfSatisfying(SerdeException.class,
                        e -> assertThat(e.kind()).isEqualTo(SerdeException.Kind.SCHEMA_NOT_REGISTERED))
                .hasMessageContaining("subject '" + topic + "-value'")
                .hasMessageContaining("auto.register.schemas is false")
                .hasMessageContaining("HTTP 404");
    }

    @Test
    void basicAuthIsRequiredAndAccepted() {
        TestServers.AuthenticatedRegistry secured = SERVERS.authenticatedRegistry();
        RegistryClientConfig anonymous = RegistryClientConfig.of(secured.url().toString())
                .withRetries(0, Duration.ZERO, Duration.ZERO);
        assertThatThrownBy(() -> new HttpSchemaRegistryClient(anonymous).register(subject(), V1))
                .isInstanceOfSatisfying(RegistryException.class, e -> {
                    assertThat(e.status()).isEqualTo(401);
                    assertThat(e.retryable()).isFalse();
                });
        assertThatThrownBy(() -> new HttpSchemaRegistryClient(anonymous.withUserInfo(secured.user() + ":wrong"))
                .register(subject(), V1))
                .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.status()).isEqualTo(401));

        AvroSerdeConfig config = AvroSerdeConfig.fromMap(Map.of(
                AvroSerdeConfig.SCHEMA_REGISTRY_URL, secured.url().toString(),
                AvroSerdeConfig.BASIC_AUTH_CREDENTIALS_SOURCE, "USER_INFO",
                AvroSerdeConfig.BASIC_AUTH_USER_INFO, secured.user() + ":" + secured.password()));
        SchemaRegistryClient client = SchemaRegistryClient.create(config.registry());
        String subject = subject();
        int id = client.register(subject, V1);
        assertThat(client.schemaById(id)).isEqualTo(V1);
        assertThat(client.lookup(subject, V1)).isEqualTo(id);
    }

    @Test
    void aRegistryOutageIsRetryableAndKnownIdsStayReadable() {
        String topic = "it-" + UUID.randomUUID();
        AvroSerde<GenericRecord> serde = generic(null);
        GenericRecord record = new GenericData.Record(V1);
        record.put("request_id", "r-3");
        record.put("uri", "s3://images/r-3.png");
        byte[] bytes = serde.serializer().serialize(topic, record);
        int id = ByteBuffer.wrap(bytes, 1, 4).getInt();

        SERVERS.stopRegistry();
        try {
            // cached: serializing and reading known schemas needs no registry
            assertThat(serde.deserializer().deserialize(topic, serde.serializer().serialize(topic, record))).isEqualTo(record);
            assertThatThrownBy(() -> client().schemaById(id))
                    .isInstanceOfSatisfying(RegistryException.class, e -> {
                        assertThat(e.retryable()).isTrue();
                        assertThat(e.status()).isZero();
                    })
                    .hasMessageContaining("gave up after 3 attempts");
            AvroSerde<GenericRecord> cold = generic(null, AvroSerdeConfig.MAX_RETRIES, "1",
                    AvroSerdeConfig.RETRIES_WAIT_MS, "100");
            assertThatThrownBy(() -> cold.deserializer().deserialize(topic, bytes))
                    .isInstanceOfSatisfying(SerdeException.class, e -> {
                        assertThat(e.kind()).isEqualTo(SerdeException.Kind.REGISTRY_UNAVAILABLE);
                        assertThat(e.retryable()).isTrue();
                    });
        } finally {
            SERVERS.startRegistry();
        }
        // the registry came back with its data: the id still resolves
        assertThat(client().schemaById(id)).isEqualTo(V1);
    }
}
