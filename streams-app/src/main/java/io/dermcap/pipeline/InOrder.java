package io.dermcap.pipeline;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Runs a list of jobs through an {@link InferencePipeline} and hands every outcome over in the
 * jobs' order: the offline commands' way in. Jobs go in flushes of {@code flush}, as many as the
 * pipeline's permits allow, so the next flush is fetched and decoded while the model runs one.
 */
public final class InOrder {

    /** Receives the outcome of {@code jobs.get(index)}. */
    @FunctionalInterface
    public interface Sink {
        void accept(int index, Outcome outcome);
    }

    private static final Duration HEALTH_CHECK = Duration.ofSeconds(1);

    private InOrder() {
    }

    /**
     * @param jobs their ids are ignored: a job's id becomes its index
     * @throws IllegalStateException when the pipeline's inference thread died (nothing would finish)
     */
    public static void run(InferencePipeline pipeline, List<InferencePipeline.Job> jobs, int flush, Sink sink)
            throws InterruptedException {
        BlockingQueue<InferencePipeline.Completion> done = new LinkedBlockingQueue<>();
        Outcome[] outcomes = new Outcome[jobs.size()];
        int submitted = 0;
        int received = 0;
        int next = 0;
        while (next < jobs.size()) {
            while (submitted < jobs.size()) {
                int n = Math.min(flush, jobs.size() - submitted);
                if (pipeline.tryAcquire(n, n) == 0) {
                    break;
                }
                List<InferencePipeline.Job> group = new ArrayList<>(n);
                for (int i = submitted; i < submitted + n; i++) {
                    InferencePipeline.Job j = jobs.get(i);
                    group.add(new InferencePipeline.Job(i, j.uri(), j.expectedSha256(), j.settings(), j.receivedAtMillis()));
                }
                pipeline.submit(group, done::add);
                submitted += n;
            }
            if (received == submitted) {
                // everything handed over, but the permits of the last batch are not back yet
                pipeline.awaitCapacity(Math.min(flush, jobs.size() - submitted), HEALTH_CHECK);
                requireHealthy(pipeline, jobs.size() - next);
                continue;
            }
            InferencePipeline.Completion c = done.poll(HEALTH_CHECK.toMillis(), TimeUnit.MILLISECONDS);
            if (c == null) {
                requireHealthy(pipeline, jobs.size() - next);
                continue;
            }
            received++;
            outcomes[(int) c.id()] = c.outcome();
            while (next < jobs.size() && outcomes[next] != null) {
                sink.accept(next, outcomes[next]);
                outcomes[next] = null;
                next++;
            }
        }
    }

    private static void requireHealthy(InferencePipeline pipeline, int unfinished) {
        if (!pipeline.healthy()) {
            throw new IllegalStateException("the inference thread stopped; " + unfinished + " images unfinished");
        }
    }
}
