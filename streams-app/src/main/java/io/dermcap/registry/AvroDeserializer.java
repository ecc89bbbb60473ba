package io.dermcap.registry;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads Confluent-framed Avro: the writer schema is fetched by the header's id, then resolved to
 * the reader schema (the generated class's, a given one, or the writer's own), so records written
 * with older or newer compatible schemas decode. Every way a record can be unreadable is a
 * {@link SerdeException} of its own kind; only successful resolutions are cached.
 */
public class AvroDeserializer<T extends IndexedRecord> implements Deserializer<T> {

    private final Class<T> type;
    private final Schema readerSchema;
    private SchemaRegistryClient client;
    private boolean specificReader;
    private final Map<Integer, DatumReader<T>> readers = new ConcurrentHashMap<>();

    /**
     * For Kafka's reflective construction: reads generated classes found by the writer schema's
     * name when {@code specific.avro.reader=true}, {@code GenericRecord}s otherwise.
     */
    public AvroDeserializer() {
        this(null, null, null);
    }

    /**
     * @param type         the generated class to read into, or null (see {@link #AvroDeserializer()})
     * @param readerSchema for generic reading: the schema to resolve to, or null for the writer's
     * @param client       the registry, or null to create one in {@link #configure}
     */
    public AvroDeserializer(Class<T> type, Schema readerSchema, SchemaRegistryClient client) {
        this.type = type;
        boolean specific = type != null && SpecificRecord.class.isAssignableFrom(type);
        if (specific) {
            TrustedRecords.trust(type);
        }
        this.readerSchema = specific ? SpecificData.get().getSchema(type) : readerSchema;
        this.client = client;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        AvroSerdeConfig parsed = AvroSerdeConfig.fromMap(configs);
        init(client != null ? client : SchemaRegistryClient.create(parsed.registry()), parsed);
    }

    void init(SchemaRegistryClient client, AvroSerdeConfig config) {
        this.client = client;
        this.specificReader = config.specificReader();
    }

    @Override
    public T deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        if (client == null) {
            throw new IllegalStateException("AvroDeserializer used before configure()");
        }
        int id = WireFormat.schemaId(data);
        DatumReader<T> reader = readers.get(id);
        if (reader == null) {
            reader = reader(id, topic);
            readers.put(id, reader);
        }
        BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(data, WireFormat.HEADER_SIZE,
                data.length - WireFormat.HEADER_SIZE, null);
        try {
            T value = reader.read(null, decoder);
            if (!decoder.isEnd()) {
                throw new IOException("bytes left over after the record");
            }
            return value;
        } catch (IOException | RuntimeException e) {
            // Avro throws a zoo of runtime exceptions on garbage (AvroRuntimeException,
            // ArrayIndexOutOfBounds, NegativeArraySize, ...): all mean the same thing here
            throw new SerdeException(SerdeException.Kind.CORRUPT_BODY, id, "the " + (data.length - WireFormat.HEADER_SIZE)
                    + "-byte body on topic " + topic + " does not decode with schema id " + id + ": "
                    + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()), e);
        }
    }

    @SuppressWarnings("unchecked")
    private DatumReader<T> reader(int id, String topic) {
        if (id < 0) {
            // registries hand out positive ids only; do not let garbage reach the registry as a request
            throw new SerdeException(SerdeException.Kind.UNKNOWN_SCHEMA_ID, id, "record on topic " + topic
                    + " names schema id " + id + ", which no registry hands out", null);
        }
        Schema writer;
        try {
            writer = client.schemaById(id);
        } catch (RegistryException e) {
            if (e.notFound()) {
                throw new SerdeException(SerdeException.Kind.UNKNOWN_SCHEMA_ID, id, "record on topic " + topic
                        + " names schema id " + id + ", which the registry does not know: " + e.getMessage(), e);
            }
            throw SerdeException.fromRegistry(e, id, "cannot fetch schema id " + id + " for a record on topic " + topic);
        }
        Class<?> specificClass = type;
        Schema reader = readerSchema;
        if (type == null && specificReader) {
            specificClass = TrustedRecords.specificClassFor(writer);
            reader = specificClass == null ? null : SpecificData.get().getSchema(specificClass);
        }
        if (reader == null) {
            reader = writer;
        }
        var pair = SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
        if (pair.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
            throw new SerdeException(SerdeException.Kind.INCOMPATIBLE_SCHEMA, id, "record on topic " + topic
                    + " was written with schema id " + id + " (" + writer.getFullName() + "), which cannot be read as "
                    + reader.getFullName() + ": " + SerdeException.describe(reader, pair.getResult().getIncompatibilities()), null);
        }
        if (specificClass != null && SpecificRecord.class.isAssignableFrom(specificClass)) {
            return new SpecificDatumReader<>(writer, reader, SpecificData.getForClass(specificClass));
        }
        return (DatumReader<T>) new GenericDatumReader<IndexedRecord>(writer, reader, GenericData.get());
    }
}
