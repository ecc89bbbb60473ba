package io.dermcap.topology;

import io.dermcap.events.CaptionRequest;
import io.dermcap.events.SourcePosition;
import io.dermcap.events.internal.PendingRequest;
import io.dermcap.metrics.ServiceMetrics;
import io.dermcap.pipeline.InferencePipeline;
import io.dermcap.testing.FakeCaptioner;
import io.dermcap.testing.FakeDecoder;
import io.dermcap.testing.FakeFetcher;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Semaphore;

import static org.assertj.core.api.Assertions.assertThat;

/** The batcher alone, on a mock context: store lifecycle, restore, revocation, backpressure. */
class MicroBatcherTest {

    private static final long T0 = 1_700_000_000_000L;
    private final FakeCaptioner captioner = new FakeCaptioner();
    private final FakeFetcher fetcher = new FakeFetcher();
    private final ServiceMetrics metrics = new ServiceMetrics(new SimpleMeterRegistry());
    private final BatchOptions options = new BatchOptions(4, Duration.ofMillis(200), 4, 4, Duration.ofMillis(400), 2);
    private final InferencePipeline pipeline = new InferencePipeline(captioner, fetcher, new FakeDecoder(), options.pipeline(), metrics);
    private final KeyValueStore<Long, PendingRequest> store;
    private MockProcessorContext<String, Finished> context;
    private MicroBatcher batcher;

    MicroBatcherTest() {
        captioner.gate = new Semaphore(1000);
        store = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("buffer"), Serdes.Long(), new PendingRequestSerde())
                .withLoggingDisabled().build();
        context = newContext();
        store.init(context.getStateStoreContext(), store);
    }

    private MockProcessorContext<String, Finished> newContext() {
        MockProcessorContext<String, Finished> c = new MockProcessorContext<>();
        c.addStateStore(store);
        c.setCurrentSystemTimeMs(T0);
        return c;
    }

    private MicroBatcher start() {
        batcher = new MicroBatcher("buffer", options, pipeline, metrics, null);
        batcher.init(context);
        return batcher;
    }

    @AfterEach
    void close() {
        captioner.gate.release(1000);
        pipeline.close(Duration.ofSeconds(5));
    }

    private PendingRequest pending(long offset, long receivedAt) {
        fetcher.put("s3://b/" + offset, (int) offset);
        CaptionRequest r = CaptionRequest.newBuilder().setRequestId("r" + offset).setImageUri("s3://b/" + offset).build();
        return new PendingRequest(r, new SourcePosition("image-requests", 0, offset), Instant.ofEpochMilli(receivedAt),
                Instant.ofEpochMilli(receivedAt));
    }

    private void process(long offset) {
        PendingRequest p = pending(offset, context.currentSystemTimeMs());
        batcher.process(new Record<>("r" + offset, p, context.currentSystemTimeMs()));
    }

    private void punctuate() {
        context.scheduledPunctuators().get(0).getPunctuator().punctuate(context.currentSystemTimeMs());
    }

    private void awaitForwarded(int n) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (context.forwarded().size() < n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("forwarded " + context.forwarded().size() + " of " + n);
            }
            punctuate();
            sleep(5);
        }
    }

    private long stored() {
        return store.approximateNumEntries();
    }

    @Test
    void restoredEntriesAreDrainedWithoutNewInput() {
        for (long o = 10; o < 13; o++) {
            store.put(o, pending(o, T0 - 60_000)); // buffered by a crashed instance a minute ago
        }
        start();
        awaitForwarded(3);
        assertThat(context.forwarded()).extracting(f -> (String) f.record().key()).containsExactlyInAnyOrder("r10", "r11", "r12");
        assertThat(stored()).isZero();
    }

    @Test
    void anEntryLeavesTheStoreOnlyWhenItsOutcomeIsForwarded() {
        captioner.gate = new Semaphore(0);
        start();
        for (long o = 0; o < 4; o++) {
            process(o);
        }
        sleep(100);
        punctuate();
        assertThat(context.forwarded()).isEmpty();
        assertThat(stored()).isEqualTo(4);
        captioner.gate.release();
        awaitForwarded(4);
        assertThat(stored()).isZero();
    }

    @Test
    void revokedTaskForwardsNothingAndItsNextOwnerRedoesTheWork() {
        captioner.gate = new Semaphore(0);
        start();
        for (long o = 0; o < 4; o++) {
            process(o);
        }
        MockProcessorContext<String, Finished> old = context;
        batcher.close();
        captioner.gate.release(10);
        sleep(200);
        assertThat(old.forwarded()).isEmpty();
        assertThat(stored()).isEqualTo(4);

        context = newContext(); // the task's next owner, with the store as restored from the changelog
        context.setCurrentSystemTimeMs(T0 + 1000);
        start();
        awaitForwarded(4);
        assertThat(old.forwarded()).isEmpty();
        assertThat(stored()).isZero();
    }

    @Test
    void aRecordReadAgainWhileStillPendingYieldsOneOutcome() {
        store.put(7L, pending(7, T0 - 60_000));
        captioner.gate = new Semaphore(0);
        start();
        process(7); // re-read after a restart: the offset's entry survived
        process(8);
        captioner.gate.release(10);
        awaitForwarded(2);
        sleep(100);
        punctuate();
        assertThat(context.forwarded()).extracting(f -> (String) f.record().key()).containsExactlyInAnyOrder("r7", "r8");
    }

    @Test
    void partialFlushWaitsForTheDelay() {
        start();
        process(0);
        process(1);
        context.setCurrentSystemTimeMs(T0 + 150);
        punctuate();
        sleep(100);
        punctuate();
        assertThat(context.forwarded()).isEmpty();
        assertThat(captioner.batchSizes).isEmpty();
        context.setCurrentSystemTimeMs(T0 + 200);
        awaitForwarded(2);
        assertThat(captioner.batchSizes).containsExactly(2);
    }

    @Test
    void aFullEngineMakesTheStreamThreadWaitBoundedly() {
        captioner.gate = new Semaphore(0);
        start();
        for (long o = 0; o < 4; o++) {
            process(o); // submitted: the engine is now full (batch.max.inflight = 4)
        }
        for (long o = 4; o < 7; o++) {
            process(o); // buffered below batch.max.buffered: no wait
        }
        long t0 = System.nanoTime();
        process(7); // the 4th waiting request reaches batch.max.buffered: waits up to 400 ms
        long waited = (System.nanoTime() - t0) / 1_000_000;
        assertThat(waited).isBetween(350L, 5_000L);
        assertThat(stored()).isEqualTo(8);

        // capacity freed during the wait: the thread goes on as soon as it can submit
        new Thread(() -> {
            sleep(100);
            captioner.gate.release(100);
        }).start();
        t0 = System.nanoTime();
        process(8);
        waited = (System.nanoTime() - t0) / 1_000_000;
        assertThat(waited).isLessThan(390);
        awaitForwarded(8);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
