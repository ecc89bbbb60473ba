package io.dermcap.registry;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.ToIntBiFunction;

import org.apache.avro.Schema;

/**
 * Keeps (subject, schema) → id and id → schema in bounded LRU maps in front of another client.
 * Both mappings never change once the registry has handed them out, so they need no expiry; misses
 * (unknown ids, unregistered schemas) are not cached because they may be registered later.
 * Latest versions, compatibility and configuration always go to the registry.
 */
public final class CachingSchemaRegistryClient implements SchemaRegistryClient {

    private record SubjectSchema(String subject, Schema schema) {
    }

    private final SchemaRegistryClient delegate;
    private final Map<SubjectSchema, Integer> ids;
    private final Map<Integer, Schema> schemas;

    public CachingSchemaRegistryClient(SchemaRegistryClient delegate, int capacity) {
        this.delegate = delegate;
        this.ids = lru(capacity);
        this.schemas = lru(capacity);
    }

    private static <K, V> Map<K, V> lru(int capacity) {
        return Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
                return size() > capacity;
            }
        });
    }

    @Override
    public int register(String subject, Schema schema) {
        return id(subject, schema, delegate::register);
    }

    @Override
    public int lookup(String subject, Schema schema) {
        return id(subject, schema, delegate::lookup);
    }

    /** A registration and a successful look-up both prove the same (subject, schema) → id fact. */
    private int id(String subject, Schema schema, ToIntBiFunction<String, Schema> ask) {
        SubjectSchema key = new SubjectSchema(subject, schema);
        Integer id = ids.get(key);
        if (id == null) {
            id = ask.applyAsInt(subject, schema);
            remember(key, id);
        }
        return id;
    }

    private void remember(SubjectSchema key, int id) {
        ids.put(key, id);
        schemas.putIfAbsent(id, key.schema());
    }

    @Override
    public Schema schemaById(int id) {
        Schema schema = schemas.get(id);
        if (schema == null) {
            schema = delegate.schemaById(id);
            schemas.put(id, schema);
        }
        return schema;
    }

    @Override
    public RegisteredSchema latest(String subject) {
        RegisteredSchema latest = delegate.latest(subject);
        schemas.putIfAbsent(latest.id(), latest.schema());
        return latest;
    }

    @Override
    public CompatibilityResult checkCompatibility(String subject, Schema schema) {
        return delegate.checkCompatibility(subject, schema);
    }

    @Override
    public String compatibility(String subject) {
        return delegate.compatibility(subject);
    }

    @Override
    public void setCompatibility(String subject, String level) {
        delegate.setCompatibility(subject, level);
    }

    @Override
    public String toString() {
        return "Caching(" + delegate + ")";
    }
}
