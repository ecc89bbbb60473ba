package io.dermcap.topology;

import io.dermcap.metrics.ServiceMetrics;
import io.dermcap.model.Captioner;
import io.dermcap.pipeline.InferencePipeline;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

import org.apache.kafka.streams.processor.api.ProcessorContext;

import java.util.Properties;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * The service topology:
 * <pre>
 * requests ─► validate ─► batch (buffer store) ─► events ─► captions
 *                │                                  │
 *                └──────────── invalid ────────────►└────► failures
 * </pre>
 * (with the audit stores on, {@link OutcomeStores}' indexer sits between events and the sinks)
 * plus undeserializable input records, which Kafka Streams writes to the failure topic through
 * {@link UndeserializableRecordHandler}. Every input record yields exactly one outcome record.
 */
public final class CaptionTopology {

    public static final String SOURCE = "requests";
    public static final String VALIDATE = "validate";
    public static final String BATCH = "batch";
    public static final String EVENTS = "events";
    public static final String CAPTIONS = "captions";
    public static final String FAILURES = "failures";
    /** The batcher's store; its changelog topic is {@code <application.id>-dermcap-buffer-changelog}. */
    public static final String BUFFER_STORE = "dermcap-buffer";

    private CaptionTopology() {
    }

    /** @param audit the audit stores' settings, or null for none */
    public static Topology build(TopologyOptions options, BatchOptions batch, EventSerdes serdes, Captioner captioner,
                                 InferencePipeline pipeline, ServiceMetrics metrics, OutcomeStores.Options audit) {
        return build(options, batch, serdes, captioner, pipeline, metrics,
                options.exactlyOnce() ? null : MicroBatcher.streamThreadCommits(), audit);
    }

    /** @param commitCounter see {@link MicroBatcher}; tests pass their own */
    static Topology build(TopologyOptions options, BatchOptions batch, EventSerdes serdes, Captioner captioner,
                          InferencePipeline pipeline, ServiceMetrics metrics,
                          Function<ProcessorContext<?, ?>, LongSupplier> commitCounter, OutcomeStores.Options audit) {
        Topology t = new Topology();
        t.addSource(SOURCE, new StringDeserializer(), serdes.requests().deserializer(), options.requestTopic());
        t.addProcessor(VALIDATE, () -> new RequestValidator(captioner, BATCH, EVENTS), SOURCE);
        t.addProcessor(BATCH, () -> new MicroBatcher(BUFFER_STORE, batch, pipeline, captioner, metrics, commitCounter), VALIDATE);
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(BUFFER_STORE), Serdes.Long(),
                new PendingRequestSerde()).withCachingDisabled(), BATCH);
        // with the audit stores on, every event passes through their indexer on its way to its sink
        String next = audit == null ? null : OutcomeStores.INDEX;
        t.addProcessor(EVENTS, () -> new OutcomeEvents(options, captioner.info(), metrics,
                next == null ? CAPTIONS : next, next == null ? FAILURES : next), VALIDATE, BATCH);
        String sinkParent = EVENTS;
        if (audit != null) {
            OutcomeStores.addTo(t, audit, CAPTIONS, FAILURES, EVENTS);
            sinkParent = OutcomeStores.INDEX;
        }
        t.addSink(CAPTIONS, options.captionTopic(), new StringSerializer(), serdes.captions().serializer(), sinkParent);
        t.addSink(FAILURES, options.failureTopic(), new StringSerializer(), serdes.failures().serializer(), sinkParent);
        return t;
    }

    /**
     * Adds what the topology needs at run time to the Streams properties: the dead-letter
     * handler and the object it uses.
     */
    public static Properties withHandlers(Properties streams, DeadLetters deadLetters) {
        Properties p = new Properties();
        p.putAll(streams);
        p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, UndeserializableRecordHandler.class.getName());
        p.put(UndeserializableRecordHandler.DEAD_LETTERS, deadLetters);
        return p;
    }
}
