package io.dermcap.it.faults;

import io.dermcap.events.CaptionRequest;
import io.dermcap.it.service.ChildService;
import io.dermcap.it.service.Outcomes;
import io.dermcap.it.service.ServiceScenario;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * kill -9 of the service at random moments of a long run, restarted at once each time: every
 * request still gets its outcome, exactly once under exactly_once_v2. The moments are drawn from
 * a seed (printed, and set with -Ddermcap.faults.seed to replay a run): a progress point (so many
 * outcomes seen) plus a random delay, so kills land mid-batch, mid-commit, during restore. The
 * service runs with the group settings a user gets (static membership from instance.id).
 */
class KillRecoveryIT {

    private static final FaultMode MODE = FaultMode.current();
    private static final int REQUESTS = MODE.pick(240, 2000);
    private static final int KILLS = MODE.pick(2, 6);
    private static final Duration TIMEOUT = Duration.ofMinutes(MODE.pick(6, 20));

    @Test
    void exactlyOnceSurvivesKill9() throws Exception {
        run(true);
    }

    @Test
    @Tag("full")
    void atLeastOnceSurvivesKill9() throws Exception {
        run(false);
    }

    private void run(boolean exactlyOnce) throws Exception {
        long seed = FaultMode.seed();
        Random random = new Random(seed);
        String scenario = "kill -9 x" + KILLS;
        try (ServiceScenario s = new ServiceScenario(2)) {
            Traffic traffic = new Traffic(s, 24, seed);
            // the group settings a user gets: static membership from instance.id is the default
            Map<String, String> config = Map.of(
                    "kafka.processing.guarantee", exactlyOnce ? "exactly_once_v2" : "at_least_once",
                    "batch.max.size", "8",
                    "batch.max.delay.ms", "100");
            ChildService child = s.startChild("kill", config);
            child.awaitReady(TIMEOUT);
            List<CaptionRequest> requests = traffic.requests("kill", 0, REQUESTS);
            List<String> keys = Traffic.keys(requests);
            int[] progress = new int[KILLS];
            for (int k = 0; k < KILLS; k++) {
                progress[k] = (int) (REQUESTS * (0.05 + 0.85 * random.nextDouble()));
            }
            Arrays.sort(progress);
            System.out.printf("[faults] %s %s: seed %d, kills after %s outcomes%n", scenario,
                    exactlyOnce ? "exactly_once_v2" : "at_least_once", seed, Arrays.toString(progress));

            long start = System.nanoTime();
            s.send(requests);
            List<Instant> kills = new ArrayList<>();
            Recovery toReady = new Recovery();
            List<CompletableFuture<Void>> readiness = new ArrayList<>();
            for (int k = 0; k < KILLS; k++) {
                int at = progress[k];
                s.awaitOutcomes(o -> o.distinctKeys() >= at, TIMEOUT);
                Thread.sleep(random.nextInt(1500));
                child.kill();
                Instant killed = Instant.now();
                kills.add(killed);
                System.out.printf("[faults] kill %d at %d outcomes%n", k + 1, s.outcomes().distinctKeys());
                child = s.startChild("kill", config);
                ChildService restarted = child;
                readiness.add(CompletableFuture.runAsync(() -> {
                    try {
                        restarted.awaitReady(TIMEOUT);
                    } catch (Exception e) {
                        throw new CompletionException(e);
                    }
                    synchronized (toReady) {
                        toReady.add(Duration.between(killed, Instant.now()));
                    }
                }));
            }
            Outcomes out = s.awaitOutcomes(o -> Audit.covered(o, keys), TIMEOUT);
            double seconds = (System.nanoTime() - start) / 1e9;
            out = s.settle(Duration.ofSeconds(5));

            Recovery recovery = new Recovery();
            kills.forEach(k -> recovery.add(s.outcomes(), k));
            Audit audit = Audit.of(scenario, exactlyOnce, keys, out);
            // a restart killed before it was ready has no time to ready; its kill is still counted above
            readiness.forEach(r -> r.exceptionally(e -> null).join());
            ReliabilityReport.record(new ReliabilityReport.Row(audit, KILLS + " kills at random moments, restart at once",
                    "kill to ready: " + (toReady.times().isEmpty() ? "n/a" : toReady.summary())
                            + "; kill to first outcome: " + recovery.summary(),
                    String.format("seed %d; %d requests in %.0f s", seed, REQUESTS, seconds)));
            audit.assertHolds();
            assertThat(out.failures()).as("no request fails because of a crash").isEmpty();
            assertThat(kills).hasSize(KILLS);
            LogCheck.assertNoPrivateData(s, traffic, out);
            child.stop();
        }
    }
}
