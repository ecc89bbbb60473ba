package io.dermcap.registry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;

/**
 * An in-memory registry with the Confluent API's semantics (global ids, one id per distinct schema,
 * subject versions, compatibility levels checked with Avro's {@link SchemaCompatibility}, the same
 * error codes), shared by every client naming the same {@code mock://scope} in this JVM. A test
 * fixture that the demo also runs with (it reaches the demo module through this module's test jar);
 * never in the service.
 */
public final class MockSchemaRegistry implements SchemaRegistryClient {

    private final Map<String, Integer> idsBySchema = new HashMap<>();
    private final Map<Integer, Schema> schemasById = new HashMap<>();
    private final Map<String, List<Integer>> versions = new HashMap<>();
    private final Map<String, String> levels = new HashMap<>();
    private String globalLevel = "BACKWARD";

    private MockSchemaRegistry() {
    }

    /** The registry of {@code scope}, created and bound for {@code mock://scope} on first use. */
    public static MockSchemaRegistry forScope(String scope) {
        return (MockSchemaRegistry) InProcessRegistries.bindIfAbsent(scope, s -> new MockSchemaRegistry());
    }

    /** Forgets {@code scope}, so the next use starts empty. */
    public static void dropScope(String scope) {
        InProcessRegistries.unbind(scope);
    }

    @Override
    public synchronized int register(String subject, Schema schema) {
        List<Integer> ids = versions.getOrDefault(subject, List.of());
        Integer existing = idsBySchema.get(schema.toString());
        if (existing != null && ids.contains(existing)) {
            return existing;
        }
        CompatibilityResult result = checkCompatibility(subject, schema);
        if (!result.compatible()) {
            throw new RegistryException(409, RegistryException.INCOMPATIBLE_SCHEMA,
                    "Schema being registered is incompatible with an earlier schema for subject \"" + subject
                            + "\": " + result.messages(), false, null);
        }
        int id = idsBySchema.computeIfAbsent(schema.toString(), s -> idsBySchema.size() + 1);
        schemasById.put(id, schema);
        versions.computeIfAbsent(subject, s -> new ArrayList<>()).add(id);
        return id;
    }

    @Override
    public synchronized int lookup(String subject, Schema schema) {
        List<Integer> ids = versions.get(subject);
        if (ids == null) {
            throw subjectNotFound(subject);
        }
        Integer id = idsBySchema.get(schema.toString());
        if (id == null || !ids.contains(id)) {
            throw new RegistryException(404, RegistryException.SCHEMA_NOT_FOUND, "Schema not found", false, null);
        }
        return id;
    }

    @Override
    public synchronized Schema schemaById(int id) {
        Schema schema = schemasById.get(id);
        if (schema == null) {
            throw new RegistryException(404, RegistryException.SCHEMA_NOT_FOUND, "Schema " + id + " not found", false, null);
        }
        return schema;
    }

    @Override
    public synchronized RegisteredSchema latest(String subject) {
        List<Integer> ids = versions.get(subject);
        if (ids == null) {
            throw subjectNotFound(subject);
        }
        int id = ids.get(ids.size() - 1);
        return new RegisteredSchema(subject, ids.size(), id, schemasById.get(id));
    }

    @Override
    public synchronized CompatibilityResult checkCompatibility(String subject, Schema schema) {
        List<Integer> ids = versions.getOrDefault(subject, List.of());
        if (ids.isEmpty()) {
            return new CompatibilityResult(true, List.of("subject " + subject + " has no versions yet"));
        }
        String level = compatibility(subject);
        boolean transitive = level.endsWith("_TRANSITIVE");
        String base = level.replace("_TRANSITIVE", "");
        if (base.equals("NONE")) {
            return new CompatibilityResult(true, List.of());
        }
        List<Integer> against = transitive ? ids : ids.subList(ids.size() - 1, ids.size());
        List<String> messages = new ArrayList<>();
        for (int id : against) {
            Schema old = schemasById.get(id);
            if (base.equals("BACKWARD") || base.equals("FULL")) {
                check(schema, old, "new schema cannot read data written with id " + id, messages);
            }
            if (base.equals("FORWARD") || base.equals("FULL")) {
                check(old, schema, "schema id " + id + " cannot read data written with the new schema", messages);
            }
        }
        return new CompatibilityResult(messages.isEmpty(), messages);
    }

    private static void check(Schema reader, Schema writer, String what, List<String> messages) {
        SchemaCompatibility.SchemaPairCompatibility pair = SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
        if (pair.getType() != SchemaCompatibilityType.COMPATIBLE) {
            messages.add(what + ": " + pair.getResult().getIncompatibilities());
        }
    }

    @Override
    public synchronized String compatibility(String subject) {
        return levels.getOrDefault(subject, globalLevel);
    }

    @Override
    public synchronized void setCompatibility(String subject, String level) {
        String upper = level.toUpperCase(Locale.ROOT);
        if (!upper.matches("NONE|(BACKWARD|FORWARD|FULL)(_TRANSITIVE)?")) {
            throw new RegistryException(422, 42203, "Invalid compatibility level " + level, false, null);
        }
        if (subject == null) {
            globalLevel = upper;
        } else {
            levels.put(subject, upper);
        }
    }

    private static RegistryException subjectNotFound(String subject) {
        return new RegistryException(404, RegistryException.SUBJECT_NOT_FOUND, "Subject '" + subject + "' not found.", false, null);
    }

    @Override
    public String toString() {
        return "MockSchemaRegistry";
    }
}
