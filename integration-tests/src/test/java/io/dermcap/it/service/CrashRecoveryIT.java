package io.dermcap.it.service;

import io.dermcap.events.CaptionRequest;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The service killed like a crash (SIGKILL of its JVM: no shutdown hook, no commit, no
 * leave-group) and started again: nothing is lost, and under exactly_once_v2 nothing doubles.
 */
class CrashRecoveryIT {

    private static final Duration TIMEOUT = Duration.ofMinutes(3);

    @Test
    void aHardStopWithRequestsBufferedLosesNothing() throws Exception {
        try (ServiceScenario s = new ServiceScenario(1)) {
            // a flush waits for 8 requests or 10 minutes: the last 5 requests sit in the buffer store
            Map<String, String> buffering = Map.of("batch.max.size", "8", "batch.max.delay.ms", "600000",
                    "kafka.group.instance.id", "crash-a");
            ChildService first = s.startChild("crash-a", buffering);
            first.awaitReady(TIMEOUT);
            List<CaptionRequest> all = s.lesionRequests("crash", 13);
            s.send(all.subList(0, 8));
            s.awaitOutcomes(o -> o.distinctKeys() >= 8, TIMEOUT);
            s.send(all.subList(8, 13));
            awaitBuffered(s, Set.of(8L, 9L, 10L, 11L, 12L));
            assertThat(s.outcomes().distinctKeys()).as("buffered requests have no outcome yet").isEqualTo(8);

            first.kill();

            ChildService second = s.startChild("crash-a", Map.of("batch.max.size", "8", "batch.max.delay.ms", "200",
                    "kafka.group.instance.id", "crash-a"));
            second.awaitReady(TIMEOUT);
            Outcomes out = s.awaitOutcomes(o -> o.distinctKeys() >= 13, TIMEOUT);
            s.settle(Duration.ofSeconds(2));
            assertThat(out.failures()).isEmpty();
            assertThat(out.byKey().keySet()).containsExactlyInAnyOrderElementsOf(
                    all.stream().map(CaptionRequest::getRequestId).toList());
            second.stop();
            assertThat(second.tail()).as("SIGTERM closes the service cleanly").contains("event=stopped");
        }
    }

    @Test
    void exactlyOnceProducesNoDuplicatesAcrossAHardStopMidRun() throws Exception {
        try (ServiceScenario s = new ServiceScenario(2)) {
            Map<String, String> eos = Map.of("kafka.processing.guarantee", "exactly_once_v2",
                    "kafka.group.instance.id", "crash-eos", "batch.max.size", "4", "batch.max.delay.ms", "100");
            ChildService first = s.startChild("crash-eos", eos);
            first.awaitReady(TIMEOUT);
            int n = 32;
            List<CaptionRequest> all = s.lesionRequests("eos", n);
            s.send(all);
            // kill while batches are in flight: some outcomes committed, the rest buffered or running
            s.awaitOutcomes(o -> o.distinctKeys() >= 6, TIMEOUT);
            first.kill();
            int before = s.outcomes().distinctKeys();

            ChildService second = s.startChild("crash-eos", eos);
            second.awaitReady(TIMEOUT);
            Outcomes out = s.awaitOutcomes(o -> o.distinctKeys() >= n, TIMEOUT);
            s.settle(Duration.ofSeconds(5));
            assertThat(before).as("the kill came before the end").isLessThan(n);
            assertThat(out.failures()).isEmpty();
            assertThat(out.duplicated()).as("request ids with more than one committed outcome").isEmpty();
            assertThat(out.all()).hasSize(n);
            second.stop();
        }
    }

    /** Waits until the buffer store's changelog holds an entry for each of these input offsets. */
    private static void awaitBuffered(ServiceScenario s, Set<Long> offsets) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!s.liveBufferEntries(0).containsAll(offsets)) {
            assertThat(System.nanoTime()).as("buffered entries " + offsets).isLessThan(deadline);
            Thread.sleep(200);
        }
    }
}
