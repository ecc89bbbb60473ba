package io.dermcap.registry;

import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Waits out a registry outage in place: a record that could not be read only because the
 * registry was unreachable ({@link SerdeException.Kind#REGISTRY_UNAVAILABLE}) is read again with
 * backoff, blocking the caller, for up to {@code patience}. On a Kafka Streams source this keeps
 * the stream thread, its tasks and its group membership through an outage; failing the thread
 * instead costs a rebalance that waits for the dead member's session to expire. Past the
 * patience, or once {@code stop} holds (the service is closing), the error is thrown as before.
 */
public final class OutageTolerantDeserializer<T> implements Deserializer<T> {

    private static final Logger log = LoggerFactory.getLogger(OutageTolerantDeserializer.class);
    private static final long FIRST_WAIT_MS = 250;
    private static final long MAX_WAIT_MS = 5_000;
    /** How often a wait looks at {@code stop}. */
    private static final long SLICE_MS = 250;

    private final Deserializer<T> inner;
    private final Duration patience;
    private final BooleanSupplier stop;

    public OutageTolerantDeserializer(Deserializer<T> inner, Duration patience, BooleanSupplier stop) {
        this.inner = inner;
        this.patience = patience;
        this.stop = stop;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        inner.configure(configs, isKey);
    }

    @Override
    public T deserialize(String topic, byte[] data) {
        return read(() -> inner.deserialize(topic, data), topic);
    }

    @Override
    public T deserialize(String topic, Headers headers, byte[] data) {
        return read(() -> inner.deserialize(topic, headers, data), topic);
    }

    private T read(java.util.function.Supplier<T> attempt, String topic) {
        long started = 0;
        long wait = FIRST_WAIT_MS;
        while (true) {
            try {
                T value = attempt.get();
                if (started != 0) {
                    log.info("event=registry_back topic={} waited_ms={}", topic, (System.nanoTime() - started) / 1_000_000);
                }
                return value;
            } catch (SerdeException e) {
                if (!e.retryable() || stop.getAsBoolean()) {
                    throw e;
                }
                long now = System.nanoTime();
                if (started == 0) {
                    started = now;
                    log.warn("event=registry_unavailable topic={} schema_id={} action=wait patience_ms={}", topic,
                            e.schemaId(), patience.toMillis());
                }
                long left = started + patience.toNanos() - now;
                if (left <= 0) {
                    throw e;
                }
                sleep(Math.min(wait, left / 1_000_000 + 1));
                wait = Math.min(2 * wait, MAX_WAIT_MS);
            }
        }
    }

    /** Sleeps in slices so that a closing service is not held up. */
    private void sleep(long ms) {
        long end = System.nanoTime() + ms * 1_000_000;
        try {
            for (long left = ms; left > 0 && !stop.getAsBoolean(); left = (end - System.nanoTime()) / 1_000_000) {
                Thread.sleep(Math.min(left, SLICE_MS));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        inner.close();
    }
}
