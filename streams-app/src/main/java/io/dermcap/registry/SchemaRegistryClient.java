package io.dermcap.registry;

import org.apache.avro.Schema;

/**
 * The part of the Confluent Schema Registry API the serdes and operators need. Implementations:
 * {@link HttpSchemaRegistryClient} (REST, retried), {@link CachingSchemaRegistryClient} (caches
 * ids and schemas in front of another client); for {@code mock://scope}, whatever the demo or a
 * test bound in {@link InProcessRegistries}.
 * Every method may throw {@link RegistryException}. Thread-safe.
 */
public interface SchemaRegistryClient {

    /** Registers {@code schema} under {@code subject} (or finds it there) and returns its global id. */
    int register(String subject, Schema schema);

    /** The id of {@code schema} if it is registered under {@code subject}; 404/40401 or 40403 otherwise. */
    int lookup(String subject, Schema schema);

    /** The schema with this global id; 404/40403 if there is none. */
    Schema schemaById(int id);

    /** The newest version registered under {@code subject}; 404/40401 if the subject is unknown. */
    RegisteredSchema latest(String subject);

    /** Whether {@code schema} may be registered next under {@code subject}, by its compatibility level. */
    CompatibilityResult checkCompatibility(String subject, Schema schema);

    /** The subject's compatibility level (falling back to the global one), e.g. {@code BACKWARD}. */
    String compatibility(String subject);

    /** Sets the subject's compatibility level ({@code NONE}, {@code BACKWARD}, {@code FULL_TRANSITIVE}, ...). */
    void setCompatibility(String subject, String level);

    /**
     * The client a serde configuration names: the in-process registry bound to {@code mock://scope},
     * else a cached REST client.
     */
    static SchemaRegistryClient create(RegistryClientConfig config) {
        if (config.mockScope() != null) {
            return InProcessRegistries.bound(config.mockScope());
        }
        return new CachingSchemaRegistryClient(new HttpSchemaRegistryClient(config), config.cacheCapacity());
    }
}
