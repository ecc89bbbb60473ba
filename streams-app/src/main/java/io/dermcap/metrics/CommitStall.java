package io.dermcap.metrics;

import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * Whether a stream thread is stuck on Kafka, which is what the service looks like when the
 * brokers cannot take its writes (a partition below {@code min.insync.replicas}, no leader, no
 * controller quorum): Kafka Streams stays RUNNING while a commit or a send waits, so its state
 * alone would report ready. A thread is stalled when its consumer has not polled for longer than
 * {@code limit} (a healthy thread polls every {@code poll.ms}, idle or not), or when it has
 * processed records since its last successful commit and not committed for longer than
 * {@code limit}. An idle thread is never stalled. Read from Kafka Streams' own metrics
 * ({@code last-poll-seconds-ago} of each stream thread's main consumer; {@code commit-total} and
 * {@code process-total} of {@code stream-thread-metrics}), sampled at each readiness probe.
 */
public final class CommitStall {

    static final String GROUP = "stream-thread-metrics";
    private static final Logger log = LoggerFactory.getLogger(CommitStall.class);

    /** What a thread's counters were when its commit count last moved. */
    private record LastCommit(double commits, double processed, long atNanos) {
    }

    private final Duration limit;
    private final LongSupplier clock;
    private final Map<String, LastCommit> threads = new HashMap<>();
    private boolean stalledBefore;

    public CommitStall(Duration limit) {
        this(limit, System::nanoTime);
    }

    CommitStall(Duration limit, LongSupplier clock) {
        this.limit = limit;
        this.clock = clock;
    }

    /** A sentence naming a stalled thread, or empty while every thread commits what it processed. */
    public synchronized Optional<String> check(Map<MetricName, ? extends Metric> metrics) {
        long now = clock.getAsLong();
        Map<String, double[]> counters = new HashMap<>();
        String stalled = null;
        for (Map.Entry<MetricName, ? extends Metric> e : metrics.entrySet()) {
            MetricName n = e.getKey();
            String client = n.tags().getOrDefault("client-id", "");
            if (n.group().equals("consumer-metrics") && n.name().equals("last-poll-seconds-ago")
                    && client.endsWith("-consumer") && !client.endsWith("-restore-consumer")
                    && e.getValue().metricValue() instanceof Number ago && ago.doubleValue() > limit.toSeconds()) {
                stalled = "the consumer " + client + " has not polled for " + ago.longValue()
                        + " s (its stream thread waits on Kafka: are the brokers taking writes?)";
            }
            String thread = n.tags().get("thread-id");
            if (!n.group().equals(GROUP) || thread == null) {
                continue;
            }
            int slot = n.name().equals("commit-total") ? 0 : n.name().equals("process-total") ? 1 : -1;
            if (slot >= 0 && e.getValue().metricValue() instanceof Number v) {
                counters.computeIfAbsent(thread, t -> new double[2])[slot] = v.doubleValue();
            }
        }
        threads.keySet().retainAll(counters.keySet());
        for (Map.Entry<String, double[]> e : counters.entrySet()) {
            double commits = e.getValue()[0];
            double processed = e.getValue()[1];
            LastCommit last = threads.get(e.getKey());
            if (last == null || commits != last.commits()) {
                threads.put(e.getKey(), new LastCommit(commits, processed, now));
                continue;
            }
            Duration since = Duration.ofNanos(now - last.atNanos());
            if (processed > last.processed() && since.compareTo(limit) > 0) {
                stalled = "stream thread " + e.getKey() + " has not committed for " + since.toSeconds() + " s with "
                        + (long) (processed - last.processed()) + " records processed since its last commit "
                        + "(are the brokers taking writes?)";
            }
        }
        if ((stalled != null) != stalledBefore) {
            if (stalled != null) {
                log.warn("event=kafka_stalled ready=false detail=\"{}\"", stalled);
            } else {
                log.info("event=kafka_progress ready=true");
            }
            stalledBefore = stalled != null;
        }
        return Optional.ofNullable(stalled);
    }
}
