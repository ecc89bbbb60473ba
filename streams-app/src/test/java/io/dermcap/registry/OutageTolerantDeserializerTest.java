package io.dermcap.registry;

import org.apache.kafka.common.serialization.Deserializer;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OutageTolerantDeserializerTest {

    private final AtomicInteger calls = new AtomicInteger();

    /** Fails with {@code kind} for the first {@code failures} calls, then reads the bytes as text. */
    private Deserializer<String> failing(int failures, SerdeException.Kind kind) {
        return (topic, data) -> {
            if (calls.incrementAndGet() <= failures) {
                throw new SerdeException(kind, 7, "simulated " + kind, null);
            }
            return new String(data);
        };
    }

    @Test
    void waitsOutAShortOutageInPlace() {
        var d = new OutageTolerantDeserializer<>(failing(3, SerdeException.Kind.REGISTRY_UNAVAILABLE), Duration.ofSeconds(10),
                () -> false);
        assertThat(d.deserialize("t", "ok".getBytes())).isEqualTo("ok");
        assertThat(calls).hasValue(4);
    }

    @Test
    void aRecordAtFaultFailsAtOnce() {
        var d = new OutageTolerantDeserializer<>(failing(1, SerdeException.Kind.UNKNOWN_SCHEMA_ID), Duration.ofSeconds(10),
                () -> false);
        assertThatThrownBy(() -> d.deserialize("t", "x".getBytes())).isInstanceOf(SerdeException.class)
                .hasMessage("simulated UNKNOWN_SCHEMA_ID");
        assertThat(calls).hasValue(1);
    }

    @Test
    void givesUpAfterItsPatience() {
        var d = new OutageTolerantDeserializer<>(failing(Integer.MAX_VALUE, SerdeException.Kind.REGISTRY_UNAVAILABLE),
                Duration.ofMillis(600), () -> false);
        long start = System.nanoTime();
        assertThatThrownBy(() -> d.deserialize("t", "x".getBytes()))
                .isInstanceOfSatisfying(SerdeException.class, e -> assertThat(e.retryable()).isTrue());
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(600), Duration.ofSeconds(5));
        assertThat(calls.get()).isGreaterThan(1);
    }

    @Test
    void stopsWaitingWhenTheServiceCloses() throws Exception {
        AtomicBoolean closing = new AtomicBoolean();
        var d = new OutageTolerantDeserializer<>(failing(Integer.MAX_VALUE, SerdeException.Kind.REGISTRY_UNAVAILABLE),
                Duration.ofMinutes(5), closing::get);
        Thread closer = new Thread(() -> {
            try {
                Thread.sleep(500);
            } catch (InterruptedException ignored) {
                return;
            }
            closing.set(true);
        });
        closer.start();
        long start = System.nanoTime();
        assertThatThrownBy(() -> d.deserialize("t", "x".getBytes())).isInstanceOf(SerdeException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        closer.join();
    }
}
