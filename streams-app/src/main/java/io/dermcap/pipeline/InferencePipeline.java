package io.dermcap.pipeline;

import io.dermcap.image.ImageException;
import io.dermcap.image.PixelTensor;
import io.dermcap.metrics.ServiceMetrics;
import io.dermcap.model.Caption;
import io.dermcap.model.Captioner;
import io.dermcap.model.GenerationSettings;
import io.dermcap.model.InvalidSettingsException;
import io.dermcap.model.ModelException;
import io.dermcap.storage.FetchException;
import io.dermcap.storage.FetchedObject;
import io.dermcap.storage.ObjectFetcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The one engine of a process, shared by every task and stream thread: a pool fetches and
 * decodes images ahead of the model while a single inference thread runs model batches.
 * <p>
 * Batchers submit groups (one flush each). A group joins the ready queue only once all its
 * images are decoded, so a flush of eight is never split into a batch of one and a batch of
 * seven; the inference thread takes up to {@code maxSize} ready images across groups, so small
 * flushes of several tasks coalesce into one model batch. Capacity is bounded by permits: a
 * request holds one from submission until its outcome is handed to its sink.
 * <p>
 * Outcomes go to the group's sink on pool or inference threads; the batcher forwards them from
 * its stream thread. Nothing here knows Kafka.
 */
public final class InferencePipeline implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(InferencePipeline.class);

    /** One request to caption; {@code id} is the submitter's, echoed in its completion. */
    public record Job(long id, String uri, String expectedSha256, Captioner.Overrides overrides, long receivedAtMillis) {
    }

    public record Completion(long id, Outcome outcome) {
    }

    /** A submitted group; cancelling it drops the work not yet started and its completions. */
    public static final class Ticket {
        private volatile boolean cancelled;

        public void cancel() {
            cancelled = true;
        }

        boolean cancelled() {
            return cancelled;
        }
    }

    /** A decoded image ready for the model, with what the audit record needs of its fetch. */
    private record Prepared(Job job, Ticket ticket, Consumer<Completion> sink, PixelTensor pixels,
                            GenerationSettings settings, String sha256, long imageBytes, int fetchAttempts,
                            long fetchNanos, long preprocessNanos) {
    }

    private final Captioner captioner;
    private final ObjectFetcher fetcher;
    private final Preprocessor preprocessor;
    private final int maxBatch;
    private final int capacity;
    private final ServiceMetrics metrics;
    private final ExecutorService prep;
    private final Thread inference;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition readyOrClosed = lock.newCondition();
    private final Condition permitsFreed = lock.newCondition();
    private final ArrayDeque<Prepared> ready = new ArrayDeque<>();
    private int available;
    private volatile boolean closed;
    private volatile Throwable fatal;
    private volatile Runnable onFatal = () -> { };

    public InferencePipeline(Captioner captioner, ObjectFetcher fetcher, Preprocessor preprocessor, PipelineOptions options,
                             ServiceMetrics metrics) {
        this.captioner = captioner;
        this.fetcher = fetcher;
        this.preprocessor = preprocessor;
        this.maxBatch = options.maxBatch();
        this.capacity = options.maxInflight();
        this.available = capacity;
        this.metrics = metrics;
        AtomicInteger n = new AtomicInteger();
        this.prep = Executors.newFixedThreadPool(options.fetchThreads(), r -> {
            Thread t = new Thread(r, "dermcap-fetch-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.inference = new Thread(this::inferenceLoop, "dermcap-inference");
        this.inference.setDaemon(true);
        this.inference.start();
        metrics.gauge("dermcap.engine.inflight", "Requests submitted to the engine and not finished",
                () -> capacity - availablePermits());
    }

    /**
     * Takes up to {@code wanted} permits without waiting, but none unless at least {@code atLeast}
     * are free; returns how many it got.
     */
    public int tryAcquire(int wanted, int atLeast) {
        lock.lock();
        try {
            if (available < atLeast) {
                return 0;
            }
            int got = Math.min(wanted, available);
            available -= got;
            return got;
        } finally {
            lock.unlock();
        }
    }

    /** Gives back permits taken with {@link #tryAcquire} but not used for jobs. */
    public void release(int permits) {
        if (permits <= 0) {
            return;
        }
        lock.lock();
        try {
            available += permits;
            permitsFreed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until {@code permits} permits are free or {@code max} has passed; true if they are. */
    public boolean awaitCapacity(int permits, Duration max) throws InterruptedException {
        long nanos = max.toNanos();
        lock.lock();
        try {
            while (available < permits && !closed) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = permitsFreed.awaitNanos(nanos);
            }
            return available >= permits;
        } finally {
            lock.unlock();
        }
    }

    public int availablePermits() {
        lock.lock();
        try {
            return available;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs {@code action} once the inference thread has died (an Error in a model run): nothing
     * else would ever finish the requests submitted after it, so the owner should stop.
     */
    public void onFatal(Runnable action) {
        onFatal = action;
        if (fatal != null) {
            action.run();
        }
    }

    /** True while the inference thread runs (the liveness probe). */
    public boolean healthy() {
        return fatal == null && inference.isAlive();
    }

    /**
     * Submits jobs for which the caller holds permits (one each). Each job ends in exactly one
     * completion handed to {@code sink}, unless the ticket is cancelled first.
     */
    public Ticket submit(List<Job> jobs, Consumer<Completion> sink) {
        Ticket ticket = new Ticket();
        if (closed) {
            throw new IllegalStateException("the inference pipeline is closed");
        }
        AtomicInteger remaining = new AtomicInteger(jobs.size());
        AtomicReferenceArray<Prepared> prepared = new AtomicReferenceArray<>(jobs.size());
        for (int i = 0; i < jobs.size(); i++) {
            int slot = i;
            Job job = jobs.get(i);
            prep.execute(() -> {
                prepared.set(slot, prepare(job, ticket, sink));
                if (remaining.decrementAndGet() == 0) {
                    enqueue(prepared);
                }
            });
        }
        return ticket;
    }

    /** Fetch and decode one image; a failure completes the job at once and yields null. */
    private Prepared prepare(Job job, Ticket ticket, Consumer<Completion> sink) {
        if (ticket.cancelled() || closed) {
            release(1);
            return null;
        }
        GenerationSettings settings;
        FetchedObject fetched;
        int attempts = 0;
        try {
            settings = captioner.settingsFor(job.overrides());
            String expected = job.expectedSha256() == null ? null : job.expectedSha256().toLowerCase(Locale.ROOT);
            fetched = fetcher.fetch(job.uri(), expected);
            attempts = fetched.attempts();
            metrics.fetchRetries(attempts);
            long t0 = System.nanoTime();
            PixelTensor pixels = preprocessor.preprocess(fetched.bytes());
            long preprocessNanos = System.nanoTime() - t0;
            metrics.stage(ServiceMetrics.Stage.FETCH, Duration.ofNanos(fetched.fetchNanos()));
            metrics.stage(ServiceMetrics.Stage.PREPROCESS, Duration.ofNanos(preprocessNanos));
            // the encoded bytes are dropped here: only the decoded tensor waits for the model
            return new Prepared(job, ticket, sink, pixels, settings, fetched.sha256(), fetched.bytes().length,
                    attempts, fetched.fetchNanos(), preprocessNanos);
        } catch (InvalidSettingsException e) {
            fail(job, ticket, sink, FailureReason.INVALID_REQUEST, e.getMessage(), false, 0);
        } catch (FetchException e) {
            metrics.fetchRetries(e.attempts());
            fail(job, ticket, sink, reasonOf(e.reason()), e.getMessage(), e.retryable(), e.attempts());
        } catch (ImageException e) {
            FailureReason reason = switch (e.reason()) {
                case TOO_LARGE, TOO_MANY_PIXELS -> FailureReason.TOO_LARGE;
                default -> FailureReason.UNDECODABLE_IMAGE;
            };
            fail(job, ticket, sink, reason, e.getMessage(), false, attempts);
        } catch (RuntimeException e) {
            // exception messages may quote the URI: the trace is for DEBUG only
            log.error("event=prepare_failed error={}", e.getClass().getName());
            log.debug("event=prepare_failed", e);
            fail(job, ticket, sink, FailureReason.INTERNAL_ERROR, "preparing the image failed: " + e, false, attempts);
        }
        return null;
    }

    static FailureReason reasonOf(FetchException.Reason reason) {
        return switch (reason) {
            case INVALID_URI -> FailureReason.INVALID_REQUEST;
            case URI_NOT_ALLOWED -> FailureReason.URI_NOT_ALLOWED;
            case OBJECT_MISSING -> FailureReason.OBJECT_MISSING;
            case FETCH_FAILED -> FailureReason.FETCH_FAILED;
            case TOO_LARGE -> FailureReason.TOO_LARGE;
            case INTEGRITY_MISMATCH -> FailureReason.INTEGRITY_MISMATCH;
        };
    }

    /** A job that failed before reaching the model: its outcome, and its permit back. */
    private void fail(Job job, Ticket ticket, Consumer<Completion> sink, FailureReason reason, String message,
                      boolean retryable, int attempts) {
        try {
            deliver(ticket, sink, new Completion(job.id(), new Outcome.Failed(reason, message, retryable, attempts)));
        } finally {
            release(1);
        }
    }

    private static void deliver(Ticket ticket, Consumer<Completion> sink, Completion completion) {
        if (!ticket.cancelled()) {
            sink.accept(completion);
        }
    }

    private void enqueue(AtomicReferenceArray<Prepared> group) {
        lock.lock();
        try {
            for (int i = 0; i < group.length(); i++) {
                Prepared p = group.get(i);
                if (p != null) {
                    ready.add(p);
                }
            }
            readyOrClosed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void inferenceLoop() {
        try {
            while (true) {
                List<Prepared> batch = new ArrayList<>(maxBatch);
                lock.lock();
                try {
                    while (ready.isEmpty() && !closed) {
                        readyOrClosed.await();
                    }
                    if (closed) {
                        return;
                    }
                    while (batch.size() < maxBatch && !ready.isEmpty()) {
                        batch.add(ready.poll());
                    }
                } finally {
                    lock.unlock();
                }
                run(batch);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            // logged and handed to the owner here; rethrowing would only report it twice
            fatal = t;
            log.error("event=inference_thread_died error={}", t.toString(), t);
            onFatal.run();
        }
    }

    private void run(List<Prepared> candidates) {
        List<Prepared> batch = new ArrayList<>(candidates.size());
        candidates.forEach(p -> {
            if (!p.ticket().cancelled()) {
                batch.add(p);
            }
        });
        release(candidates.size() - batch.size());
        if (batch.isEmpty()) {
            return;
        }
        List<Captioner.Request> requests = new ArrayList<>(batch.size());
        batch.forEach(p -> requests.add(new Captioner.Request(p.pixels(), p.settings())));
        long startMillis = System.currentTimeMillis();
        long t0 = System.nanoTime();
        List<Outcome> outcomes = new ArrayList<>(batch.size());
        Error died = null;
        try {
            List<Caption> captions = captioner.caption(requests);
            if (captions.size() != batch.size()) {
                throw new ModelException("the engine returned " + captions.size() + " captions for " + batch.size() + " images");
            }
            metrics.modelBatch(batch.size(), System.nanoTime() - t0);
            if (!captions.isEmpty()) { // encode and decode times are the batch's, the same in each caption
                metrics.stage(ServiceMetrics.Stage.ENCODE, Duration.ofNanos(captions.get(0).encodeNanos()));
                metrics.stage(ServiceMetrics.Stage.DECODE, Duration.ofNanos(captions.get(0).decodeNanos()));
            }
            for (int i = 0; i < batch.size(); i++) {
                Prepared p = batch.get(i);
                outcomes.add(new Outcome.Captioned(captions.get(i), p.settings(), p.sha256(), p.imageBytes(),
                        p.fetchAttempts(), p.fetchNanos(), p.preprocessNanos(), startMillis));
            }
        } catch (ModelException | RuntimeException | Error e) {
            log.warn("event=model_batch_failed size={} error={}", batch.size(), e.toString());
            String message = "the model failed on a batch of " + batch.size() + ": " + e.getMessage();
            outcomes.clear();
            batch.forEach(p -> outcomes.add(new Outcome.Failed(FailureReason.MODEL_ERROR, message, true, p.fetchAttempts())));
            if (e instanceof Error error) {
                died = error;
            }
        }
        try {
            for (int i = 0; i < batch.size(); i++) {
                Prepared p = batch.get(i);
                deliver(p.ticket(), p.sink(), new Completion(p.job().id(), outcomes.get(i)));
            }
        } finally {
            // the whole batch's permits at once, so a waiting batcher can submit a full flush
            release(batch.size());
        }
        if (died != null) {
            throw died;
        }
    }

    /** Stops taking work; the batch running now finishes (within {@code wait}), queued work is dropped. */
    public void close(Duration wait) {
        closed = true;
        prep.shutdownNow();
        lock.lock();
        try {
            readyOrClosed.signalAll();
            permitsFreed.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            inference.join(wait.toMillis());
            prep.awaitTermination(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(30));
    }
}
