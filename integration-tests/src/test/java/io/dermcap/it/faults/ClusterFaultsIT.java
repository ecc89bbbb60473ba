package io.dermcap.it.faults;

import io.dermcap.it.servers.KafkaCluster;
import io.dermcap.it.service.ChildService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Faults of a replicated cluster (three combined KRaft nodes, {@link KafkaCluster}) under steady
 * load: a leader killed, the active controller killed, a rolling restart, a broker down long
 * enough for the ISRs to shrink, a black-holed broker, two brokers down at once (below
 * min.insync.replicas). The service is configured as for any such cluster: replication factor 3
 * for its internal topics, acks=all, exactly_once_v2. Each scenario ends with the audit, the time
 * to recover and the throughput during the fault against the throughput before it.
 * Local state (deleted, unwritable, full) is in {@link StateDirFaultsIT}.
 */
class ClusterFaultsIT {

    static final FaultMode MODE = FaultMode.current();
    static final Duration TIMEOUT = Duration.ofMinutes(6);
    /** Requests per second, well under what the tiny model sustains on two busy cores. */
    static final double RATE = 2;
    static final Duration BEFORE = Duration.ofSeconds(MODE.pick(8, 15));

    static KafkaCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = KafkaCluster.shared();
    }

    /** Whatever a scenario did, the next one starts on a whole cluster. */
    @AfterEach
    void wholeCluster() throws Exception {
        for (int id : cluster.ids()) {
            cluster.resume(id);
            if (!cluster.running(id)) {
                cluster.start(id);
            }
        }
    }

    @Test
    void killTheBusiestLeader() throws Exception {
        try (ClusterRun run = ClusterRun.begin(cluster, "leader")) {
            int victim = cluster.busiestLeader(run.dataTopics());
            Map<Integer, Integer> leaders = cluster.leaderCounts(run.dataTopics());
            Instant kill = run.faultStarts();
            cluster.kill(victim);
            Thread.sleep(MODE.pick(10_000, 20_000));
            cluster.start(victim);
            Duration inSync = cluster.awaitPartitions(run.dataTopics(), KafkaCluster::fullyInSync, TIMEOUT);
            run.faultEnds();
            run.recoverFrom(kill);
            run.finish("kill -9 of a leader", "kill -9 of broker " + victim + " (leading " + leaders.get(victim) + " of "
                            + leaders.values().stream().mapToInt(Integer::intValue).sum()
                            + " input and changelog partitions), back after " + run.faultSeconds() + " s",
                    "kill",
                    "ISR full again " + Recovery.seconds(inSync) + " after it was back");
        }
    }

    @Test
    @Tag("full")
    void killTheActiveController() throws Exception {
        try (ClusterRun run = ClusterRun.begin(cluster, "controller")) {
            int controller = cluster.activeController();
            Instant kill = run.faultStarts();
            cluster.kill(controller);
            long elected = System.nanoTime();
            int next = awaitNewController(controller);
            Duration election = Duration.ofNanos(System.nanoTime() - elected);
            Thread.sleep(20_000);
            cluster.start(controller);
            cluster.awaitPartitions(run.dataTopics(), KafkaCluster::fullyInSync, TIMEOUT);
            run.faultEnds();
            run.recoverFrom(kill);
            run.finish("kill -9 of the active controller", "kill -9 of node " + controller
                            + " (active controller, also a broker), back after " + run.faultSeconds() + " s",
                    "kill",
                    "node " + next + " led the quorum " + Recovery.seconds(election) + " after the kill");
        }
    }

    private static int awaitNewController(int old) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                int now = cluster.activeController();
                if (now != old && now >= 0) {
                    return now;
                }
            } catch (RuntimeException noQuorumYet) {
                // electing
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no new controller within " + TIMEOUT);
    }

    @Test
    void rollingRestart() throws Exception {
        try (ClusterRun run = ClusterRun.begin(cluster, "rolling")) {
            run.faultStarts();
            List<String> steps = new ArrayList<>();
            for (int id : cluster.ids()) {
                Instant stop = Instant.now();
                cluster.stop(id);
                long down = System.nanoTime();
                cluster.start(id);
                Duration restart = Duration.ofNanos(System.nanoTime() - down);
                Duration inSync = cluster.awaitPartitions(run.allTopics(), KafkaCluster::fullyInSync, TIMEOUT);
                run.recoverFrom(stop);
                steps.add(id + ": start " + Recovery.seconds(restart) + ", ISR full " + Recovery.seconds(inSync));
            }
            run.faultEnds();
            run.finish("rolling restart", "each broker in turn: SIGTERM (controlled shutdown), start, wait for full ISRs",
                    "stop", "broker " + String.join("; ", steps));
        }
    }

    @Test
    @Tag("full")
    void aBrokerDownLongEnoughForIsrsToShrink() throws Exception {
        try (ClusterRun run = ClusterRun.begin(cluster, "isr")) {
            int victim = cluster.busiestLeader(run.dataTopics());
            Instant kill = run.faultStarts();
            cluster.kill(victim);
            Duration shrunk = cluster.awaitPartitions(run.allTopics(),
                    p -> p.isr().stream().noneMatch(n -> n.id() == victim), TIMEOUT);
            Thread.sleep(Math.max(0, 40_000 - Duration.between(kill, Instant.now()).toMillis()));
            cluster.start(victim);
            long back = System.nanoTime();
            Duration expanded = cluster.awaitPartitions(run.allTopics(), KafkaCluster::fullyInSync, TIMEOUT);
            cluster.awaitPartitions(run.allTopics(), KafkaCluster::preferredLeader, TIMEOUT);
            Duration rebalanced = Duration.ofNanos(System.nanoTime() - back);
            run.faultEnds();
            run.recoverFrom(kill);
            run.finish("ISR shrink and expand", "kill -9 of broker " + victim + " for " + run.faultSeconds()
                            + " s: ISRs shrink to 2, then expand; preferred leaders restored",
                    "kill",
                    "ISRs without it " + Recovery.seconds(shrunk) + " after the kill; back in every ISR "
                            + Recovery.seconds(expanded) + " and preferred leaders " + Recovery.seconds(rebalanced)
                            + " after its start");
        }
    }

    @Test
    @Tag("full")
    void aBlackHoledBroker() throws Exception {
        try (ClusterRun run = ClusterRun.begin(cluster, "blackhole")) {
            int victim = cluster.busiestLeader(run.dataTopics());
            run.faultStarts();
            cluster.blackHole(victim);
            Thread.sleep(30_000);
            cluster.resume(victim);
            Instant resumed = run.faultEnds();
            run.recoverFrom(resumed);
            cluster.awaitPartitions(run.allTopics(), KafkaCluster::fullyInSync, TIMEOUT);
            run.finish("black-holed broker", "the proxy in front of broker " + victim
                            + " (its client and replication listener) forwards nothing for 30 s, connections left open",
                    "forwarding again", "");
        }
    }

    @Test
    @Tag("full")
    void twoBrokersDownStopsProgressWithoutLossThenResumes() throws Exception {
        try (ClusterRun run = ClusterRun.begin(cluster, "minisr")) {
            List<Integer> ids = new ArrayList<>(cluster.ids());
            int first = ids.get(0);
            int second = ids.get(1);
            run.faultStarts();
            cluster.kill(first);
            cluster.kill(second);
            Map<String, Integer> answers = new TreeMap<>();
            // longer than the service's stall limit (30 s + commit interval + 4 x backpressure block)
            long until = System.nanoTime() + Duration.ofSeconds(75).toNanos();
            ChildService.Health ready = null;
            while (System.nanoTime() < until) {
                ChildService.Health live = run.child.health("live");
                ready = run.child.health("ready");
                answers.merge("live " + live.status(), 1, Integer::sum);
                answers.merge("ready " + ready.status(), 1, Integer::sum);
                Thread.sleep(1000);
            }
            assertThat(run.child.alive()).isTrue();
            // a probe that times out on a busy machine (-1) is no answer; the service must never say it is not live
            assertThat(answers).as("live throughout, not ready while it cannot make progress")
                    .containsKey("live 200").doesNotContainKey("live 503").containsKey("ready 503");
            String notReady = ready.body();
            cluster.start(first);
            Instant back = run.faultEnds();
            run.child.awaitReady(TIMEOUT);
            run.recoverFrom(back);
            run.finish("two brokers down", "kill -9 of brokers " + first + " and " + second
                            + " (1 of 3 left: below min.insync.replicas, and no controller quorum) for "
                            + run.faultSeconds() + " s, then " + first + " back",
                    "one broker back",
                    "health answers during the outage (1 s apart): " + answers + "; readiness said: " + notReady.strip());
        }
    }

    /** Outcomes per second, one decimal. */
    static String rate(double perSecond) {
        return String.format(Locale.ROOT, "%.1f/s", perSecond);
    }
}
