package io.dermcap.it.servers;

import io.dermcap.embedded.EmbeddedKafka;
import io.dermcap.embedded.ServerSupport;
import io.dermcap.it.service.ChildJvm;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.ConfigResource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Three combined KRaft nodes (each broker and controller, so killing the active controller also
 * kills a broker and a quorum of 2 of 3 voters survives one loss), each a child JVM running
 * {@code kafka.Kafka} so that a test can kill -9 it, with its data kept across restarts. Every
 * node's client and inter-broker listener is reached through its own {@link BlackHoleProxy}
 * (the advertised address), so one node can be black-holed for clients and for the other
 * brokers' replica fetchers alike; the controller listener is direct. Replication is what a
 * production cluster of three would use: replication factor 3 and {@code min.insync.replicas=2}
 * for every topic, the internal ones included.
 */
public final class KafkaCluster implements AutoCloseable {

    public static final int REPLICATION = 3;
    public static final int MIN_IN_SYNC = 2;

    /** One node: its proxy, its settings and, while it runs, its process. */
    private static final class KafkaNode {
        final BlackHoleProxy proxy;
        final Path properties;
        Process process;

        KafkaNode(BlackHoleProxy proxy, Path properties) {
            this.proxy = proxy;
            this.properties = properties;
        }
    }

    private static KafkaCluster shared;
    private final Path dir;
    private final Map<Integer, KafkaNode> nodes = new TreeMap<>();

    private KafkaCluster(Path dir) {
        this.dir = dir;
    }

    /** The cluster of this test JVM, started on first use and stopped when the JVM exits. */
    public static synchronized KafkaCluster shared() throws IOException {
        if (shared == null) {
            shared = start();
            Runtime.getRuntime().addShutdownHook(new Thread(shared::close, "stop-test-cluster"));
        }
        return shared;
    }

    /** Formats and starts three nodes; returns once all three are registered brokers. */
    public static KafkaCluster start() throws IOException {
        KafkaCluster cluster = new KafkaCluster(Files.createTempDirectory("dermcap-cluster-"));
        try {
            cluster.configure(REPLICATION);
            for (int id : cluster.nodes.keySet()) {
                cluster.launch(id);
            }
            cluster.awaitBrokers(n -> n.size() == REPLICATION, Duration.ofSeconds(120));
            return cluster;
        } catch (IOException | RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    private void configure(int count) throws IOException {
        List<int[]> ports = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ports.add(new int[] {ServerSupport.freePort(), ServerSupport.freePort()});
        }
        String voters = "";
        for (int i = 0; i < count; i++) {
            voters += (i == 0 ? "" : ",") + (i + 1) + "@127.0.0.1:" + ports.get(i)[1];
        }
        String clusterId = Uuid.randomUuid().toString();
        for (int i = 0; i < count; i++) {
            int id = i + 1;
            int brokerPort = ports.get(i)[0];
            int controllerPort = ports.get(i)[1];
            BlackHoleProxy proxy = new BlackHoleProxy(0, new InetSocketAddress("127.0.0.1", brokerPort));
            Path properties = dir.resolve("node-" + id + ".properties");
            write(properties, nodeProperties(id, brokerPort, controllerPort, proxy.port(), voters));
            EmbeddedKafka.formatStorage(properties, clusterId, List.of());
            nodes.put(id, new KafkaNode(proxy, properties));
        }
    }

    private Properties nodeProperties(int id, int brokerPort, int controllerPort, int proxyPort, String voters) {
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", Integer.toString(id));
        p.put("controller.quorum.voters", voters);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + proxyPort);
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("log.dirs", dir.resolve("data-" + id).toString());
        p.put("default.replication.factor", Integer.toString(REPLICATION));
        p.put("min.insync.replicas", Integer.toString(MIN_IN_SYNC));
        p.put("offsets.topic.replication.factor", Integer.toString(REPLICATION));
        p.put("offsets.topic.num.partitions", "3");
        p.put("transaction.state.log.replication.factor", Integer.toString(REPLICATION));
        p.put("transaction.state.log.min.isr", Integer.toString(MIN_IN_SYNC));
        p.put("transaction.state.log.num.partitions", "3");
        p.put("unclean.leader.election.enable", "false");
        p.put("auto.create.topics.enable", "false");
        p.put("group.initial.rebalance.delay.ms", "0");
        // an operator's cluster moves leadership back to the preferred replicas; within a test's minutes
        p.put("leader.imbalance.check.interval.seconds", "10");
        return p;
    }

    private static void write(Path file, Properties p) {
        try (Writer w = Files.newBufferedWriter(file)) {
            p.store(w, "dermcap test cluster node");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void launch(int id) throws IOException {
        KafkaNode node = nodes.get(id);
        node.process = ChildJvm.start(List.of("-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"),
                "kafka.Kafka", List.of(node.properties.toString()), Map.of(),
                dir.resolve("node-" + id + "-" + System.nanoTime() + ".log"));
    }

    /** The advertised (proxied) client addresses of all nodes. */
    public String bootstrapServers() {
        return nodes.values().stream().map(n -> "127.0.0.1:" + n.proxy.port()).collect(Collectors.joining(","));
    }

    public Set<Integer> ids() {
        return nodes.keySet();
    }

    public boolean running(int id) {
        Process p = nodes.get(id).process;
        return p != null && p.isAlive();
    }

    /** kill -9 of one node: no controlled shutdown, no leadership handed over. */
    public void kill(int id) throws InterruptedException {
        Process p = nodes.get(id).process;
        p.destroyForcibly();
        p.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM, as an operator stops a broker: a controlled shutdown that moves its leaderships first. */
    public void stop(int id) throws InterruptedException {
        Process p = nodes.get(id).process;
        p.destroy();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("broker " + id + " did not stop within 120 s of SIGTERM");
        }
    }

    /** Starts a stopped node on its ports and data; returns once it is a registered, unfenced broker again. */
    public void start(int id) throws IOException {
        launch(id);
        awaitBrokers(n -> n.contains(id), Duration.ofSeconds(120));
    }

    public void blackHole(int id) {
        nodes.get(id).proxy.blackHole();
    }

    public void resume(int id) {
        nodes.get(id).proxy.resume();
    }

    /** The node leading the metadata quorum now. */
    public int activeController() {
        return admin(a -> a.describeMetadataQuorum().quorumInfo().get().leaderId());
    }

    /** Partitions of {@code topics} by their current leader (-1: none). */
    public Map<Integer, Integer> leaderCounts(Collection<String> topics) {
        Map<Integer, Integer> counts = new TreeMap<>();
        partitions(topics).forEach(p -> counts.merge(p.leader() == null ? -1 : p.leader().id(), 1, Integer::sum));
        return counts;
    }

    /** The node leading the most partitions of {@code topics}. */
    public int busiestLeader(Collection<String> topics) {
        return leaderCounts(topics).entrySet().stream().filter(e -> e.getKey() > 0)
                .max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    }

    /** Every partition of {@code topics}, as the cluster describes it now. */
    public List<TopicPartitionInfo> partitions(Collection<String> topics) {
        return admin(a -> a.describeTopics(topics).allTopicNames().get().values().stream()
                .flatMap(d -> d.partitions().stream()).toList());
    }

    /** Waits until every partition of {@code topics} satisfies {@code condition}; returns how long it took. */
    public Duration awaitPartitions(Collection<String> topics, Predicate<TopicPartitionInfo> condition, Duration timeout)
            throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        List<TopicPartitionInfo> last = List.of();
        while (System.nanoTime() < deadline) {
            try {
                last = partitions(topics);
                if (last.stream().allMatch(condition)) {
                    return Duration.ofNanos(System.nanoTime() - start);
                }
            } catch (RuntimeException notNow) {
                // no controller or no broker answers yet
            }
            Thread.sleep(250);
        }
        throw new AssertionError("partitions of " + topics + " not as expected within " + timeout + ": " + last);
    }

    /** Whether the partition's replicas are all in sync. */
    public static boolean fullyInSync(TopicPartitionInfo p) {
        return p.isr().size() == p.replicas().size();
    }

    /** Whether the partition is led by its preferred (first) replica. */
    public static boolean preferredLeader(TopicPartitionInfo p) {
        return p.leader() != null && !p.replicas().isEmpty() && p.leader().id() == p.replicas().get(0).id();
    }

    /** Replication factor and min.insync.replicas of each topic (a topic's own or the broker default). */
    public Map<String, String> replication(Collection<String> topics) {
        return admin(a -> {
            Map<String, TopicDescription> d = a.describeTopics(topics).allTopicNames().get();
            Map<ConfigResource, Config> configs = a.describeConfigs(topics.stream()
                    .map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t)).toList()).all().get();
            Map<String, String> out = new TreeMap<>();
            for (String t : topics) {
                Set<Integer> factors = d.get(t).partitions().stream().map(p -> p.replicas().size()).collect(Collectors.toSet());
                String minIsr = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, t)).get("min.insync.replicas").value();
                out.put(t, "replicas=" + factors + " min.insync.replicas=" + minIsr);
            }
            return out;
        });
    }

    /** Every topic of the cluster, the internal ones included. */
    public Set<String> topics() {
        return admin(a -> a.listTopics(new org.apache.kafka.clients.admin.ListTopicsOptions().listInternal(true)).names().get());
    }

    private void awaitBrokers(Predicate<Set<Integer>> condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Set<Integer> last = Set.of();
        while (System.nanoTime() < deadline) {
            try {
                last = admin(a -> a.describeCluster().nodes().get().stream().map(Node::id).collect(Collectors.toSet()));
                if (condition.test(last)) {
                    return;
                }
            } catch (RuntimeException notYet) {
                // starting
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException("the cluster's brokers are " + last + " after " + timeout + "; logs in " + dir);
    }

    /** An admin call that may throw. */
    private interface AdminCall<T> {
        T apply(Admin admin) throws Exception;
    }

    private <T> T admin(AdminCall<T> call) {
        try (Admin a = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10000))) {
            return call.apply(a);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (Exception e) {
            throw new IllegalStateException("admin call failed: " + e, e);
        }
    }

    /** Where the nodes' logs and data are. */
    public Path dir() {
        return dir;
    }

    @Override
    public void close() {
        for (KafkaNode n : nodes.values()) {
            n.proxy.close();
            if (n.process != null) {
                n.process.destroyForcibly();
            }
        }
        for (KafkaNode n : nodes.values()) {
            if (n.process != null) {
                try {
                    n.process.waitFor(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        ServerSupport.deleteRecursively(dir);
    }
}
