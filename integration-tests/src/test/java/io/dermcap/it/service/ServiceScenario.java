package io.dermcap.it.service;

import io.dermcap.Sha256;
import io.dermcap.config.Config;
import io.dermcap.events.CaptionEvent;
import io.dermcap.events.CaptionRequest;
import io.dermcap.events.FailureEvent;
import io.dermcap.events.Passthrough;
import io.dermcap.it.servers.TestServers;
import io.dermcap.registry.AvroSerde;
import io.dermcap.registry.HttpSchemaRegistryClient;
import io.dermcap.registry.RegistryClientConfig;
import io.dermcap.registry.SchemaRegistryClient;
import io.dermcap.registry.WireFormat;
import io.dermcap.service.CaptionService;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * One end-to-end scenario on the shared real servers: its own topics, bucket, consumer group and
 * state directory; requests produced through the real registry serde; outcomes read back with
 * {@code read_committed}; the service run in this JVM or in a child JVM.
 */
public final class ServiceScenario implements AutoCloseable {

    /**
     * The broker and registry a scenario uses and how clients authenticate to them.
     *
     * @param kafkaSecurity    client settings besides bootstrap servers (security protocol, SASL, trust store)
     * @param registryUserInfo {@code user:password} for a registry with basic auth, or null
     */
    public record Cluster(String bootstrapServers, Map<String, Object> kafkaSecurity, URI registryUrl,
                          String registryUserInfo) {
        public Cluster {
            kafkaSecurity = Map.copyOf(kafkaSecurity);
        }

        /** The shared servers, no authentication. */
        public static Cluster shared() {
            return new Cluster(SERVERS.bootstrapServers(), Map.of(), SERVERS.registryUrl(), null);
        }

        /** Settings of a Kafka client of this cluster: security, bootstrap servers, then {@code settings}. */
        public Map<String, Object> kafkaClient(Map<String, Object> settings) {
            Map<String, Object> all = new HashMap<>(kafkaSecurity);
            all.put("bootstrap.servers", bootstrapServers);
            all.putAll(settings);
            return all;
        }

        /** Settings of a registry serde for this cluster. */
        public Map<String, Object> serde() {
            Map<String, Object> serde = new HashMap<>(Map.of("schema.registry.url", registryUrl.toString()));
            if (registryUserInfo != null) {
                serde.put("basic.auth.credentials.source", "USER_INFO");
                serde.put("basic.auth.user.info", registryUserInfo);
            }
            return serde;
        }
    }

    public static final TestServers SERVERS = TestServers.shared();
    public static final Path TINY_BUNDLE = Path.of(System.getProperty("dermcap.repo.root", ".."),
            "onnx-models", "fixtures", "tiny-bundle");
    /** The toy captioner trained on synthetic drawings: captions that describe its held-out images. */
    public static final Path TOY_BUNDLE = Path.of(System.getProperty("dermcap.repo.root", ".."),
            "onnx-models", "toy", "bundle");

    public final String id = UUID.randomUUID().toString().substring(0, 8);
    public final String requests = "it-" + id + "-requests";
    public final String captions = "it-" + id + "-captions";
    public final String failures = "it-" + id + "-failures";
    public final String bucket = "it-" + id;
    public final Path dir;
    public final Cluster cluster;
    private final Map<String, String> base = new TreeMap<>();
    private final KafkaProducer<byte[], byte[]> producer;
    private final AvroSerde<CaptionRequest> requestSerde = new AvroSerde<>(CaptionRequest.class);
    private final AvroSerde<CaptionEvent> captionSerde = new AvroSerde<>(CaptionEvent.class);
    private final AvroSerde<FailureEvent> failureSerde = new AvroSerde<>(FailureEvent.class);
    private final KafkaConsumer<String, byte[]> consumer;
    private final Outcomes outcomes = new Outcomes();
    private final List<AutoCloseable> services = new ArrayList<>();

    public ServiceScenario(int partitions) {
        this(partitions, Cluster.shared());
    }

    public ServiceScenario(int partitions, Cluster cluster) {
        this(partitions, cluster, 1);
    }

    /**
     * @param replication replication factor of the scenario's topics and of the service's internal
     *                    topics ({@code kafka.replication.factor})
     */
    public ServiceScenario(int partitions, Cluster cluster, int replication) {
        this.cluster = cluster;
        try {
            dir = Files.createTempDirectory("dermcap-it-" + id + "-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try (Admin admin = Admin.create(cluster.kafkaClient(Map.of()))) {
            short rf = (short) replication;
            admin.createTopics(List.of(new NewTopic(requests, partitions, rf), new NewTopic(captions, 2, rf),
                    new NewTopic(failures, 1, rf))).all().get();
        } catch (Exception e) {
            throw new IllegalStateException("cannot create topics", e);
        }
        SERVERS.s3().createBucket(bucket);

        TestServers.S3Endpoint s3 = SERVERS.s3();
        base.put("kafka.bootstrap.servers", cluster.bootstrapServers());
        cluster.kafkaSecurity().forEach((k, v) -> base.put("kafka." + k, String.valueOf(v)));
        base.put("kafka.application.id", "dermcap-it-" + id);
        base.put("kafka.replication.factor", Integer.toString(replication));
        cluster.serde().forEach((k, v) -> base.put("serde." + k, String.valueOf(v)));
        base.put("bundle.dir", TINY_BUNDLE.toAbsolutePath().toString());
        base.put("engine.threads", "1");
        base.put("topic.requests", requests);
        base.put("topic.captions", captions);
        base.put("topic.failures", failures);
        base.put("storage.s3.buckets", bucket);
        base.put("storage.s3.endpoint", s3.endpoint().toString());
        base.put("storage.s3.region", s3.region());
        base.put("storage.s3.path.style", "true");
        base.put("storage.s3.access.key.id", s3.accessKey());
        base.put("storage.s3.secret.access.key", s3.secretKey());
        base.put("http.host", "127.0.0.1");
        base.put("batch.max.size", "4");
        base.put("batch.max.delay.ms", "100");

        Map<String, Object> serde = cluster.serde();
        requestSerde.configure(serde, false);
        captionSerde.configure(serde, false);
        failureSerde.configure(serde, false);
        producer = new KafkaProducer<>(cluster.kafkaClient(Map.of(ProducerConfig.ACKS_CONFIG, "all")),
                new ByteArraySerializer(), new ByteArraySerializer());
        consumer = new KafkaConsumer<>(cluster.kafkaClient(Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest")), new StringDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> parts = new ArrayList<>();
        for (int p = 0; p < 2; p++) {
            parts.add(new TopicPartition(captions, p));
        }
        parts.add(new TopicPartition(failures, 0));
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
    }

    /** The base configuration (a test may change it before starting a service). */
    public Map<String, String> config() {
        return base;
    }

    public String putImage(String key, byte[] bytes) {
        SERVERS.s3().put(bucket, key, bytes);
        return Sha256.of(bytes);
    }

    public String uri(String key) {
        return "s3://" + bucket + "/" + key;
    }

    public static CaptionRequest request(String requestId, String uri) {
        return CaptionRequest.newBuilder()
                .setRequestId(requestId)
                .setImageUri(uri)
                .setIds(Passthrough.newBuilder().setStudyInstanceUid("1.2.826.0.1.3680043.10.1." + Math.abs(requestId.hashCode()))
                        .setSourceSystem("dermcap-it").setCorrelation(Map.of("case", requestId)).build())
                .setRequestedAt(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS))
                .build();
    }

    /** N requests for N uploaded lesion images, ids {@code prefix-0 .. prefix-(n-1)}. */
    public List<CaptionRequest> lesionRequests(String prefix, int n) {
        List<CaptionRequest> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String key = prefix + "/" + i + ".img";
            String sha = putImage(key, Lesions.image(i));
            CaptionRequest r = request(prefix + "-" + i, uri(key));
            r.setExpectedSha256(sha);
            out.add(r);
        }
        return out;
    }

    public void send(List<CaptionRequest> requests) {
        for (CaptionRequest r : requests) {
            producer.send(record(r));
        }
        producer.flush();
    }

    /** The request as a record of the request topic, keyed by its id and serialized through the registry. */
    public ProducerRecord<byte[], byte[]> record(CaptionRequest r) {
        return new ProducerRecord<>(requests, r.getRequestId().getBytes(StandardCharsets.UTF_8),
                requestSerde.serializer().serialize(requests, r));
    }

    public void sendRaw(String key, byte[] value) {
        producer.send(new ProducerRecord<>(requests, key.getBytes(StandardCharsets.UTF_8), value));
        producer.flush();
    }

    /** Reads outcomes until {@code done} holds; fails after {@code timeout}. */
    public Outcomes awaitOutcomes(Predicate<Outcomes> done, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.test(outcomes)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " with " + outcomes.all().size()
                        + " outcomes for " + outcomes.distinctKeys() + " keys");
            }
            poll(Duration.ofMillis(200));
        }
        return outcomes;
    }

    /** Keeps reading for {@code quiet} more, to catch late duplicates. */
    public Outcomes settle(Duration quiet) {
        long end = System.nanoTime() + quiet.toNanos();
        while (System.nanoTime() < end) {
            poll(Duration.ofMillis(200));
        }
        return outcomes;
    }

    public Outcomes outcomes() {
        poll(Duration.ofMillis(100));
        return outcomes;
    }

    private void poll(Duration d) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(d)) {
            int schemaId = WireFormat.schemaId(r.value());
            if (r.topic().equals(captions)) {
                outcomes.add(new Outcomes.Outcome(r.key(), schemaId, captionSerde.deserializer().deserialize(r.topic(), r.value()), null));
            } else {
                outcomes.add(new Outcomes.Outcome(r.key(), schemaId, null, failureSerde.deserializer().deserialize(r.topic(), r.value())));
            }
        }
    }

    /**
     * The input offsets that have a live entry in the batcher's store, read from its changelog
     * (partition {@code partition}): requests buffered or in flight, not yet finished.
     */
    public java.util.Set<Long> liveBufferEntries(int partition) {
        String changelog = "dermcap-it-" + id + "-dermcap-buffer-changelog";
        try (KafkaConsumer<Long, byte[]> c = new KafkaConsumer<>(cluster.kafkaClient(Map.of(
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed")),
                new org.apache.kafka.common.serialization.LongDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(changelog, partition);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long end = c.endOffsets(List.of(tp)).get(tp);
            java.util.Set<Long> live = new java.util.TreeSet<>();
            while (c.position(tp) < end) {
                for (ConsumerRecord<Long, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    if (r.value() != null) {
                        live.add(r.key());
                    } else {
                        live.remove(r.key());
                    }
                }
            }
            return live;
        }
    }

    public SchemaRegistryClient registry() {
        return new HttpSchemaRegistryClient(RegistryClientConfig.of(cluster.registryUrl().toString())
                .withUserInfo(cluster.registryUserInfo()));
    }

    public Path writeConfig(String name, Map<String, String> overrides) {
        Map<String, String> all = new TreeMap<>(base);
        all.putAll(overrides);
        Properties p = new Properties();
        p.putAll(all);
        Path file = dir.resolve(name + ".properties");
        try (Writer w = Files.newBufferedWriter(file)) {
            p.store(w, "dermcap integration test " + id);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /** {@code dermcap run} in this JVM; {@code overrides} arrive as DERMCAP_* environment variables. */
    public CaptionService startInProcess(String instance, Map<String, String> overrides) throws Exception {
        Map<String, String> env = new HashMap<>();
        Map<String, String> all = new TreeMap<>(overrides);
        all.putIfAbsent("instance.id", instance);
        all.putIfAbsent("kafka.state.dir", dir.resolve("state-" + instance).toString());
        all.putIfAbsent("http.port", "0");
        all.forEach((k, v) -> env.put("DERMCAP_" + k.toUpperCase().replace('.', '_'), v));
        CaptionService service = CaptionService.start(Config.load(writeConfig(instance, Map.of()), env));
        services.add(service);
        return service;
    }

    /** {@code dermcap run} in a child JVM, configured by a file (plus {@code overrides}). */
    public ChildService startChild(String instance, Map<String, String> overrides) throws IOException {
        return startChild(instance, overrides, ChildService.Launch.DEFAULT);
    }

    /** {@code dermcap run} in a child JVM launched as {@code launch} says. */
    public ChildService startChild(String instance, Map<String, String> overrides, ChildService.Launch launch)
            throws IOException {
        int port = freePort();
        Map<String, String> all = new TreeMap<>(overrides);
        all.putIfAbsent("instance.id", instance);
        all.putIfAbsent("kafka.state.dir", dir.resolve("state-" + instance).toString());
        all.put("http.port", Integer.toString(port));
        Path config = writeConfig(instance, all);
        ChildService child = ChildService.start(config, Map.of(), port, dir.resolve(instance + "-" + System.nanoTime() + ".log"),
                launch);
        services.add(child);
        return child;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }


    @Override
    public void close() throws Exception {
        for (AutoCloseable s : services) {
            s.close();
        }
        producer.close();
        consumer.close();
    }
}
