package io.dermcap.it.faults;

import io.dermcap.events.CaptionRequest;
import io.dermcap.it.service.ChildService;
import io.dermcap.it.service.ServiceScenario;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The broker stops in the middle of a run and comes back on the same address: nothing lost, nothing doubled. */
class BrokerRestartIT {

    private static final FaultMode MODE = FaultMode.current();
    private static final Duration TIMEOUT = Duration.ofMinutes(6);

    @Test
    void aBrokerRestartMidRunLosesAndDoublesNothing() throws Exception {
        int n = MODE.pick(160, 600);
        Duration down = Duration.ofSeconds(MODE.pick(5, 15));
        try (ServiceScenario s = new ServiceScenario(2)) {
            Traffic traffic = new Traffic(s, 12, 5);
            ChildService child = s.startChild("broker", Map.of("kafka.processing.guarantee", "exactly_once_v2",
                    "batch.max.size", "8", "batch.max.delay.ms", "100"));
            child.awaitReady(TIMEOUT);
            List<CaptionRequest> requests = traffic.requests("broker", 0, n);
            s.send(requests);
            s.awaitOutcomes(o -> o.distinctKeys() >= n / 3, TIMEOUT);

            ServiceScenario.SERVERS.stopBroker();
            Thread.sleep(down.toMillis());
            ServiceScenario.SERVERS.startBroker();
            Instant up = Instant.now();

            Audit audit = Audit.await(s, "broker restart", true, Traffic.keys(requests), TIMEOUT, Duration.ofSeconds(5));
            Recovery recovery = new Recovery();
            recovery.add(s.outcomes(), up);
            ReliabilityReport.record(new ReliabilityReport.Row(audit, "broker stopped for " + down.toSeconds()
                    + " s after a third of the outcomes, then started", "broker back to first outcome: " + recovery.summary(),
                    "same address and data; the service is not restarted"));
            audit.assertHolds();
            assertThat(s.outcomes().failures()).isEmpty();
            assertThat(child.alive()).as("the service rode out the broker restart").isTrue();
            LogCheck.assertNoPrivateData(s, traffic, s.outcomes());
            child.stop();
        }
    }
}
