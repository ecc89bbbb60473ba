package io.dermcap.topology;

import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.streams.processor.api.ProcessorContext;

import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Counts the successful commits of the calling stream thread, read from Kafka Streams' own
 * {@code stream-thread-metrics/commit-total}. A commit flushes the thread's producer, so every
 * record sent before a commit that the counter has seen is acknowledged by the brokers.
 */
final class CommitCounter {

    static final String GROUP = "stream-thread-metrics";
    static final String NAME = "commit-total";

    private CommitCounter() {
    }

    /** The counter of the current (stream) thread, or null when the metric does not exist (e.g. a test driver). */
    static LongSupplier forCurrentThread(ProcessorContext<?, ?> context) {
        String thread = Thread.currentThread().getName();
        for (Map.Entry<MetricName, ? extends Metric> e : context.metrics().metrics().entrySet()) {
            MetricName n = e.getKey();
            if (n.group().equals(GROUP) && n.name().equals(NAME) && thread.equals(n.tags().get("thread-id"))) {
                Metric metric = e.getValue();
                return () -> ((Number) metric.metricValue()).longValue();
            }
        }
        return null;
    }
}
