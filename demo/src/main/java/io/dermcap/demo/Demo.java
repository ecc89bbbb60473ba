package io.dermcap.demo;

import io.dermcap.Sha256;
import io.dermcap.audit.Credentials;
import io.dermcap.config.Config;
import io.dermcap.config.ConfigException;
import io.dermcap.config.ConfigKeys;
import io.dermcap.config.DermcapConfig;
import io.dermcap.embedded.EmbeddedKafka;
import io.dermcap.embedded.EmbeddedS3;
import io.dermcap.embedded.ServerSupport;
import io.dermcap.events.CaptionEvent;
import io.dermcap.events.CaptionRequest;
import io.dermcap.events.FailureEvent;
import io.dermcap.events.Passthrough;
import io.dermcap.model.ModelInfo;
import io.dermcap.model.bundle.BundleException;
import io.dermcap.registry.AvroSerde;
import io.dermcap.registry.MockSchemaRegistry;
import io.dermcap.registry.SchemaRegistryClient;
import io.dermcap.service.CaptionService;
import io.dermcap.storage.StorageOptions;
import io.dermcap.topology.TopologyOptions;
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
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * {@code dermcap demo}: a KRaft broker, an S3 API server and a registry (embedded, or given),
 * synthetic lesion drawings uploaded to the bucket (the toy captioner's held-out set, each with its
 * true attributes), and the service started by {@link
 * CaptionService#start} exactly as {@code dermcap run} starts it, from a configuration read by
 * {@link Config#load}. It publishes one Avro request per image, prints every outcome as it is
 * read from the output topics next to its image's true attributes, then a summary with how many
 * attributes the captions got right, and removes everything it started or created.
 */
public final class Demo {

    /**
     * What to run against.
     *
     * @param bundle           a bundle folder, or null for the built-in toy bundle
     * @param seed             index of the first held-out drawing (they are used in order, cyclically)
     * @param bootstrapServers an external Kafka cluster, or null for an embedded broker
     * @param s3               an external S3 API server, or null for an embedded one
     * @param bucket           the bucket the images go to (created when missing)
     * @param registryUrl      the schema registry URL ({@code mock://...} is in-process)
     * @param timeout          longest wait for all outcomes once the requests are published
     * @param overrides        service settings (README.md, Configuration keys) applied last
     */
    public record Settings(int requests, Path bundle, boolean keepRunning, Duration timeout, String bootstrapServers,
                           ExternalS3 s3, String bucket, String registryUrl, Map<String, String> overrides, long seed, int httpPort,
                           String logLevel) {
        public Settings {
            overrides = Map.copyOf(overrides);
        }
    }

    /** An S3 API server the demo uploads to; null credentials: the AWS default credential chain. */
    public record ExternalS3(URI endpoint, String region, String accessKey, String secretKey) {
        @Override
        public String toString() {
            return "ExternalS3[" + endpoint + "]";
        }
    }

    /** The exit status and what was seen. */
    public record Result(int exitCode, DemoLedger ledger) {
    }

    private static final Duration POLL = Duration.ofMillis(200);
    private static final Duration QUIET_NOTICE = Duration.ofSeconds(5);
    /** The toy model gets at least this share of its drawings' attributes right, or the demo fails. */
    static final double TOY_MIN_ACCURACY = 0.9;
    /** Generous: a cold JVM on a busy machine; a service that fails stops by itself and ends the wait. */
    private static final Duration READY_TIMEOUT = Duration.ofMinutes(5);

    private final Settings settings;
    private final PrintWriter out;
    private final String run = UUID.randomUUID().toString().substring(0, 6);
    private final HeldOutLesions heldOut = HeldOutLesions.builtIn();
    private final DemoLedger ledger = new DemoLedger(heldOut.scorer());
    /** The audit page's token for this run: random, printed once, stored nowhere but as a hash. */
    private final String auditToken = newToken();
    private final Deque<Step> cleanup = new ArrayDeque<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private volatile boolean cleanedUp;
    private final DemoLogging logging;

    /** An undo action, named for the report. */
    private record Step(String what, Undo undo) {
    }

    @FunctionalInterface
    private interface Undo {
        void run() throws Exception;
    }

    public Demo(Settings settings, PrintWriter out) {
        this.settings = settings;
        this.out = out;
        this.logging = new DemoLogging(settings.logLevel());
    }

    /** Runs the demo; cleans up before returning (or, with {@code keepRunning}, after Ctrl-C). */
    public Result run() {
        Thread hook = new Thread(this::cleanUp, "dermcap-demo-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return new Result(execute(), ledger);
        } catch (ConfigException e) {
            say("dermcap demo: invalid setting: " + e.getMessage());
            return new Result(2, ledger);
        } catch (BundleException e) {
            say("dermcap demo: bundle refused (" + e.reason() + "): " + e.getMessage());
            return new Result(3, ledger);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            say("dermcap demo: interrupted");
            return new Result(1, ledger);
        } catch (Exception e) {
            say("dermcap demo: failed: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            return new Result(4, ledger);
        } finally {
            cleanUp();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
                logging.restore();
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or has run: nothing left to remove
            }
        }
    }

    private int execute() throws Exception {
        logging.quiet();
        Path work = Files.createTempDirectory("dermcap-demo-");
        undo("temporary files " + work, () -> ServerSupport.deleteRecursively(work));
        say("dermcap demo " + run + ": " + settings.requests()
                + " synthetic lesion drawings through the service, on the code path of `dermcap run`");
        Path bundle = settings.bundle();
        if (bundle == null) {
            bundle = ToyBundle.extract(work.resolve("toy-bundle"));
            say("bundle      built-in toy bundle (extracted to " + bundle + ")");
        } else {
            say("bundle      " + bundle.toAbsolutePath());
        }
        Servers servers = startServers();

        Path configFile = writeConfig(work, serviceSettings(servers, bundle, work));
        DermcapConfig config = Config.load(configFile, Map.of());
        say("config      " + configFile + " (what `dermcap run --config` would read for this setup)");
        TopologyOptions topics = config.topology();
        Map<String, Object> admin = new StreamsConfig(config.streams()).getAdminConfigs("dermcap-demo-" + run);
        createTopics(admin, topics, config.streams().getProperty(StreamsConfig.APPLICATION_ID_CONFIG));
        List<Upload> uploads = upload(config.storage().s3());

        long t0 = System.nanoTime();
        CaptionService service = CaptionService.start(config);
        undo("dermcap service", service::close);
        boolean toy = announceModel(service.model());
        awaitReady(service);
        say(String.format(Locale.ROOT, "service     ready in %.1f s; metrics and health at http://127.0.0.1:%d/metrics, /health/ready",
                seconds(t0), service.opsPort()));
        say("audit page  " + service.auditUrl() + "  token " + auditToken + "  (one-off, shown only here)");

        try (KafkaConsumer<String, byte[]> consumer = outcomeConsumer(admin, topics);
             AvroSerde<CaptionEvent> captions = serde(CaptionEvent.class, config);
             AvroSerde<FailureEvent> failures = serde(FailureEvent.class, config)) {
            publish(admin, config, topics.requestTopic(), uploads);
            say("");
            collect(consumer, captions, failures, topics, service);
        }
        DemoLedger.Summary summary = ledger.summary();
        say("");
        summary.lines().forEach(this::say);
        if (!summary.success()) {
            say(ledger.complete() ? "dermcap demo: FAILED: requests failed (every request was valid: see the failure lines)"
                    : "dermcap demo: FAILED: " + summary.missing().size() + " requests without an outcome"
                    + (service.stopped() ? " (the service stopped)" : " after " + settings.timeout().toSeconds() + " s"));
        }
        boolean described = !toy || summary.attributeAccuracy() >= TOY_MIN_ACCURACY;
        if (summary.success() && !described) {
            say(String.format(Locale.ROOT, "dermcap demo: FAILED: the toy model's captions got only %d/%d attributes of its "
                    + "drawings right (at least %.0f %% expected): the pipeline garbles images or captions", summary.attributesMatched(),
                    summary.attributesTotal(), 100 * TOY_MIN_ACCURACY));
        }
        if (settings.keepRunning()) {
            say("");
            say("kept running (--keep-running): Kafka " + servers.bootstrap() + ", S3 " + servers.s3().endpoint()
                    + ", ops http://127.0.0.1:" + service.opsPort() + ", audit page " + service.auditUrl()
                    + "; Ctrl-C stops and cleans up");
            service.awaitStop();
        }
        return summary.success() && described ? 0 : 1;
    }

    /** Where Kafka, S3 and the registry are: embedded here, or given. */
    private record Servers(String bootstrap, ExternalS3 s3, String registry) {
    }

    private Servers startServers() throws IOException {
        long t0 = System.nanoTime();
        String bootstrap = settings.bootstrapServers();
        if (bootstrap == null) {
            EmbeddedKafka kafka = EmbeddedKafka.launch();
            undo("embedded Kafka broker", kafka::close);
            bootstrap = kafka.bootstrapServers();
            say(String.format(Locale.ROOT, "kafka       embedded KRaft broker at %s (started in %.1f s)", bootstrap, seconds(t0)));
        } else {
            say("kafka       " + bootstrap);
        }
        ExternalS3 s3 = settings.s3();
        if (s3 == null) {
            t0 = System.nanoTime();
            EmbeddedS3 embedded = EmbeddedS3.launch();
            undo("embedded S3 API server", embedded::close);
            s3 = new ExternalS3(embedded.endpoint(), EmbeddedS3.REGION, embedded.accessKey(), embedded.secretKey());
            say(String.format(Locale.ROOT, "s3          embedded S3 API server (S3Proxy) at %s (started in %.1f s)",
                    s3.endpoint(), seconds(t0)));
        } else {
            say("s3          " + s3.endpoint());
        }
        String registry = settings.registryUrl();
        if (registry == null) {
            String scope = "dermcap-demo-" + run;
            MockSchemaRegistry.forScope(scope);
            registry = "mock://" + scope;
            undo("in-process registry", () -> MockSchemaRegistry.dropScope(scope));
            say("registry    " + registry + " (in-process, Confluent API semantics; --registry-url for a real one)");
        } else {
            say("registry    " + registry);
        }
        return new Servers(bootstrap, s3, registry);
    }

    /** The service's settings: what an operator would put in the properties file for this setup. */
    private Map<String, String> serviceSettings(Servers servers, Path bundle, Path work) {
        Map<String, String> c = new LinkedHashMap<>();
        c.put(ConfigKeys.INSTANCE_ID.name(), "demo");
        c.put(ConfigKeys.LOG_LEVEL.name(), settings.logLevel());
        c.put(ConfigKeys.BUNDLE_DIR.name(), bundle.toAbsolutePath().toString());
        c.put(ConfigKeys.KAFKA_BOOTSTRAP_SERVERS.key(), servers.bootstrap());
        // on an existing cluster the topics, the consumer group and the internal topics are this run's alone
        boolean ownCluster = settings.bootstrapServers() == null;
        String prefix = ownCluster ? "" : "dermcap-demo-" + run + "-";
        c.put(ConfigKeys.KAFKA_APPLICATION_ID.key(), ownCluster ? "dermcap-demo" : "dermcap-demo-" + run);
        c.put(ConfigKeys.KAFKA_STATE_DIR, work.resolve("streams-state").toString());
        // the audit page, on loopback, for this run's one-off token (the file holds only its hash)
        c.put(ConfigKeys.AUDIT_ENABLED.name(), "true");
        c.put(ConfigKeys.AUDIT_HOST.name(), "127.0.0.1");
        c.put(ConfigKeys.AUDIT_PORT.name(), "0");
        c.put(ConfigKeys.AUDIT_CREDENTIALS.name(), Credentials.sha256Entry("demo", auditToken));
        c.put(ConfigKeys.TOPIC_REQUESTS.name(), prefix + ConfigKeys.TOPIC_REQUESTS.defaultValue());
        c.put(ConfigKeys.TOPIC_CAPTIONS.name(), prefix + ConfigKeys.TOPIC_CAPTIONS.defaultValue());
        c.put(ConfigKeys.TOPIC_FAILURES.name(), prefix + ConfigKeys.TOPIC_FAILURES.defaultValue());
        c.put(ConfigKeys.SERDE_SCHEMA_REGISTRY_URL.key(), servers.registry());
        c.put(ConfigKeys.STORAGE_S3_BUCKETS.name(), settings.bucket());
        c.put(ConfigKeys.STORAGE_S3_ENDPOINT.name(), servers.s3().endpoint().toString());
        c.put(ConfigKeys.STORAGE_S3_REGION.name(), servers.s3().region());
        c.put(ConfigKeys.STORAGE_S3_PATH_STYLE.name(), "true");
        if (servers.s3().accessKey() != null) {
            c.put(ConfigKeys.STORAGE_S3_ACCESS_KEY.name(), servers.s3().accessKey());
            c.put(ConfigKeys.STORAGE_S3_SECRET_KEY.name(), servers.s3().secretKey());
        }
        c.put(ConfigKeys.HTTP_HOST.name(), "127.0.0.1");
        c.put(ConfigKeys.HTTP_PORT.name(), Integer.toString(settings.httpPort()));
        c.putAll(settings.overrides());
        return c;
    }

    private static String newToken() {
        byte[] bytes = new byte[24];
        new java.security.SecureRandom().nextBytes(bytes);
        return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** Written to a file and read back by {@link Config#load}, as {@code dermcap run --config} does. */
    private static Path writeConfig(Path work, Map<String, String> settings) throws IOException {
        Path file = work.resolve("dermcap-demo.properties");
        Files.createFile(file);
        try {
            Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException notPosix) {
            // the temporary folder is the user's own
        }
        Properties p = new Properties();
        p.putAll(settings);
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            p.store(w, "dermcap demo: the service's settings");
        }
        return file;
    }

    /**
     * The three topics, requests on two partitions so that batches span partitions. On an
     * existing cluster they, the Streams application's internal topics and its consumer group are
     * deleted at the end (the embedded broker goes away with its data).
     */
    private void createTopics(Map<String, Object> adminConfig, TopologyOptions t, String applicationId) throws Exception {
        List<NewTopic> topics = List.of(new NewTopic(t.requestTopic(), Optional.of(2), Optional.empty()),
                new NewTopic(t.captionTopic(), Optional.of(1), Optional.empty()),
                new NewTopic(t.failureTopic(), Optional.of(1), Optional.empty()));
        try (Admin admin = Admin.create(adminConfig)) {
            admin.createTopics(topics).all().get(60, TimeUnit.SECONDS);
        }
        if (settings.bootstrapServers() != null) {
            undo("demo topics and consumer group", () -> {
                try (Admin admin = Admin.create(adminConfig)) {
                    List<String> names = new ArrayList<>(List.of(t.requestTopic(), t.captionTopic(), t.failureTopic()));
                    admin.listTopics().names().get(30, TimeUnit.SECONDS).stream()
                            .filter(n -> n.startsWith(applicationId + "-")).forEach(names::add);
                    admin.deleteTopics(names).all().get(30, TimeUnit.SECONDS);
                    admin.deleteConsumerGroups(List.of(applicationId)).all().get(30, TimeUnit.SECONDS);
                }
            });
        }
        say("topics      " + t.requestTopic() + " (2 partitions) -> " + t.captionTopic() + ", " + t.failureTopic());
    }

    private record Upload(String requestId, String uri, String sha256, String label, Map<String, String> truth) {
    }

    /**
     * Puts held-out drawings into the bucket. On an existing server the objects (and the bucket,
     * if this run made it) are deleted at the end.
     */
    private List<Upload> upload(StorageOptions.S3Options options) {
        long t0 = System.nanoTime();
        DemoBucket bucket = DemoBucket.open(options, settings.bucket());
        undo("S3 client", bucket::close);
        if (settings.s3() != null) {
            undo("uploaded images", bucket::deleteUploads);
        }
        String prefix = "demo/" + run + "/";
        List<Upload> uploads = new ArrayList<>();
        long bytes = 0;
        List<HeldOutLesions.Example> drawings = heldOut.examples();
        for (int i = 0; i < settings.requests(); i++) {
            HeldOutLesions.Example drawing = drawings.get((int) Math.floorMod(settings.seed() + i, (long) drawings.size()));
            String key = prefix + String.format(Locale.ROOT, "lesion-%03d.jpg", i);
            String uri = bucket.put(key, drawing.bytes(), "image/jpeg");
            uploads.add(new Upload(String.format(Locale.ROOT, "demo-%s-%03d", run, i), uri, Sha256.of(drawing.bytes()),
                    drawing.file(), drawing.attributes()));
            bytes += drawing.bytes().length;
        }
        say(String.format(Locale.ROOT, "images      %d held-out synthetic drawings (JPEG; %.0f KB) uploaded to s3://%s/%s in %.1f s",
                uploads.size(), bytes / 1024.0, settings.bucket(), prefix, seconds(t0)));
        return uploads;
    }

    /** Says what the model is; true for the toy captioner. */
    private boolean announceModel(ModelInfo m) {
        say(String.format(Locale.ROOT, "model       %s %s on %s %s %s", m.bundleName(), m.bundleVersion(), m.runtime().engine(),
                m.runtime().engineVersion(), m.runtime().executionProvider()));
        boolean toy = ToyBundle.NAME.equals(m.bundleName());
        if (toy) {
            say("            TOY MODEL trained here on synthetic drawings (onnx-models/TOY.md): its captions describe these");
            say("            drawings and nothing else; it is not a medical model. Export the released checkpoints into a");
            say("            bundle (onnx-models/BUNDLE.md) and pass --bundle DIR for real captions.");
        } else if (m.randomWeights()) {
            say("            RANDOM WEIGHTS with the real architecture: the captions below are gibberish by design.");
            say("            Export the released checkpoints into a bundle (onnx-models/BUNDLE.md) and pass --bundle DIR for real captions.");
        } else if (m.checkpoint() != null) {
            say("            checkpoint " + m.checkpoint().file() + " sha256 " + m.checkpoint().sha256());
        }
        return toy;
    }

    /** Waits for the service's own readiness probe, the one a deployment's readiness check calls. */
    private void awaitReady(CaptionService service) throws InterruptedException {
        URI ready = URI.create("http://127.0.0.1:" + service.opsPort() + "/health/ready");
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline && !service.stopped()) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
                last = r.statusCode() + " " + r.body().trim();
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the service did not become ready" + (service.stopped() ? " (it stopped)"
                : " within " + READY_TIMEOUT.toSeconds() + " s") + "; last answer of " + ready + ": " + last);
    }

    private void publish(Map<String, Object> admin, DermcapConfig config, String topic, List<Upload> uploads) {
        Map<String, Object> producerConfig = clientConfig(admin, ProducerConfig.configNames());
        producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
        producerConfig.put(ProducerConfig.CLIENT_ID_CONFIG, "dermcap-demo-" + run + "-producer");
        try (AvroSerde<CaptionRequest> serde = serde(CaptionRequest.class, config);
             KafkaProducer<String, byte[]> producer = new KafkaProducer<>(producerConfig, new StringSerializer(), new ByteArraySerializer())) {
            for (Upload u : uploads) {
                CaptionRequest request = CaptionRequest.newBuilder()
                        .setRequestId(u.requestId())
                        .setImageUri(u.uri())
                        .setExpectedSha256(u.sha256())
                        .setIds(Passthrough.newBuilder().setSourceSystem("dermcap-demo")
                                .setCorrelation(Map.of("demo_run", run)).build())
                        .setRequestedAt(Instant.now().truncatedTo(ChronoUnit.MILLIS))
                        .build();
                ledger.sent(u.requestId(), u.label(), u.truth(), System.nanoTime());
                producer.send(new ProducerRecord<>(topic, u.requestId(), serde.serializer().serialize(topic, request)));
            }
            producer.flush();
        }
        say("published   " + uploads.size() + " requests to " + topic + " (Avro, Confluent wire format, registry serde)");
    }

    private KafkaConsumer<String, byte[]> outcomeConsumer(Map<String, Object> admin, TopologyOptions t) {
        Map<String, Object> c = clientConfig(admin, ConsumerConfig.configNames());
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, "dermcap-demo-" + run + "-reader");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = new ArrayList<>();
        for (String topic : List.of(t.captionTopic(), t.failureTopic())) {
            consumer.partitionsFor(topic, Duration.ofSeconds(30)).forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        return consumer;
    }

    /** Prints outcomes as they arrive until every request has one, the time is up, or the service stopped. */
    private void collect(KafkaConsumer<String, byte[]> consumer, AvroSerde<CaptionEvent> captions,
                         AvroSerde<FailureEvent> failures, TopologyOptions t, CaptionService service) {
        long start = System.nanoTime();
        long deadline = start + settings.timeout().toNanos();
        long lastNews = start;
        while (!ledger.complete() && System.nanoTime() < deadline && !service.stopped()) {
            for (ConsumerRecord<String, byte[]> r : consumer.poll(POLL)) {
                long now = System.nanoTime();
                List<String> lines = r.topic().equals(t.captionTopic())
                        ? ledger.caption(captions.deserializer().deserialize(r.topic(), r.value()), now)
                        : ledger.failure(failures.deserializer().deserialize(r.topic(), r.value()), now);
                lines.forEach(this::say);
                lastNews = now;
            }
            if (System.nanoTime() - lastNews > QUIET_NOTICE.toNanos() && System.nanoTime() < deadline) {
                say(String.format(Locale.ROOT, "        ... %d/%d answered after %.0f s, waiting (gives up after %d s)",
                        ledger.answered(), ledger.expected(), seconds(start), settings.timeout().toSeconds()));
                lastNews = System.nanoTime();
            }
        }
    }

    private static <T extends org.apache.avro.specific.SpecificRecord> AvroSerde<T> serde(Class<T> type, DermcapConfig config) {
        return new AvroSerde<>(type, SchemaRegistryClient.create(config.serde().registry()), config.serde(), false);
    }

    /** The connection and security settings of the service's Kafka clients, for the demo's own clients. */
    private static Map<String, Object> clientConfig(Map<String, Object> admin, Set<String> known) {
        Map<String, Object> c = new HashMap<>();
        admin.forEach((k, v) -> {
            if (known.contains(k) && !k.equals(ConsumerConfig.CLIENT_ID_CONFIG)) {
                c.put(k, v);
            }
        });
        return c;
    }

    private void undo(String what, Undo action) {
        synchronized (cleanup) {
            cleanup.push(new Step(what, action));
        }
    }

    /** Undoes every step in reverse order, each on its own; runs once (normal end or Ctrl-C). */
    private void cleanUp() {
        synchronized (cleanup) {
            if (cleanedUp || cleanup.isEmpty()) {
                cleanedUp = true;
                return;
            }
            cleanedUp = true;
            logging.quietShutdown();
            long t0 = System.nanoTime();
            List<String> failed = new ArrayList<>();
            while (!cleanup.isEmpty()) {
                Step step = cleanup.pop();
                try {
                    step.undo().run();
                } catch (Exception e) {
                    failed.add(step.what() + ": " + e);
                }
            }
            say(String.format(Locale.ROOT, "cleaned up in %.1f s%s", seconds(t0), failed.isEmpty() ? "" : "; could not undo " + failed));
        }
    }

    private void say(String line) {
        out.println(line);
        out.flush();
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}
