package io.dermcap.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dermcap.topology.AuditedOutcome;
import org.apache.avro.LogicalType;
import org.apache.avro.Schema;
import org.apache.avro.data.TimeConversions;
import org.apache.avro.generic.GenericEnumSymbol;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.specific.SpecificData;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Base64;
import java.util.Collection;
import java.util.Map;

/**
 * An outcome as JSON, generic over the Avro record: every field of the event's schema under its
 * Avro name, so fields added to the schemas appear without a change here. Timestamps
 * ({@code timestamp-millis}/{@code -micros}) become ISO-8601 UTC strings, enums their symbol,
 * bytes base64, maps objects, unions the value of their branch, non-finite doubles null.
 * Each outcome is wrapped as {@code {"kind": "caption"|"failure", "position": "...", "event": {...}}}.
 */
public final class OutcomeJson {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    /** Resolves unions of specific records, Java enums and logical types (an Instant in ["null", timestamp]). */
    private static final SpecificData MODEL = new SpecificData();

    static {
        MODEL.addLogicalTypeConversion(new TimeConversions.TimestampMillisConversion());
        MODEL.addLogicalTypeConversion(new TimeConversions.TimestampMicrosConversion());
    }

    private OutcomeJson() {
    }

    public static ObjectNode outcome(AuditedOutcome o) {
        ObjectNode node = JSON.objectNode();
        node.put("kind", o.failed() ? "failure" : "caption");
        node.put("position", o.position().toString());
        node.set("event", value(o.event().getSchema(), o.event()));
        return node;
    }

    /** The position of a wrapped outcome (as written by {@link #outcome}). */
    public static AuditedOutcome.Position position(JsonNode outcome) {
        return AuditedOutcome.Position.parse(outcome.path("position").asText());
    }

    static JsonNode value(Schema schema, Object v) {
        if (v == null) {
            return JSON.nullNode();
        }
        switch (schema.getType()) {
            case UNION:
                return value(schema.getTypes().get(MODEL.resolveUnion(schema, v)), v);
            case RECORD:
                IndexedRecord r = (IndexedRecord) v;
                ObjectNode o = JSON.objectNode();
                for (Schema.Field f : schema.getFields()) {
                    o.set(f.name(), value(f.schema(), r.get(f.pos())));
                }
                return o;
            case MAP:
                ObjectNode m = JSON.objectNode();
                for (Map.Entry<?, ?> e : new java.util.TreeMap<>(stringKeys((Map<?, ?>) v)).entrySet()) {
                    m.set(e.getKey().toString(), value(schema.getValueType(), e.getValue()));
                }
                return m;
            case ARRAY:
                ArrayNode a = JSON.arrayNode();
                for (Object item : (Collection<?>) v) {
                    a.add(value(schema.getElementType(), item));
                }
                return a;
            case ENUM:
                return JSON.textNode(v instanceof GenericEnumSymbol<?> s ? s.toString() : v.toString());
            case STRING:
                return JSON.textNode(v.toString());
            case BYTES:
                ByteBuffer b = ((ByteBuffer) v).duplicate();
                byte[] bytes = new byte[b.remaining()];
                b.get(bytes);
                return JSON.textNode(Base64.getEncoder().encodeToString(bytes));
            case FIXED:
                return JSON.textNode(Base64.getEncoder().encodeToString(((GenericFixed) v).bytes()));
            case BOOLEAN:
                return JSON.booleanNode((Boolean) v);
            case INT:
                return JSON.numberNode((Integer) v);
            case LONG:
                return timestamp(schema.getLogicalType(), v);
            case FLOAT:
            case DOUBLE:
                double d = ((Number) v).doubleValue();
                return Double.isFinite(d) ? JSON.numberNode(d) : JSON.nullNode();
            default:
                return JSON.nullNode();
        }
    }

    private static JsonNode timestamp(LogicalType type, Object v) {
        if (v instanceof Instant i) {
            return JSON.textNode(i.toString());
        }
        long n = (Long) v;
        if (type == null) {
            return JSON.numberNode(n);
        }
        return switch (type.getName()) {
            case "timestamp-millis" -> JSON.textNode(Instant.ofEpochMilli(n).toString());
            case "timestamp-micros" -> JSON.textNode(Instant.EPOCH.plusNanos(n * 1000).toString());
            default -> JSON.numberNode(n);
        };
    }

    private static Map<String, Object> stringKeys(Map<?, ?> map) {
        Map<String, Object> out = new java.util.HashMap<>();
        map.forEach((k, val) -> out.put(k.toString(), val));
        return out;
    }
}
