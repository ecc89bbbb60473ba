package io.dermcap.registry;

import java.util.Map;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A Kafka {@link Serde} for Avro records in the Confluent wire format: {@link AvroSerializer} and
 * {@link AvroDeserializer} over one registry client. Configured with Confluent's keys, so it and
 * Confluent's {@code SpecificAvroSerde} are interchangeable by configuration.
 */
public class AvroSerde<T extends IndexedRecord> implements Serde<T> {

    private final AvroSerializer<T> serializer;
    private final AvroDeserializer<T> deserializer;
    /** the generated class's schema (or the generic reader schema); null when unknown */
    private final Schema schema;

    /** For a generated class; call {@link #configure} with the registry settings before use. */
    public AvroSerde(Class<T> type) {
        this(new AvroSerializer<>(), new AvroDeserializer<>(type, null, null), schemaOf(type));
    }

    /** Ready to use: {@code client} is shared (e.g. by the key and value serdes of one app). */
    public AvroSerde(Class<T> type, SchemaRegistryClient client, AvroSerdeConfig config, boolean isKey) {
        this(new AvroSerializer<>(client, config, isKey), new AvroDeserializer<>(type, null, client), schemaOf(type));
    }

    private static Schema schemaOf(Class<?> type) {
        return SpecificRecord.class.isAssignableFrom(type) ? SpecificData.get().getSchema(type) : null;
    }

    /** For {@code GenericRecord}s, read as {@code readerSchema} (or as written when null). */
    public static AvroSerde<GenericRecord> generic(Schema readerSchema, SchemaRegistryClient client,
                                                   AvroSerdeConfig config, boolean isKey) {
        return new AvroSerde<>(new AvroSerializer<>(client, config, isKey),
                new AvroDeserializer<>(GenericRecord.class, readerSchema, client), readerSchema);
    }

    private AvroSerde(AvroSerializer<T> serializer, AvroDeserializer<T> deserializer, Schema schema) {
        this.serializer = serializer;
        this.deserializer = deserializer;
        this.schema = schema;
    }

    /**
     * Resolves (registering if configured) the id this serde writes with on {@code topic}, so the
     * registry is out of the path of the first record; call it at start-up.
     *
     * @throws SerdeException when the registry cannot be reached or refuses the schema
     */
    public RegisteredSchema prime(String topic) {
        if (schema == null) {
            throw new IllegalStateException("a generic serde without a reader schema has no schema to prime");
        }
        return serializer.writerFor(topic, schema);
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        AvroSerdeConfig config = AvroSerdeConfig.fromMap(configs);
        SchemaRegistryClient client = SchemaRegistryClient.create(config.registry());
        serializer.init(client, config, isKey);
        deserializer.init(client, config);
    }

    @Override
    public Serializer<T> serializer() {
        return serializer;
    }

    @Override
    public Deserializer<T> deserializer() {
        return deserializer;
    }
}
