package io.dermcap.it.service;

import io.dermcap.events.CaptionEvent;
import io.dermcap.events.CaptionRequest;
import io.dermcap.service.CaptionService;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** Two instances in one consumer group split the partitions and together caption everything once. */
class ScaleOutIT {

    private static final Duration TIMEOUT = Duration.ofMinutes(3);

    @Test
    void twoInstancesSplitThePartitionsAndCaptionEverythingOnce() throws Exception {
        try (ServiceScenario s = new ServiceScenario(4)) {
            Map<String, String> eos = Map.of("kafka.processing.guarantee", "exactly_once_v2");
            CaptionService a = s.startInProcess("scale-a", eos);
            CaptionService b = s.startInProcess("scale-b", eos);
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (!(a.activeTasks() > 0 && b.activeTasks() > 0 && a.activeTasks() + b.activeTasks() == 4)) {
                assertThat(System.nanoTime()).as("both instances own partitions").isLessThan(deadline);
                Thread.sleep(200);
            }
            int n = 32;
            List<CaptionRequest> all = s.lesionRequests("scale", n);
            s.send(all);
            Outcomes out = s.awaitOutcomes(o -> o.distinctKeys() >= n, TIMEOUT);
            s.settle(Duration.ofSeconds(3));
            assertThat(out.failures()).isEmpty();
            assertThat(out.duplicated()).isEmpty();
            assertThat(out.captions()).hasSize(n);
            Map<String, Set<Integer>> partitionsByInstance = out.captions().stream().collect(Collectors.groupingBy(
                    e -> e.getRuntime().getInstanceId(), Collectors.mapping(e -> e.getSource().getPartition(), Collectors.toSet())));
            assertThat(partitionsByInstance).containsOnlyKeys("scale-a", "scale-b");
            assertThat(partitionsByInstance.get("scale-a")).doesNotContainAnyElementsOf(partitionsByInstance.get("scale-b"));
            assertThat(out.captions().stream().map(CaptionEvent::getSource).map(p -> p.getPartition()).distinct().count())
                    .isEqualTo(4);
        }
    }
}
