package io.dermcap.registry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Writes Avro records (generated classes or {@code GenericRecord}s) in the Confluent wire format.
 * The schema id comes from registering the record's schema under the subject its strategy names
 * ({@code auto.register.schemas=true}, the default), from looking it up there (false), or from the
 * subject's latest version ({@code use.latest.version=true}, the record then re-encoded to that
 * schema). Registry failures surface as {@link SerdeException}s with their kind.
 */
public class AvroSerializer<T extends IndexedRecord> implements Serializer<T> {

    private record Latest(RegisteredSchema schema, long fetchedNanos) {
    }

    private record WriterKey(Class<?> type, Schema schema) {
    }

    /** Datum writers are stateless once built; building one per record would dominate small records. */
    private static final Map<WriterKey, DatumWriter<IndexedRecord>> WRITERS = new ConcurrentHashMap<>();

    private SchemaRegistryClient client;
    private AvroSerdeConfig config;
    private boolean isKey;
    private final Map<String, Latest> latest = new ConcurrentHashMap<>();

    /** For Kafka's reflective construction: call {@link #configure} before use. */
    public AvroSerializer() {
    }

    public AvroSerializer(SchemaRegistryClient client, AvroSerdeConfig config, boolean isKey) {
        this.client = client;
        this.config = config;
        this.isKey = isKey;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        AvroSerdeConfig parsed = AvroSerdeConfig.fromMap(configs);
        init(client != null ? client : SchemaRegistryClient.create(parsed.registry()), parsed, isKey);
    }

    void init(SchemaRegistryClient client, AvroSerdeConfig config, boolean isKey) {
        this.client = client;
        this.config = config;
        this.isKey = isKey;
    }

    @Override
    public byte[] serialize(String topic, T record) {
        if (record == null) {
            return null;
        }
        Schema schema = record.getSchema();
        RegisteredSchema target = writerFor(topic, schema);
        if (target.schema().equals(schema)) {
            return encode(target.id(), record, schema);
        }
        return encode(target.id(), translate(record, schema, target), target.schema());
    }

    /**
     * The schema id (and schema) that records of {@code schema} are written with on {@code topic},
     * registering or looking it up as configured; cached after the first call, so calling it at
     * start-up takes the registry out of the path of the first record. The version is 0 unless
     * {@code use.latest.version} looked it up.
     */
    public RegisteredSchema writerFor(String topic, Schema schema) {
        if (config == null) {
            throw new IllegalStateException("AvroSerializer used before configure()");
        }
        String subject = config.subjectStrategy(isKey).subject(topic, isKey, schema);
        if (config.useLatestVersion()) {
            return latest(subject, schema);
        }
        try {
            int id = config.autoRegister() ? client.register(subject, schema) : client.lookup(subject, schema);
            return new RegisteredSchema(subject, 0, id, schema);
        } catch (RegistryException e) {
            if (!config.autoRegister() && e.notFound()) {
                throw new SerdeException(SerdeException.Kind.SCHEMA_NOT_REGISTERED, -1, "schema "
                        + schema.getFullName() + " is not registered under subject '" + subject
                        + "' and auto.register.schemas is false: " + e.getMessage(), e);
            }
            throw SerdeException.fromRegistry(e, -1, "cannot get an id for schema " + schema.getFullName()
                    + " under subject '" + subject + "'");
        }
    }

    private RegisteredSchema latest(String subject, Schema schema) {
        Latest cached = latest.get(subject);
        long now = System.nanoTime();
        if (cached == null || (config.latestCacheTtl() != null
                && now - cached.fetchedNanos() > config.latestCacheTtl().toNanos())) {
            try {
                cached = new Latest(client.latest(subject), now);
            } catch (RegistryException e) {
                if (e.notFound()) {
                    throw new SerdeException(SerdeException.Kind.SCHEMA_NOT_REGISTERED, -1,
                            "use.latest.version is set but subject '" + subject + "' has no versions: " + e.getMessage(), e);
                }
                throw SerdeException.fromRegistry(e, -1, "cannot get the latest version of subject '" + subject + "'");
            }
            latest.put(subject, cached);
        }
        RegisteredSchema target = cached.schema();
        if (config.latestCompatibilityStrict() && !target.schema().equals(schema)) {
            var pair = SchemaCompatibility.checkReaderWriterCompatibility(target.schema(), schema);
            if (pair.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
                throw new SerdeException(SerdeException.Kind.INCOMPATIBLE_SCHEMA, target.id(), "latest version "
                        + target.version() + " (id " + target.id() + ") of subject '" + subject
                        + "' cannot represent a " + schema.getFullName() + ": "
                        + SerdeException.describe(target.schema(), pair.getResult().getIncompatibilities()), null);
            }
        }
        return target;
    }

    /** Rewrites {@code record} in the layout of {@code target} by Avro schema resolution. */
    private IndexedRecord translate(T record, Schema schema, RegisteredSchema target) {
        byte[] body = body(record, schema);
        try {
            return new GenericDatumReader<IndexedRecord>(schema, target.schema(), GenericData.get())
                    .read(null, DecoderFactory.get().binaryDecoder(body, null));
        } catch (IOException | RuntimeException e) {
            throw new SerdeException(SerdeException.Kind.INCOMPATIBLE_SCHEMA, target.id(), "cannot rewrite a "
                    + schema.getFullName() + " as schema id " + target.id() + ": " + e.getMessage(), e);
        }
    }

    private byte[] encode(int id, IndexedRecord record, Schema schema) {
        byte[] body = body(record, schema);
        byte[] out = new byte[WireFormat.HEADER_SIZE + body.length];
        WireFormat.writeHeader(out, id);
        System.arraycopy(body, 0, out, WireFormat.HEADER_SIZE, body.length);
        return out;
    }

    private static byte[] body(IndexedRecord record, Schema schema) {
        DatumWriter<IndexedRecord> writer = WRITERS.computeIfAbsent(new WriterKey(record.getClass(), schema),
                k -> record instanceof SpecificRecord
                        ? new SpecificDatumWriter<>(schema, SpecificData.getForClass(record.getClass()))
                        : new GenericDatumWriter<>(schema, GenericData.get()));
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
        try {
            writer.write(record, encoder);
            encoder.flush();
        } catch (IOException | RuntimeException e) {
            // a field that violates its schema (null in a non-null field, wrong type)
            throw new SerdeException(SerdeException.Kind.CORRUPT_BODY, -1, "cannot encode a " + schema.getFullName()
                    + ": " + e.getMessage(), e);
        }
        return out.toByteArray();
    }
}
