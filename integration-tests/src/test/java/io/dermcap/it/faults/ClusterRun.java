package io.dermcap.it.faults;

import io.dermcap.it.servers.KafkaCluster;
import io.dermcap.it.service.ChildService;
import io.dermcap.it.service.Outcomes;
import io.dermcap.it.service.ServiceScenario;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One scenario on the three-node cluster: its topics (replication factor 3), the service in a
 * child JVM configured as for a production cluster, and {@link SteadyLoad} running from before
 * the fault until after it. {@link #finish} audits, reports and runs the log check.
 */
final class ClusterRun implements AutoCloseable {

    final KafkaCluster cluster;
    final ServiceScenario scenario;
    final Traffic traffic;
    final Map<String, String> config;
    private final List<Instant> recoverFrom = new ArrayList<>();
    final String instance;
    ChildService child;
    private final SteadyLoad load;
    private Instant faultStart;
    private Instant faultEnd;

    private ClusterRun(KafkaCluster cluster, String instance, Map<String, String> overrides) throws Exception {
        this.cluster = cluster;
        this.instance = instance;
        this.scenario = newScenario(cluster);
        this.traffic = new Traffic(scenario, 12, instance.hashCode());
        this.config = serviceConfig(scenario, instance, overrides);
        SteadyLoad started = null;
        try {
            this.child = scenario.startChild(instance, config);
            child.awaitReady(ClusterFaultsIT.TIMEOUT);
            started = new SteadyLoad(scenario, traffic, instance, ClusterFaultsIT.RATE);
            // "before" is the service keeping up with the load (at most 2 s behind), or as close as a busy machine allows
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (System.nanoTime() < deadline
                    && scenario.outcomes().distinctKeys() < Math.max(1, started.acknowledged() - 2 * ClusterFaultsIT.RATE)) {
                Thread.sleep(200);
            }
            Thread.sleep(ClusterFaultsIT.BEFORE.toMillis());
        } catch (Exception | AssertionError e) {
            if (started != null) {
                started.close();
            }
            scenario.close(); // kills the child
            throw e;
        }
        this.load = started;
    }

    /** A scenario whose topics have replication factor 3 on {@code cluster}. */
    static ServiceScenario newScenario(KafkaCluster cluster) {
        return new ServiceScenario(3, new ServiceScenario.Cluster(cluster.bootstrapServers(), Map.of(),
                ServiceScenario.SERVERS.registryUrl(), null), KafkaCluster.REPLICATION);
    }

    /** The service's settings for a replicated cluster, as a user would write them (plus {@code overrides}). */
    static Map<String, String> serviceConfig(ServiceScenario scenario, String instance, Map<String, String> overrides) {
        Map<String, String> c = new HashMap<>(Map.of(
                "kafka.processing.guarantee", "exactly_once_v2",
                "kafka.acks", "all",
                // static membership, as a StatefulSet gives it: a restarted instance takes its partitions back at once
                "kafka.group.instance.id", instance + "-" + scenario.id,
                "batch.max.size", "8",
                "batch.max.delay.ms", "100"));
        c.putAll(overrides);
        return Map.copyOf(c);
    }

    /** Starts the service and the steady load; returns once it keeps up, after {@link ClusterFaultsIT#BEFORE} more. */
    static ClusterRun begin(KafkaCluster cluster, String instance) throws Exception {
        return new ClusterRun(cluster, instance, Map.of());
    }

    static ClusterRun begin(KafkaCluster cluster, String instance, Map<String, String> overrides) throws Exception {
        return new ClusterRun(cluster, instance, overrides);
    }

    Instant faultStarts() {
        faultStart = Instant.now();
        return faultStart;
    }

    Instant faultEnds() {
        faultEnd = Instant.now();
        return faultEnd;
    }

    /** A moment (a kill, a server back) from which the time to the next outcome counts as a recovery. */
    void recoverFrom(Instant moment) {
        recoverFrom.add(moment);
    }

    long faultSeconds() {
        return Duration.between(faultStart, faultEnd == null ? Instant.now() : faultEnd).toSeconds();
    }

    String changelog() {
        return scenario.config().get("kafka.application.id") + "-dermcap-buffer-changelog";
    }

    /** The partitions requests travel through: the input topic and the buffer's changelog. */
    List<String> dataTopics() {
        return List.of(scenario.requests, changelog());
    }

    /** Every topic the service writes or reads, the internal ones included. */
    List<String> allTopics() {
        return List.of(scenario.requests, scenario.captions, scenario.failures, changelog(), "__consumer_offsets",
                "__transaction_state");
    }

    /**
     * Lets the load run 5 s longer, stops it, audits, records the row and checks the logs;
     * throughput is outcomes per second produced during the fault against the
     * {@link ClusterFaultsIT#BEFORE} before it; {@code recoveryFrom} names the moments given to
     * {@link #recoverFrom} ("kill", say: "kill to first outcome: 4.1 s").
     */
    Audit finish(String name, String fault, String recoveryFrom, String notes) throws Exception {
        Thread.sleep(5_000);
        List<String> keys = load.stop();
        Audit audit = Audit.await(scenario, name, true, keys, ClusterFaultsIT.TIMEOUT, Duration.ofSeconds(5));
        Outcomes out = scenario.outcomes();
        Recovery recovery = new Recovery();
        this.recoverFrom.forEach(t -> recovery.add(out, t));
        Instant end = faultEnd.isAfter(faultStart.plusSeconds(1)) ? faultEnd : faultStart.plusSeconds(1);
        double before = Recovery.rate(out, faultStart.minus(ClusterFaultsIT.BEFORE), faultStart);
        double during = Recovery.rate(out, faultStart, end);
        Map<String, String> replication = cluster.replication(allTopics());
        ReliabilityReport.record(new ReliabilityReport.Row(audit, fault, recoveryFrom + " to first outcome: " + recovery.summary(),
                "throughput " + ClusterFaultsIT.rate(during) + " during the fault (" + faultSeconds() + " s) vs "
                        + ClusterFaultsIT.rate(before) + " before; longest pause in outcomes "
                        + Recovery.seconds(Recovery.longestPause(out, faultStart.minus(ClusterFaultsIT.BEFORE)))
                        + (notes.isEmpty() ? "" : "; " + notes)));
        audit.assertHolds();
        assertThat(out.failures()).as("a cluster fault is nobody's fault: no failure events").isEmpty();
        assertThat(replication).as("replication of every topic").allSatisfy((topic, r) -> assertThat(r)
                .isEqualTo("replicas=[" + KafkaCluster.REPLICATION + "] min.insync.replicas=" + KafkaCluster.MIN_IN_SYNC));
        assertThat(cluster.topics()).as("the topology has no repartition topic")
                .noneMatch(t -> t.startsWith(scenario.config().get("kafka.application.id")) && t.endsWith("-repartition"));
        assertThat(child.alive()).as("the service rode out the fault:\n" + child.tail()).isTrue();
        LogCheck.assertNoPrivateData(scenario, traffic, out);
        return audit;
    }

    @Override
    public void close() throws Exception {
        load.close();
        if (child.alive()) {
            child.stop();
        }
        scenario.close();
    }
}
