package io.dermcap.metrics;

import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class CommitStallTest {

    private static final String THREAD = "app-StreamThread-1";
    private long now;
    private final Map<MetricName, Metric> metrics = new HashMap<>();
    private final CommitStall stall = new CommitStall(Duration.ofSeconds(30), () -> now);

    private void set(String group, String name, Map<String, String> tags, double value) {
        MetricName n = new MetricName(name, group, "", tags);
        metrics.put(n, new Metric() {
            @Override
            public MetricName metricName() {
                return n;
            }

            @Override
            public Object metricValue() {
                return value;
            }
        });
    }

    private void thread(double commits, double processed) {
        set(CommitStall.GROUP, "commit-total", Map.of("thread-id", THREAD), commits);
        set(CommitStall.GROUP, "process-total", Map.of("thread-id", THREAD), processed);
    }

    private void lastPoll(String client, double secondsAgo) {
        set("consumer-metrics", "last-poll-seconds-ago", Map.of("client-id", client), secondsAgo);
    }

    private void after(int seconds) {
        now += Duration.ofSeconds(seconds).toNanos();
    }

    @Test
    void aThreadThatCommitsWhatItProcessesIsNotStalled() {
        for (int i = 1; i <= 10; i++) {
            thread(i, i * 10);
            lastPoll(THREAD + "-consumer", 0);
            assertThat(stall.check(metrics)).isEmpty();
            after(20);
        }
    }

    @Test
    void anIdleThreadIsNeverStalled() {
        thread(5, 50);
        assertThat(stall.check(metrics)).isEmpty();
        after(600);
        assertThat(stall.check(metrics)).isEmpty();
    }

    @Test
    void recordsProcessedWithoutACommitForLongerThanTheLimitAreAStall() {
        thread(5, 50);
        stall.check(metrics);
        thread(5, 53);
        after(20);
        assertThat(stall.check(metrics)).as("within the limit").isEmpty();
        after(11);
        assertThat(stall.check(metrics)).hasValueSatisfying(s -> assertThat(s)
                .contains(THREAD).contains("has not committed for 31 s").contains("3 records"));
        thread(6, 53);
        after(1);
        assertThat(stall.check(metrics)).as("a commit ends the stall").isEmpty();
    }

    @Test
    void aConsumerThatHasNotPolledForLongerThanTheLimitIsAStall() {
        thread(5, 50);
        lastPoll(THREAD + "-consumer", 12);
        lastPoll(THREAD + "-restore-consumer", 5000); // polled only while restoring
        assertThat(stall.check(metrics)).isEmpty();
        lastPoll(THREAD + "-consumer", 45);
        assertThat(stall.check(metrics)).hasValueSatisfying(s -> assertThat(s)
                .contains(THREAD + "-consumer has not polled for 45 s"));
    }
}
