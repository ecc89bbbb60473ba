package io.dermcap.registry;

import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.kafka.common.errors.SerializationException;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Why a record could not be (de)serialized, typed so the topology can turn it into the right
 * failure event instead of parsing a message. Extends Kafka's {@link SerializationException}, so
 * Kafka Streams hands it to the deserialization / production exception handlers.
 */
public class SerdeException extends SerializationException {

    public enum Kind {
        /** fewer than the 5 header bytes */
        TRUNCATED,
        /** the first byte is not the Confluent magic byte 0: not framed by a schema-registry serializer */
        WRONG_MAGIC_BYTE,
        /** the header names a schema id the registry does not know */
        UNKNOWN_SCHEMA_ID,
        /** the id names a schema that is not Avro (Protobuf, JSON Schema) or cannot be parsed */
        NOT_AVRO,
        /** the writer schema cannot be resolved to the reader's (a record of another type) */
        INCOMPATIBLE_SCHEMA,
        /** the body does not decode with the writer schema (corrupt, truncated, trailing bytes) */
        CORRUPT_BODY,
        /** the serializer's schema is not registered and auto-registration is off */
        SCHEMA_NOT_REGISTERED,
        /** the registry refused the call (auth, incompatible registration, bad request) */
        REGISTRY_ERROR,
        /** the registry could not be reached or answered 5xx/429 after the retries: try again later */
        REGISTRY_UNAVAILABLE
    }

    private final Kind kind;
    private final int schemaId;

    public SerdeException(Kind kind, int schemaId, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.schemaId = schemaId;
    }

    public Kind kind() {
        return kind;
    }

    /** The schema id read from or meant for the header, or -1 when there is none. */
    public int schemaId() {
        return schemaId;
    }

    /** Whether the same bytes could succeed later: only when the registry was unavailable. */
    public boolean retryable() {
        return kind == Kind.REGISTRY_UNAVAILABLE;
    }

    /** Wraps a registry failure met while (de)serializing. */
    static SerdeException fromRegistry(RegistryException e, int schemaId, String context) {
        Kind kind;
        if (e.retryable()) {
            kind = Kind.REGISTRY_UNAVAILABLE;
        } else if (e instanceof UnsupportedSchemaException) {
            kind = Kind.NOT_AVRO;
        } else {
            kind = Kind.REGISTRY_ERROR;
        }
        return new SerdeException(kind, schemaId, context + ": " + e.getMessage(), e);
    }

    /** The most incompatibilities {@link #describe} names; the rest are counted. */
    static final int MAX_NAMED = 5;

    /**
     * Schema incompatibilities in a few words each (kind, location, what): Avro's own description
     * quotes both schemas whole, which made one failure message thousands of characters long.
     */
    static String describe(Schema reader, List<SchemaCompatibility.Incompatibility> incompatibilities) {
        String named = incompatibilities.stream().limit(MAX_NAMED)
                .map(i -> i.getType() + " at " + fieldPath(reader, i.getLocation()) + " (" + cut(i.getMessage(), 120) + ")")
                .collect(Collectors.joining("; "));
        int more = incompatibilities.size() - MAX_NAMED;
        return more > 0 ? named + "; and " + more + " more" : named;
    }

    /** A location such as {@code /fields/1/type} as the field names it passes ({@code image_uri}), else as given. */
    static String fieldPath(Schema reader, String location) {
        StringBuilder path = new StringBuilder();
        Schema current = reader;
        String[] parts = location.split("/");
        try {
            for (int i = 1; i < parts.length; i++) {
                switch (parts[i]) {
                    case "fields" -> {
                        Schema.Field f = current.getFields().get(Integer.parseInt(parts[++i]));
                        path.append(path.isEmpty() ? "" : ".").append(f.name());
                        current = f.schema();
                    }
                    case "items" -> current = current.getElementType();
                    case "values" -> current = current.getValueType();
                    case "type", "name", "symbols", "size" -> {
                        // the node itself
                    }
                    default -> current = current.getTypes().get(Integer.parseInt(parts[i]));
                }
            }
        } catch (RuntimeException e) {
            return location;
        }
        return path.isEmpty() ? location : path.toString();
    }

    private static String cut(String s, int max) {
        return s == null || s.length() <= max ? s : s.substring(0, max) + "...";
    }
}
