package io.dermcap.topology;

import io.dermcap.events.Passthrough;
import org.apache.avro.Schema;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/**
 * The audit stores: every outcome by request id, and references to it by image sha256, by one
 * configured passthrough field and by time alone (the latest list). All four are window stores that keep duplicates, keyed by
 * the lookup value and stamped with the outcome's time, in the task of the request's input
 * partition: changelogged (restored after a crash like the buffer store, replicated by
 * {@code kafka.num.standby.replicas}) and bounded by the retention, whose oldest segments Kafka
 * Streams drops as time moves on. A lookup by request id goes to the one instance that owns the
 * key's partition; a secondary lookup asks every instance (the index shares the outcome's task,
 * so it is partitioned by request id, not by the index value).
 */
public final class OutcomeStores {

    /** Outcomes by request id; values are {@link AuditedOutcome#encode()}. */
    public static final String BY_REQUEST = "dermcap-audit-outcomes";
    /** References by the captioned image's sha256; values are {@link #reference}. */
    public static final String BY_IMAGE = "dermcap-audit-by-image";
    /** References by the configured passthrough field's value. */
    public static final String BY_PASSTHROUGH = "dermcap-audit-by-passthrough";
    /** References to every outcome under one key, {@link #TIME_KEY}: a store iterated newest first for the latest list. */
    public static final String BY_TIME = "dermcap-audit-by-time";
    public static final String TIME_KEY = "";
    /** The processor that fills them. */
    public static final String INDEX = "audit-index";

    private OutcomeStores() {
    }

    /**
     * @param retention   how long an outcome stays queryable
     * @param passthrough the indexed passthrough field, or null for none
     */
    public record Options(Duration retention, PassthroughField passthrough) {
        public Options {
            if (retention.toMillis() < 1) {
                throw new IllegalArgumentException("the retention must be at least 1 ms");
            }
        }
    }

    /**
     * A passthrough field: a top-level string field of {@link Passthrough} ({@code study_instance_uid})
     * or an entry of its {@code correlation} map ({@code correlation.accession}).
     */
    public record PassthroughField(String name) {

        private static final String MAP_PREFIX = "correlation.";

        /** @throws IllegalArgumentException when {@code name} names no string field of the schema */
        public PassthroughField {
            if (name.startsWith(MAP_PREFIX)) {
                if (name.length() == MAP_PREFIX.length()) {
                    throw new IllegalArgumentException("names no correlation key");
                }
            } else {
                Schema.Field f = Passthrough.getClassSchema().getField(name);
                if (f == null || !isString(f.schema())) {
                    throw new IllegalArgumentException("is neither a string field of Passthrough nor correlation.<key>");
                }
            }
        }

        private static boolean isString(Schema s) {
            return s.getType() == Schema.Type.STRING
                    || (s.getType() == Schema.Type.UNION && s.getTypes().stream().anyMatch(t -> t.getType() == Schema.Type.STRING));
        }

        /** The field's value in {@code ids}, or null. */
        public String valueIn(Passthrough ids) {
            if (ids == null) {
                return null;
            }
            if (name.startsWith(MAP_PREFIX)) {
                Map<String, String> map = ids.getCorrelation();
                return map == null ? null : map.get(name.substring(MAP_PREFIX.length()));
            }
            Object v = ids.get(name);
            return v == null ? null : v.toString();
        }
    }

    /**
     * Adds the index processor (a child of {@code parents}, forwarding each event on to
     * {@code captionSink} or {@code failureSink}) and the four stores.
     */
    public static void addTo(Topology t, Options options, String captionSink, String failureSink, String... parents) {
        t.addProcessor(INDEX, () -> new OutcomeIndexer(options, captionSink, failureSink), parents);
        for (String store : new String[] {BY_REQUEST, BY_IMAGE, BY_PASSTHROUGH, BY_TIME}) {
            t.addStateStore(Stores.windowStoreBuilder(Stores.persistentWindowStore(store, options.retention(),
                    Duration.ofMillis(1), true), Serdes.String(), Serdes.ByteArray()).withCachingDisabled(), INDEX);
        }
    }

    /** An index entry: where the outcome lies in {@link #BY_REQUEST}. */
    public record Reference(String requestId, AuditedOutcome.Position position) {
    }

    static byte[] reference(String requestId, AuditedOutcome.Position p) {
        byte[] id = requestId.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(20 + id.length).putLong(p.epochMillis()).putInt(p.partition()).putLong(p.offset())
                .put(id).array();
    }

    public static Reference reference(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        AuditedOutcome.Position p = new AuditedOutcome.Position(b.getLong(), b.getInt(), b.getLong());
        return new Reference(new String(bytes, 20, bytes.length - 20, StandardCharsets.UTF_8), p);
    }
}
