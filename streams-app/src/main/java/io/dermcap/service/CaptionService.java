package io.dermcap.service;

import ch.qos.logback.classic.Level;
import io.dermcap.audit.AuditServer;
import io.dermcap.audit.ClusterOutcomes;
import io.dermcap.config.DermcapConfig;
import io.dermcap.events.CaptionEvent;
import io.dermcap.events.CaptionRequest;
import io.dermcap.events.FailureEvent;
import io.dermcap.image.ImagePreprocessor;
import io.dermcap.metrics.CommitStall;
import io.dermcap.metrics.OpsServer;
import io.dermcap.metrics.ServiceMetrics;
import io.dermcap.model.Captioner;
import io.dermcap.model.ModelInfo;
import io.dermcap.model.bundle.BundleException;
import io.dermcap.model.runtime.OnnxCaptioner;
import io.dermcap.pipeline.InferencePipeline;
import io.dermcap.registry.AvroSerde;
import io.dermcap.registry.AvroSerdeConfig;
import io.dermcap.registry.OutageTolerantDeserializer;
import io.dermcap.registry.RegistryException;
import io.dermcap.registry.RequestSubjectCheck;
import io.dermcap.registry.SchemaRegistryClient;
import io.dermcap.storage.StorageFetcher;
import io.dermcap.topology.CaptionTopology;
import io.dermcap.topology.DeadLetters;
import io.dermcap.topology.EventSerdes;
import io.dermcap.topology.StateDirCheck;
import io.dermcap.topology.StaticMembership;
import io.dermcap.topology.TopologyOptions;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.apache.avro.Schema;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.state.HostInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;

/**
 * {@code dermcap run}: configuration → bundle → engine → fetcher → serdes → topology →
 * Kafka Streams, with the operations endpoint up from the first moment (live at once, ready once
 * the bundle is loaded and the streams are RUNNING).
 */
public final class CaptionService implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(CaptionService.class);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private final DermcapConfig config;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ServiceMetrics metrics = new ServiceMetrics(registry);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final AtomicInteger exitCode = new AtomicInteger();
    private final OpsServer ops;
    private volatile String phase = "starting";
    private final UnaryOperator<Captioner> decorator;
    private volatile Captioner captioner;
    private volatile StorageFetcher fetcher;
    private volatile InferencePipeline pipeline;
    private volatile KafkaStreams streams;
    private volatile AuditServer audit;
    private AutoCloseable streamsMetrics;
    private volatile boolean closing;
    private final CommitStall stall;

    private CaptionService(DermcapConfig config, UnaryOperator<Captioner> decorator) {
        this.config = config;
        this.decorator = decorator;
        this.stall = new CommitStall(config.stallLimit());
        this.ops = OpsServer.start(config.http(), registry, this::liveness, this::readiness);
    }

    /** Starts everything; returns once Kafka Streams is started (not necessarily RUNNING yet). */
    public static CaptionService start(DermcapConfig config) throws BundleException {
        return start(config, UnaryOperator.identity());
    }

    /**
     * Starts everything with the engine wrapped by {@code decorator} before the pipeline and the
     * topology see it (the fault tests inject model failures this way; production uses identity).
     */
    public static CaptionService start(DermcapConfig config, UnaryOperator<Captioner> decorator) throws BundleException {
        setLogLevel(config.logLevel());
        CaptionService service = new CaptionService(config, decorator);
        try {
            service.startComponents();
            return service;
        } catch (RuntimeException | Error | BundleException e) {
            // an Error too (a native library that cannot load, a missing class): the ops server's
            // non-daemon threads would otherwise keep a JVM alive that will never be ready
            service.close();
            throw e;
        }
    }

    private void startComponents() throws BundleException {
        long began = System.nanoTime();
        TopologyOptions topology = config.topology();
        log.info("event=starting version={} instance={} ops_port={} guarantee={}", topology.serviceVersion(),
                topology.instanceId(), ops.port(), topology.exactlyOnce() ? "exactly_once_v2" : "at_least_once");
        StateDirCheck.require(config.streams());

        // configuration (already read), bundle, topics, registry: the most basic problem is reported first
        phase = "loading bundle";
        OnnxCaptioner engine = OnnxCaptioner.load(config.bundleDir(), config.engine());
        captioner = decorator.apply(engine);
        var info = captioner.info();
        log.info("event=bundle_loaded name={} version={} random_weights={} load_ms={} provider={}", info.bundleName(),
                info.bundleVersion(), info.randomWeights(), engine.loadTimings().totalNanos() / 1_000_000,
                info.runtime().executionProvider());
        phase = "checking topics";
        StartupChecks.topics(config).forEach(t -> log.info("event=topic_checked {}", t));
        ImagePreprocessor preprocessor = new ImagePreprocessor(engine.preprocessing(), config.imageLimits());
        fetcher = new StorageFetcher(config.storage());
        if (config.audit() != null) {
            audit = AuditServer.start(config.audit(), fetcher, config.imageLimits(), topology.instanceId());
            log.info("event=audit_listening port={} tls={}", audit.port(), audit.tls() != null);
        }
        pipeline = new InferencePipeline(captioner, fetcher, preprocessor::preprocess, config.batch().pipeline(), metrics);
        // crash-only: with the engine thread gone nothing would finish again; stop so that a
        // supervisor restarts the process (the pending requests are redone from the buffer store)
        pipeline.onFatal(() -> {
            log.error("event=engine_failed action=stop exit_code=1");
            exitCode.compareAndSet(0, 1);
            new Thread(this::close, "dermcap-shutdown").start();
        });

        phase = "registering schemas";
        AvroSerdeConfig serdeConfig = config.serde();
        SchemaRegistryClient client = SchemaRegistryClient.create(serdeConfig.registry());
        AvroSerde<CaptionRequest> requests = new AvroSerde<>(CaptionRequest.class, client, serdeConfig, false);
        // a registry outage is waited out on the stream thread (up to half the poll interval)
        // rather than failing it: a replaced thread costs a rebalance that waits for its old member
        Serde<CaptionRequest> tolerant = Serdes.serdeFrom(requests.serializer(), new OutageTolerantDeserializer<>(
                requests.deserializer(), config.maxPollInterval().dividedBy(2), () -> closing));
        EventSerdes serdes = new EventSerdes(tolerant,
                new AvroSerde<>(CaptionEvent.class, client, serdeConfig, false),
                new AvroSerde<>(FailureEvent.class, client, serdeConfig, false));
        warmUp(client, serdeConfig, Map.of(topology.captionTopic(), CaptionEvent.getClassSchema(),
                topology.failureTopic(), FailureEvent.getClassSchema()));
        checkRequestSubject(client, StartupChecks.requestSubject(config, serdeConfig));

        phase = "starting streams";
        var props = CaptionTopology.withHandlers(StaticMembership.apply(config.streams(), topology.instanceId(),
                        Duration.ofNanos(System.nanoTime() - began)),
                new DeadLetters(topology, info, serdes.failures().serializer()));
        log.info("event=group_membership group_instance_id={} session_timeout_ms={}",
                props.getProperty(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "(per prefix)"),
                props.getProperty(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "(per prefix)"));
        HostInfo self = null;
        if (audit != null) {
            // other instances find this one's stores (and forward lookups) at this address
            self = new HostInfo(config.audit().advertisedHost(), audit.port());
            props.put(StreamsConfig.APPLICATION_SERVER_CONFIG, self.host() + ":" + self.port());
        }
        streams = new KafkaStreams(CaptionTopology.build(topology, config.batch(), serdes, captioner, pipeline, metrics,
                config.audit() == null ? null : config.audit().stores()), props);
        if (audit != null) {
            var passthrough = config.audit().stores().passthrough();
            audit.attach(new ClusterOutcomes(streams, self, audit.tls(), config.audit().forwardTimeout(),
                    passthrough == null ? null : passthrough.name()));
        }
        streams.setUncaughtExceptionHandler(replaceWithBackoff());
        streams.setStateListener((now, before) -> {
            log.info("event=streams_state from={} to={}", before, now);
            if (now == KafkaStreams.State.ERROR) {
                exitCode.compareAndSet(0, 1);
                new Thread(this::close, "dermcap-shutdown").start();
            }
        });
        KafkaStreamsMetrics streamsMeters = new KafkaStreamsMetrics(streams); // client, threads, tasks, stores
        streamsMeters.bindTo(registry);
        streamsMetrics = streamsMeters;
        streams.start();
        phase = "streams";
    }

    /**
     * Registers (or looks up) the output schemas before consuming, retrying while the registry is
     * unreachable, so that a registry outage later does not stop the service: the ids are cached.
     */
    private void warmUp(SchemaRegistryClient client, AvroSerdeConfig serde, Map<String, Schema> topics) {
        for (var e : topics.entrySet()) {
            String subject = serde.subjectStrategy(false).subject(e.getKey(), false, e.getValue());
            Integer id = retrying(subject, () -> serde.autoRegister()
                    ? client.register(subject, e.getValue()) : client.lookup(subject, e.getValue()));
            log.info("event=schema_ready subject={} id={}", subject, id);
        }
    }

    /** A registry call, retried while the registry is unreachable; null when the service stops meanwhile. */
    private <T> T retrying(String subject, java.util.function.Supplier<T> call) {
        long wait = 500;
        while (!closing) {
            try {
                return call.get();
            } catch (RegistryException ex) {
                if (!ex.retryable()) {
                    throw new IllegalStateException("the registry refused subject " + subject + ": " + ex.getMessage(), ex);
                }
                log.warn("event=registry_unavailable subject={} retry_in_ms={}", subject, wait);
                sleep(wait);
                wait = Math.min(5_000, wait * 2); // a cheap call: come back soon after the registry does
            }
        }
        return null;
    }

    /**
     * The request subject must hold a schema the service can read (producers register it); what
     * a problem does depends on {@code registry.request.subject.check}.
     */
    private void checkRequestSubject(SchemaRegistryClient client, String subject) {
        RequestSubjectCheck.Mode mode = config.requestSubjectCheck();
        RequestSubjectCheck.Verdict verdict = retrying(subject, () -> StartupChecks.requestSchema(client, subject, mode));
        if (verdict == null || verdict.ok()) {
            log.info("event=request_subject_checked subject={} mode={} result=\"{}\"", subject, mode,
                    verdict == null ? "not checked" : verdict.done());
        } else if (mode == RequestSubjectCheck.Mode.WARN) {
            log.warn("event=request_subject_problem subject={} problem=\"{}\"", subject, verdict.problem());
        } else {
            throw new IllegalStateException(verdict.problem() + " (registry.request.subject.check=" + mode + ")");
        }
    }

    /** A failed stream thread is replaced after a growing pause, so an outage is not a tight loop. */
    private StreamsUncaughtExceptionHandler replaceWithBackoff() {
        AtomicInteger consecutive = new AtomicInteger();
        AtomicLong last = new AtomicLong();
        return e -> {
            if (closing) {
                // e.g. a wait for the registry given up because the service is stopping; Kafka Streams
                // replaces no thread once it is shutting down
                log.info("event=stream_thread_stopped reason=closing error={}", e.getClass().getSimpleName());
                return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
            }
            if (causedBy(e, FencedInstanceIdException.class)) {
                // another running process has this instance.id: replacing the thread would fence it in turn
                log.error("event=instance_id_in_use instance={} action=stop exit_code=1 hint=\"give every running "
                        + "instance its own instance.id (or kafka.group.instance.id)\"", config.topology().instanceId());
                return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
            }
            long now = System.nanoTime();
            int n = now - last.getAndSet(now) > Duration.ofMinutes(5).toNanos() ? 1 : consecutive.incrementAndGet();
            consecutive.set(n);
            long pause = Math.min(60_000, 500L << Math.min(n - 1, 7));
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            log.error("event=stream_thread_failed action=replace attempt={} pause_ms={} error={} cause={}", n, pause,
                    e.getClass().getSimpleName(), root.getClass().getName());
            sleep(pause);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        };
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    private OpsServer.Status liveness() {
        InferencePipeline p = pipeline;
        if (p != null && !p.healthy()) {
            return OpsServer.Status.failing("inference thread stopped");
        }
        KafkaStreams s = streams;
        if (s != null && (s.state() == KafkaStreams.State.ERROR || s.state() == KafkaStreams.State.PENDING_ERROR)) {
            return OpsServer.Status.failing("streams " + s.state());
        }
        return OpsServer.Status.ok("live");
    }

    private OpsServer.Status readiness() {
        KafkaStreams s = streams;
        if (captioner == null || s == null) {
            return OpsServer.Status.failing(phase);
        }
        if (s.state() != KafkaStreams.State.RUNNING) {
            return OpsServer.Status.failing("streams " + s.state());
        }
        if (!pipeline.healthy()) {
            return OpsServer.Status.failing("inference thread stopped");
        }
        // Streams stays RUNNING while a thread waits on brokers that cannot take its writes
        var stalled = stall.check(s.metrics());
        if (stalled.isPresent()) {
            return OpsServer.Status.failing(stalled.get());
        }
        return OpsServer.Status.ok("ready");
    }

    /** Active tasks (input partitions) this instance owns now; 0 before the first assignment. */
    public int activeTasks() {
        KafkaStreams s = streams;
        if (s == null || s.state() != KafkaStreams.State.RUNNING) {
            return 0;
        }
        return s.metadataForLocalThreads().stream().mapToInt(t -> t.activeTasks().size()).sum();
    }

    /** The audit page's address, or null when the audit is off. */
    public String auditUrl() {
        AuditServer a = audit;
        return a == null ? null : a.url();
    }

    /** The port of the operations endpoint (useful with {@code http.port=0}). */
    public int opsPort() {
        return ops.port();
    }

    /** The loaded model's lineage and runtime (the bundle is loaded when {@link #start} returns). */
    public ModelInfo model() {
        return captioner.info();
    }

    /** Whether the service has stopped, after {@link #close()} or a failure it could not recover from. */
    public boolean stopped() {
        return stopped.getCount() == 0;
    }

    /** Blocks until the service is closed; the exit status: 0 after a requested stop, 1 after a failure. */
    public int awaitStop() throws InterruptedException {
        stopped.await();
        return exitCode.get();
    }

    /** Leaves the consumer group, lets the running batch finish, releases the model. Idempotent. */
    @Override
    public synchronized void close() {
        if (closing) {
            stopped.countDown();
            return;
        }
        closing = true;
        log.info("event=stopping");
        closeQuietly(audit);
        KafkaStreams s = streams;
        if (s != null) {
            s.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                    .withTimeout(CLOSE_TIMEOUT));
        }
        closeQuietly(streamsMetrics);
        if (pipeline != null) {
            pipeline.close(CLOSE_TIMEOUT);
        }
        closeQuietly(fetcher);
        closeQuietly(captioner);
        ops.close();
        log.info("event=stopped");
        stopped.countDown();
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            log.warn("event=close_failed component={} error={}", c.getClass().getSimpleName(), e.toString());
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void setLogLevel(String level) {
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                .setLevel(Level.toLevel(level, Level.INFO));
    }
}
