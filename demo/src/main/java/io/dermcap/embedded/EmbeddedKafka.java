package io.dermcap.embedded;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.utils.Time;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;

/**
 * One combined KRaft node (broker + controller) in this JVM, bound to 127.0.0.1 on ports picked
 * at first start and kept across restarts, with its data in a temporary directory that survives
 * {@link #stop()} / {@link #start()} (a broker bounce) and is deleted by {@link #close()}.
 * Optionally the client listener is SASL_SSL with SCRAM-SHA-256 users (inter-broker traffic then
 * uses a separate loopback PLAINTEXT listener). {@link #propertiesFile()} lets a test run the same
 * broker as a child JVM ({@code kafka.Kafka <file>}) to kill it with -9. Topics are not created
 * automatically: tests and the demo create theirs with the partition count they mean.
 */
public final class EmbeddedKafka implements AutoCloseable {

    /**
     * @param saslSsl null for a PLAINTEXT client listener
     * @param extra   broker settings added last (e.g. {@code num.partitions})
     */
    public record Options(SaslSsl saslSsl, Map<String, String> extra) {
        public Options {
            extra = Map.copyOf(extra);
        }

        public static Options plaintext() {
            return new Options(null, Map.of());
        }
    }

    /** A SASL_SSL client listener: the broker's certificate and the SCRAM-SHA-256 users it accepts. */
    public record SaslSsl(SelfSignedCertificate certificate, Map<String, String> users) {
        public SaslSsl {
            Objects.requireNonNull(certificate, "certificate");
            if (users.isEmpty()) {
                throw new IllegalArgumentException("SASL_SSL needs at least one SCRAM user");
            }
            users = Map.copyOf(users);
        }
    }

    private static final String MECHANISM = "SCRAM-SHA-256";

    private final Options options;
    private final Path dir;
    private final int clientPort;
    private final int controllerPort;
    private final int internalPort;
    private KafkaRaftServer server;

    private EmbeddedKafka(Options options) throws IOException {
        this.options = options;
        this.dir = Files.createTempDirectory("dermcap-kafka-");
        this.clientPort = ServerSupport.freePort();
        this.controllerPort = ServerSupport.freePort();
        this.internalPort = options.saslSsl() == null ? -1 : ServerSupport.freePort();
        Files.writeString(propertiesFile(), toText(brokerProperties()));
        format();
    }

    /** Formats a fresh node and starts it. */
    public static EmbeddedKafka launch(Options options) throws IOException {
        EmbeddedKafka kafka = new EmbeddedKafka(options);
        try {
            kafka.start();
        } catch (RuntimeException e) {
            kafka.close();
            throw e;
        }
        return kafka;
    }

    public static EmbeddedKafka launch() throws IOException {
        return launch(Options.plaintext());
    }

    /** Starts (or restarts) the node on its ports and data, and waits until it answers clients. */
    public synchronized void start() {
        if (server != null) {
            return;
        }
        KafkaRaftServer s = new KafkaRaftServer(new KafkaConfig(brokerProperties()), Time.SYSTEM);
        s.startup();
        server = s;
        awaitReady(Duration.ofSeconds(60));
    }

    /** Stops the node, keeping its data for a later {@link #start()}. */
    public synchronized void stop() {
        if (server != null) {
            server.shutdown();
            server.awaitShutdown();
            server = null;
        }
    }

    /** A broker bounce: stop, then start on the same ports and data. */
    public void restart() {
        stop();
        start();
    }

    public synchronized boolean running() {
        return server != null;
    }

    /** {@code 127.0.0.1:<port>} of the client listener. */
    public String bootstrapServers() {
        return "127.0.0.1:" + clientPort;
    }

    /** The settings a client needs besides bootstrap servers: security protocol, SASL login, trust store. */
    public Map<String, Object> clientSecurity(String user) {
        Map<String, Object> config = new HashMap<>();
        SaslSsl sasl = options.saslSsl();
        if (sasl == null) {
            return config;
        }
        String password = sasl.users().get(user);
        if (password == null) {
            throw new IllegalArgumentException("no SCRAM user " + user);
        }
        config.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_SSL");
        config.put(SaslConfigs.SASL_MECHANISM, MECHANISM);
        config.put(SaslConfigs.SASL_JAAS_CONFIG, jaas(user, password));
        config.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, sasl.certificate().trustStore().toString());
        config.put(SslConfigs.SSL_TRUSTSTORE_PASSWORD_CONFIG, sasl.certificate().password());
        config.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PKCS12");
        return config;
    }

    /** The broker's {@code server.properties}, for running this node as a child JVM. */
    public Path propertiesFile() {
        return dir.resolve("server.properties");
    }

    public Path dataDir() {
        return dir.resolve("data");
    }

    private Properties brokerProperties() {
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("log.dirs", dataDir().toString());
        if (options.saslSsl() == null) {
            p.put("listeners", "PLAINTEXT://127.0.0.1:" + clientPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
            p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + clientPort);
            p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
            p.put("inter.broker.listener.name", "PLAINTEXT");
        } else {
            SelfSignedCertificate cert = options.saslSsl().certificate();
            p.put("listeners", "INTERNAL://127.0.0.1:" + internalPort + ",EXTERNAL://127.0.0.1:" + clientPort
                    + ",CONTROLLER://127.0.0.1:" + controllerPort);
            p.put("advertised.listeners", "INTERNAL://127.0.0.1:" + internalPort + ",EXTERNAL://127.0.0.1:" + clientPort);
            p.put("listener.security.protocol.map", "INTERNAL:PLAINTEXT,EXTERNAL:SASL_SSL,CONTROLLER:PLAINTEXT");
            p.put("inter.broker.listener.name", "INTERNAL");
            p.put("sasl.enabled.mechanisms", MECHANISM);
            p.put("listener.name.external.scram-sha-256.sasl.jaas.config",
                    "org.apache.kafka.common.security.scram.ScramLoginModule required;");
            p.put("listener.name.external.ssl.keystore.location", cert.keyStore().toString());
            p.put("listener.name.external.ssl.keystore.password", cert.password());
            p.put("listener.name.external.ssl.key.password", cert.password());
            p.put("listener.name.external.ssl.keystore.type", "PKCS12");
        }
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "4");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "4");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("auto.create.topics.enable", "false");
        p.putAll(options.extra());
        return p;
    }

    private void format() {
        List<String> args = new ArrayList<>(List.of("format", "-t", Uuid.randomUuid().toString(),
                "-c", propertiesFile().toString()));
        if (options.saslSsl() != null) {
            options.saslSsl().users().forEach((user, password) -> {
                args.add("--add-scram");
                args.add(MECHANISM + "=[name=" + user + ",password=" + password + "]");
            });
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int rc;
        try (PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8)) {
            rc = StorageTool.execute(args.toArray(String[]::new), print);
        }
        if (rc != 0) {
            throw new IllegalStateException("formatting the KRaft storage failed: " + out.toString(StandardCharsets.UTF_8));
        }
    }

    private void awaitReady(Duration timeout) {
        Map<String, Object> config = new HashMap<>(clientSecurity(firstUser()));
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
        try (Admin admin = Admin.create(config)) {
            admin.describeCluster().nodes().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("the embedded broker did not answer within " + timeout, e);
        }
    }

    private String firstUser() {
        return options.saslSsl() == null ? null : options.saslSsl().users().keySet().iterator().next();
    }

    private static String jaas(String user, String password) {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + user
                + "\" password=\"" + password + "\";";
    }

    private static String toText(Properties p) {
        StringBuilder out = new StringBuilder();
        p.stringPropertyNames().stream().sorted().forEach(k -> out.append(k).append('=').append(p.getProperty(k)).append('\n'));
        return out.toString();
    }

    /** Stops the node and deletes its data. */
    @Override
    public void close() {
        stop();
        ServerSupport.deleteRecursively(dir);
    }

    @Override
    public String toString() {
        return "EmbeddedKafka[" + bootstrapServers() + (options.saslSsl() == null ? "" : " SASL_SSL") + "]";
    }
}
