package io.dermcap.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

class MockAndCachingRegistryTest {

    private static final Schema A = new Schema.Parser().parse(
            "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}");
    private static final Schema A_PLUS_DEFAULT = new Schema.Parser().parse(
            "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},"
                    + "{\"name\":\"b\",\"type\":\"int\",\"default\":0}]}");
    private static final Schema A_PLUS_REQUIRED = new Schema.Parser().parse(
            "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},"
                    + "{\"name\":\"c\",\"type\":\"int\"}]}");
    private static final Schema WITHOUT_A = new Schema.Parser().parse(
            "{\"type\":\"record\",\"name\":\"R\",\"fields\":[]}");

    private static MockSchemaRegistry fresh() {
        return MockSchemaRegistry.forScope("mock-" + UUID.randomUUID());
    }

    @Test
    void scopesAreSharedByNameAndIdsAreGlobalWithinAScope() {
        String scope = "shared-" + UUID.randomUUID();
        MockSchemaRegistry one = MockSchemaRegistry.forScope(scope);
        int id = one.register("s1", A);
        assertThat(MockSchemaRegistry.forScope(scope).schemaById(id)).isEqualTo(A);
        assertThat(one.register("s2", A)).isEqualTo(id);
        assertThat(one.register("s1", A_PLUS_DEFAULT)).isNotEqualTo(id);
        MockSchemaRegistry.dropScope(scope);
        assertThatThrownBy(() -> MockSchemaRegistry.forScope(scope).schemaById(id))
                .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(40403));
    }

    @Test
    void compatibilityLevelsFollowTheConfluentSemantics() {
        MockSchemaRegistry registry = fresh();
        registry.register("s", A);
        assertThat(registry.compatibility("s")).isEqualTo("BACKWARD");
        assertThat(registry.checkCompatibility("s", A_PLUS_DEFAULT).compatible()).isTrue();
        assertThat(registry.checkCompatibility("s", A_PLUS_REQUIRED).compatible()).isFalse();
        // removing a field is backward compatible, but not forward compatible
        assertThat(registry.checkCompatibility("s", WITHOUT_A).compatible()).isTrue();
        registry.setCompatibility("s", "FULL");
        assertThat(registry.checkCompatibility("s", WITHOUT_A).compatible()).isFalse();
        registry.setCompatibility("s", "NONE");
        assertThat(registry.register("s", A_PLUS_REQUIRED)).isPositive();
        assertThatThrownBy(() -> registry.setCompatibility("s", "SIDEWAYS"))
                .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.status()).isEqualTo(422));
    }

    @Test
    void transitiveLevelsCheckEveryVersionNotJustTheLatest() {
        // v1 {a: int}, v2 {} ; the candidate {a: string = "x"} reads v2 data but not v1's int
        Schema stringA = new Schema.Parser().parse(
                "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"string\",\"default\":\"x\"}]}");
        MockSchemaRegistry latestOnly = fresh();
        latestOnly.register("s", A);
        latestOnly.register("s", WITHOUT_A);
        assertThat(latestOnly.checkCompatibility("s", stringA).compatible()).isTrue();

        MockSchemaRegistry transitive = fresh();
        transitive.setCompatibility("s", "BACKWARD_TRANSITIVE");
        transitive.register("s", A);
        transitive.register("s", WITHOUT_A);
        CompatibilityResult verdict = transitive.checkCompatibility("s", stringA);
        assertThat(verdict.compatible()).isFalse();
        assertThat(verdict.messages()).singleElement().asString().contains("id 1");
    }

    @Test
    void theCacheAsksTheRegistryOncePerSchemaAndId() {
        MockSchemaRegistry registry = fresh();
        AtomicInteger calls = new AtomicInteger();
        SchemaRegistryClient counting = new CountingClient(registry, calls);
        CachingSchemaRegistryClient cache = new CachingSchemaRegistryClient(counting, 10);

        int id = cache.register("s", A);
        assertThat(cache.register("s", A)).isEqualTo(id);
        assertThat(cache.lookup("s", A)).isEqualTo(id);
        assertThat(cache.schemaById(id)).isEqualTo(A); // learnt from the registration
        assertThat(calls.get()).isEqualTo(1);

        int other = registry.register("t", A_PLUS_DEFAULT);
        assertThat(cache.schemaById(other)).isEqualTo(A_PLUS_DEFAULT);
        assertThat(cache.schemaById(other)).isEqualTo(A_PLUS_DEFAULT);
        assertThat(calls.get()).isEqualTo(2);

        assertThatThrownBy(() -> cache.schemaById(9999)).isInstanceOf(RegistryException.class);
        assertThatThrownBy(() -> cache.schemaById(9999)).isInstanceOf(RegistryException.class);
        assertThat(calls.get()).as("misses are not cached").isEqualTo(4);
    }

    /** Counts the calls that reach the registry. */
    private record CountingClient(SchemaRegistryClient delegate, AtomicInteger calls) implements SchemaRegistryClient {
        @Override
        public int register(String subject, Schema schema) {
            calls.incrementAndGet();
            return delegate.register(subject, schema);
        }

        @Override
        public int lookup(String subject, Schema schema) {
            calls.incrementAndGet();
            return delegate.lookup(subject, schema);
        }

        @Override
        public Schema schemaById(int id) {
            calls.incrementAndGet();
            return delegate.schemaById(id);
        }

        @Override
        public RegisteredSchema latest(String subject) {
            calls.incrementAndGet();
            return delegate.latest(subject);
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
    }
}
