package io.dermcap.topology;

import io.dermcap.events.CaptionRequest;
import io.dermcap.events.GenerationOverrides;
import io.dermcap.events.internal.PendingRequest;
import io.dermcap.metrics.ServiceMetrics;
import io.dermcap.model.Captioner;
import io.dermcap.pipeline.InferencePipeline;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * The micro-batcher of one task. Every validated request is written to a changelogged store
 * (keyed by its input offset) before anything else happens, and leaves the store only after its
 * outcome was forwarded, so a crash at any point loses nothing: the store restored on restart
 * (or on the task's next owner) is drained first.
 * <p>
 * Requests are submitted to the process-wide {@link InferencePipeline} in flushes of
 * {@code batch.max.size}, or fewer once the oldest has waited {@code batch.max.delay.ms}. The
 * stream thread never waits for a model run: outcomes are collected from the pipeline and
 * forwarded by this processor on the stream thread (in {@code process} and a wall-clock
 * punctuation). When the pipeline is full and this task has {@code batch.max.buffered}
 * requests waiting, {@code process} waits for capacity (at most {@code
 * batch.backpressure.block.ms} per record) so the backlog stays in Kafka, where lag-based
 * autoscaling sees it.
 * <p>
 * Under at_least_once the outcome and the store's tombstone are sent to different partitions
 * and may reach the brokers in any order; a tombstone that lands while its outcome is lost
 * would lose the request. So the tombstone waits until the stream thread has committed after
 * the outcome was sent (a commit flushes the producer). Under exactly_once_v2 both are in one
 * transaction and the tombstone is written at once.
 */
public final class MicroBatcher implements Processor<String, PendingRequest, String, Finished> {

    private static final Logger log = LoggerFactory.getLogger(MicroBatcher.class);

    private record Waiting(long offset, long receivedAt) {
    }

    private record Sent(long offset, long commitsWhenSent) {
    }

    private record InFlight(PendingRequest pending, InferencePipeline.Ticket ticket) {
    }

    private final String storeName;
    private final BatchOptions options;
    private final InferencePipeline pipeline;
    private final ServiceMetrics metrics;
    /** null: tombstones at once (exactly_once_v2); else finds the thread's commit counter. */
    private final Function<ProcessorContext<?, ?>, LongSupplier> commitCounter;

    private ProcessorContext<String, Finished> context;
    private KeyValueStore<Long, PendingRequest> store;
    private LongSupplier commits;
    private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    private final Map<Long, InFlight> inflight = new HashMap<>();
    private final Queue<InferencePipeline.Completion> completed = new ConcurrentLinkedQueue<>();
    private final ArrayDeque<Sent> awaitingCommit = new ArrayDeque<>();

    /**
     * @param commitCounter null under exactly_once_v2; otherwise how to find the stream thread's
     *                      commit count ({@link CommitCounter#forCurrentThread} in production)
     */
    public MicroBatcher(String storeName, BatchOptions options, InferencePipeline pipeline, ServiceMetrics metrics,
                        Function<ProcessorContext<?, ?>, LongSupplier> commitCounter) {
        this.storeName = storeName;
        this.options = options;
        this.pipeline = pipeline;
        this.metrics = metrics;
        this.commitCounter = commitCounter;
    }

    /** The production commit counter: Kafka Streams' per-thread commit metric. */
    public static Function<ProcessorContext<?, ?>, LongSupplier> streamThreadCommits() {
        return CommitCounter::forCurrentThread;
    }

    @Override
    public void init(ProcessorContext<String, Finished> context) {
        this.context = context;
        this.store = context.getStateStore(storeName);
        if (commitCounter != null) {
            commits = commitCounter.apply(context);
            if (commits == null) {
                log.warn("event=commit_metric_missing task={} tombstones=immediate", context.taskId());
            }
        }
        // Everything in the store is pending: restored after a crash or a rebalance. Drain it first.
        try (KeyValueIterator<Long, PendingRequest> it = store.all()) {
            while (it.hasNext()) {
                var kv = it.next();
                waiting.add(new Waiting(kv.key, kv.value.getReceivedAt().toEpochMilli()));
            }
        }
        metrics.bufferedChanged(waiting.size());
        if (!waiting.isEmpty()) {
            log.info("event=buffer_restored task={} requests={}", context.taskId(), waiting.size());
        }
        context.schedule(options.punctuateInterval(), PunctuationType.WALL_CLOCK_TIME, this::punctuate);
    }

    @Override
    public void process(Record<String, PendingRequest> record) {
        PendingRequest pending = record.value();
        long offset = pending.getSource().getOffset();
        if (store.get(offset) != null) {
            // Re-read after a restart while its entry survived: it is already pending.
            return;
        }
        store.put(offset, pending);
        waiting.add(new Waiting(offset, pending.getReceivedAt().toEpochMilli()));
        metrics.bufferedChanged(1);
        long now = context.currentSystemTimeMs();
        pump(now);
        waitForCapacityIfFull();
    }

    private void punctuate(long now) {
        pump(now);
    }

    /** Forward what finished, write due tombstones, submit what is due. */
    private void pump(long now) {
        forwardCompleted();
        writeDueTombstones();
        submitDue(now);
    }

    private void waitForCapacityIfFull() {
        long deadline = System.nanoTime() + options.backpressureBlock().toNanos();
        while (waiting.size() >= options.maxBuffered()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return;
            }
            try {
                pipeline.awaitCapacity(options.maxSize(), Duration.ofNanos(left));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            pump(context.currentSystemTimeMs());
        }
    }

    private void submitDue(long now) {
        while (!waiting.isEmpty()) {
            boolean full = waiting.size() >= options.maxSize();
            boolean old = now - waiting.peekFirst().receivedAt() >= options.maxDelay().toMillis();
            if (!full && !old) {
                return;
            }
            // a full flush waits for room for all of it (the engine frees a batch at a time);
            // a flush by age takes whatever room there is
            int wanted = Math.min(options.maxSize(), waiting.size());
            int permits = pipeline.tryAcquire(wanted, old ? 1 : wanted);
            if (permits == 0) {
                return;
            }
            List<InferencePipeline.Job> jobs = new ArrayList<>(permits);
            List<PendingRequest> entries = new ArrayList<>(permits);
            for (int i = 0; i < permits; i++) {
                Waiting w = waiting.pollFirst();
                PendingRequest p = store.get(w.offset());
                if (p != null) { // always: entries leave the store only after being forwarded
                    entries.add(p);
                    jobs.add(job(w.offset(), p));
                }
            }
            metrics.bufferedChanged(-permits);
            pipeline.release(permits - jobs.size());
            if (!jobs.isEmpty()) {
                InferencePipeline.Ticket ticket = pipeline.submit(jobs, completed::add);
                for (int i = 0; i < jobs.size(); i++) {
                    inflight.put(jobs.get(i).id(), new InFlight(entries.get(i), ticket));
                }
            }
        }
    }

    private static InferencePipeline.Job job(long offset, PendingRequest p) {
        CaptionRequest r = p.getRequest();
        GenerationOverrides o = r.getOverrides();
        Captioner.Overrides overrides = o == null ? Captioner.Overrides.NONE
                : new Captioner.Overrides(o.getPrompt(), o.getNumBeams(), o.getMaxNewTokens(), o.getMinNewTokens());
        return new InferencePipeline.Job(offset, r.getImageUri(), r.getExpectedSha256(), overrides,
                p.getReceivedAt().toEpochMilli());
    }

    private void forwardCompleted() {
        InferencePipeline.Completion c;
        boolean any = false;
        while ((c = completed.poll()) != null) {
            InFlight f = inflight.remove(c.id());
            if (f == null) {
                continue;
            }
            PendingRequest p = f.pending();
            long now = context.currentSystemTimeMs();
            context.forward(new Record<>(p.getRequest().getRequestId(), Finished.of(p, c.outcome()), now));
            if (commits == null) {
                store.delete(c.id());
            } else {
                awaitingCommit.add(new Sent(c.id(), commits.getAsLong()));
            }
            any = true;
        }
        if (any && commits != null) {
            context.commit(); // so the tombstones above can follow soon
        }
    }

    private void writeDueTombstones() {
        if (commits == null || awaitingCommit.isEmpty()) {
            return;
        }
        long now = commits.getAsLong();
        while (!awaitingCommit.isEmpty() && awaitingCommit.peekFirst().commitsWhenSent() < now) {
            store.delete(awaitingCommit.pollFirst().offset());
        }
    }

    @Override
    public void close() {
        // Revoked or shutting down: work in flight is dropped, its entries stay in the store and
        // whoever owns the task next (this instance after a restart, or another) redoes them.
        inflight.values().forEach(f -> f.ticket().cancel());
        metrics.bufferedChanged(-waiting.size());
        if (!inflight.isEmpty() || !waiting.isEmpty()) {
            log.info("event=batcher_closed task={} in_flight={} waiting={}", context.taskId(), inflight.size(), waiting.size());
        }
        inflight.clear();
        waiting.clear();
        completed.clear();
    }
}
