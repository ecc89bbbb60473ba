package io.dermcap.registry;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The registries that {@code mock://scope} URLs name: clients living in this JVM, bound by whoever
 * runs the service in-process with one (the demo, the tests). The service ships none; a
 * {@code mock://} URL that nobody bound is refused when the serde starts.
 */
public final class InProcessRegistries {

    private static final Map<String, SchemaRegistryClient> SCOPES = new ConcurrentHashMap<>();

    private InProcessRegistries() {
    }

    /** The client bound to {@code scope}, binding the one {@code create} makes if there is none yet. */
    public static SchemaRegistryClient bindIfAbsent(String scope, Function<String, SchemaRegistryClient> create) {
        return SCOPES.computeIfAbsent(scope, create);
    }

    /** Forgets {@code scope}. */
    public static void unbind(String scope) {
        SCOPES.remove(scope);
    }

    /** The client bound to {@code scope}; an IllegalStateException when there is none. */
    static SchemaRegistryClient bound(String scope) {
        SchemaRegistryClient client = SCOPES.get(scope);
        if (client == null) {
            throw new IllegalStateException("no in-process registry is bound to mock://" + scope
                    + " in this JVM (mock:// is for the demo and the tests; give the service an http(s):// registry URL)");
        }
        return client;
    }
}
