package io.dermcap.pipeline;

import io.dermcap.metrics.ServiceMetrics;
import io.dermcap.model.Captioner;
import io.dermcap.testing.FakeCaptioner;
import io.dermcap.testing.FakeDecoder;
import io.dermcap.testing.FakeFetcher;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class InferencePipelineTest {

    private final FakeCaptioner captioner = new FakeCaptioner();
    private final FakeFetcher fetcher = new FakeFetcher();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final PipelineOptions options = new PipelineOptions(8, 24, 4);
    private final InferencePipeline pipeline;
    private final ConcurrentLinkedQueue<InferencePipeline.Completion> done = new ConcurrentLinkedQueue<>();

    InferencePipelineTest() {
        captioner.gate = new Semaphore(0);
        pipeline = new InferencePipeline(captioner, fetcher, new FakeDecoder(), options, new ServiceMetrics(registry));
    }

    @AfterEach
    void close() {
        captioner.gate.release(1000);
        pipeline.close(Duration.ofSeconds(5));
    }

    private List<InferencePipeline.Job> jobs(int from, int count) {
        List<InferencePipeline.Job> jobs = new ArrayList<>();
        for (int i = from; i < from + count; i++) {
            fetcher.put("s3://b/" + i, i);
            jobs.add(new InferencePipeline.Job(i, "s3://b/" + i, null, Captioner.Overrides.NONE, 0));
        }
        return jobs;
    }

    private InferencePipeline.Ticket submit(List<InferencePipeline.Job> jobs) {
        assertThat(pipeline.tryAcquire(jobs.size(), jobs.size())).isEqualTo(jobs.size());
        return pipeline.submit(jobs, done::add);
    }

    @Test
    void anErrorInAModelRunFailsItsBatchAndReportsTheDeadEngine() {
        AtomicBoolean died = new AtomicBoolean();
        pipeline.onFatal(() -> died.set(true));
        captioner.fatalBatches.add(1);
        submit(jobs(0, 3));
        captioner.gate.release(1);
        await().until(() -> done.size() == 3);
        assertThat(done).allSatisfy(c -> assertThat(c.outcome()).isInstanceOfSatisfying(Outcome.Failed.class, f -> {
            assertThat(f.reason()).isEqualTo(FailureReason.MODEL_ERROR);
            assertThat(f.message()).isEqualTo("the model failed on a batch of 3: simulated: the native runtime failed");
        }));
        await().until(died::get);
        assertThat(pipeline.healthy()).isFalse();
        AtomicBoolean late = new AtomicBoolean();
        pipeline.onFatal(() -> late.set(true));
        assertThat(late).as("an action registered after the death runs at once").isTrue();
    }

    @Test
    void flushesOfSeveralBatchersCoalesceIntoOneModelBatch() {
        submit(jobs(0, 4));
        await().until(() -> captioner.gate.hasQueuedThreads()); // batch 1 (4 images) is running
        submit(jobs(4, 2));
        submit(jobs(6, 3));
        await().until(() -> fetcher.fetches.get() == 9);
        captioner.gate.release(2);
        await().until(() -> done.size() == 9);
        assertThat(captioner.batchSizes).containsExactly(4, 5);
        assertThat(pipeline.availablePermits()).isEqualTo(24);
    }

    @Test
    void aFlushIsNotSplitByOneSlowFetch() {
        captioner.gate.release(100);
        List<InferencePipeline.Job> jobs = jobs(0, 6);
        fetcher.delay("s3://b/3", 300);
        submit(jobs);
        await().until(() -> done.size() == 6);
        assertThat(captioner.batchSizes).containsExactly(6);
    }

    @Test
    void nextBatchIsFetchedAndDecodedWhileTheModelRuns() {
        submit(jobs(0, 8));
        await().until(() -> captioner.gate.hasQueuedThreads());
        submit(jobs(8, 8));
        // all 16 fetched while the first batch still holds the model
        await().until(() -> fetcher.fetches.get() == 16);
        assertThat(done).isEmpty();
        captioner.gate.release(2);
        await().until(() -> done.size() == 16);
        assertThat(captioner.batchSizes).containsExactly(8, 8);
    }

    @Test
    void everyJobEndsExactlyOnceAndReturnsItsPermit() {
        captioner.gate.release(100);
        List<InferencePipeline.Job> jobs = new ArrayList<>(jobs(0, 5));
        jobs.add(new InferencePipeline.Job(100, "s3://b/missing", null, Captioner.Overrides.NONE, 0));
        fetcher.putRaw("s3://b/pdf", "%PDF".getBytes());
        jobs.add(new InferencePipeline.Job(101, "s3://b/pdf", null, Captioner.Overrides.NONE, 0));
        jobs.add(new InferencePipeline.Job(102, "s3://b/0", null, new Captioner.Overrides(null, 42, null, null), 0));
        submit(jobs);
        await().until(() -> done.size() == 8);
        assertThat(done).extracting(InferencePipeline.Completion::id).containsExactlyInAnyOrder(0L, 1L, 2L, 3L, 4L, 100L, 101L, 102L);
        assertThat(done).filteredOn(c -> c.outcome() instanceof Outcome.Failed)
                .extracting(c -> ((Outcome.Failed) c.outcome()).reason())
                .containsExactlyInAnyOrder(FailureReason.OBJECT_MISSING, FailureReason.UNDECODABLE_IMAGE, FailureReason.INVALID_REQUEST);
        assertThat(captioner.batchSizes).containsExactly(5);
        assertThat(pipeline.availablePermits()).isEqualTo(24);
    }

    @Test
    void cancelledWorkIsDroppedAndItsPermitsReturn() throws InterruptedException {
        submit(jobs(0, 8));
        await().until(() -> captioner.gate.hasQueuedThreads());
        InferencePipeline.Ticket second = submit(jobs(8, 8));
        await().until(() -> fetcher.fetches.get() == 16);
        second.cancel();
        captioner.gate.release(10);
        await().until(() -> pipeline.availablePermits() == 24);
        Thread.sleep(100);
        assertThat(done).hasSize(8).allSatisfy(c -> assertThat(c.id()).isLessThan(8));
        assertThat(captioner.batchSizes).containsExactly(8);
    }

    @Test
    void capacityIsBounded() throws InterruptedException {
        assertThat(pipeline.tryAcquire(30, 1)).isEqualTo(24);
        assertThat(pipeline.tryAcquire(1, 1)).isZero();
        assertThat(pipeline.awaitCapacity(1, Duration.ofMillis(50))).isFalse();
        pipeline.release(3);
        assertThat(pipeline.awaitCapacity(1, Duration.ofMillis(50))).isTrue();
        assertThat(pipeline.awaitCapacity(8, Duration.ofMillis(50))).isFalse();
        assertThat(pipeline.tryAcquire(8, 8)).as("all or nothing for a full flush").isZero();
        assertThat(pipeline.tryAcquire(8, 1)).as("what there is for a flush by age").isEqualTo(3);
    }

    @Test
    void modelBatchesAreMeasured() {
        captioner.gate.release(100);
        submit(jobs(0, 3));
        await().until(() -> done.size() == 3);
        assertThat(registry.get("dermcap.model.batch.size").summary().totalAmount()).isEqualTo(3);
        assertThat(registry.get("dermcap.model.batch").timer().count()).isEqualTo(1);
        assertThat(registry.get("dermcap.stage").tag("stage", "fetch").timer().count()).isEqualTo(3);
        assertThat(registry.get("dermcap.stage").tag("stage", "decode").timer().count()).isEqualTo(1);
        assertThat(registry.get("dermcap.stage").tag("stage", "decode").timer().totalTime(java.util.concurrent.TimeUnit.MILLISECONDS))
                .isEqualTo(2.0);
    }
}
