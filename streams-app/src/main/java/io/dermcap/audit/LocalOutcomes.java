package io.dermcap.audit;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dermcap.topology.AuditedOutcome;
import io.dermcap.topology.OutcomeStores;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Lookups in this instance's audit stores, one partition at a time: a window store iterates a
 * key newest first within its partition, so each partition yields its first {@code limit} after
 * the cursor and the merge of those is the page.
 */
public final class LocalOutcomes implements OutcomeLookup {

    /** The stores of one partition, or of all local partitions (partition null). */
    public interface Stores {
        ReadOnlyWindowStore<String, byte[]> store(String name, Integer partition, boolean stale) throws Unavailable;

        /** The partitions whose active task runs here. */
        List<Integer> partitions() throws Unavailable;
    }

    private static final Instant END = Instant.ofEpochMilli(Long.MAX_VALUE);
    private static final Duration FIRST_WINDOW = Duration.ofMinutes(1);

    private final Stores stores;
    private final LongSupplier clock;

    public LocalOutcomes(Stores stores, LongSupplier clock) {
        this.stores = stores;
        this.clock = clock;
    }

    @Override
    public List<ObjectNode> byRequest(String requestId, String authorization) throws Unavailable {
        return byRequest(requestId, null, false);
    }

    @Override
    public Page byIndex(Index index, String value, AuditedOutcome.Position after, int limit, String authorization)
            throws Unavailable {
        return byIndex(index, value, after, limit);
    }

    @Override
    public Page latest(AuditedOutcome.Position after, int limit, String authorization) throws Unavailable {
        return latest(after, limit);
    }

    /** A store operation that Kafka Streams may refuse while its task moves. */
    private interface StoreRead<T> {
        T run() throws Unavailable;
    }

    /**
     * Runs {@code read}; a store that went away under it (its task migrated, was closed, or its
     * partition is no longer here) makes the lookup unavailable, not failed.
     */
    private static <T> T guarded(StoreRead<T> read) throws Unavailable {
        try {
            return read.run();
        } catch (InvalidStateStoreException e) {
            throw new Unavailable("the audit store moved while it was read (" + e.getClass().getSimpleName() + ")");
        }
    }

    /** The outcomes of {@code requestId} in {@code partition} (null: any local one), newest first. */
    public List<ObjectNode> byRequest(String requestId, Integer partition, boolean stale) throws Unavailable {
        return guarded(() -> readByRequest(requestId, partition, stale));
    }

    private List<ObjectNode> readByRequest(String requestId, Integer partition, boolean stale) throws Unavailable {
        List<ObjectNode> out = new ArrayList<>();
        try (WindowStoreIterator<byte[]> it = stores.store(OutcomeStores.BY_REQUEST, partition, stale)
                .backwardFetch(requestId, Instant.EPOCH, END)) {
            it.forEachRemaining(kv -> out.add(OutcomeJson.outcome(AuditedOutcome.decode(kv.value))));
        }
        out.sort(java.util.Comparator.comparing(OutcomeJson::position));
        return out;
    }

    public Page byIndex(OutcomeLookup.Index index, String value, AuditedOutcome.Position after, int limit)
            throws Unavailable {
        return guarded(() -> readByIndex(index, value, after, limit));
    }

    private Page readByIndex(OutcomeLookup.Index index, String value, AuditedOutcome.Position after, int limit)
            throws Unavailable {
        List<Page> pages = new ArrayList<>();
        Instant to = after == null ? END : Instant.ofEpochMilli(after.epochMillis());
        for (int p : stores.partitions()) {
            ReadOnlyWindowStore<String, byte[]> outcomes = stores.store(OutcomeStores.BY_REQUEST, p, false);
            List<ObjectNode> found = new ArrayList<>();
            boolean more = false;
            try (WindowStoreIterator<byte[]> it = stores.store(index.store, p, false).backwardFetch(value, Instant.EPOCH, to)) {
                while (it.hasNext()) {
                    OutcomeStores.Reference ref = OutcomeStores.reference(it.next().value);
                    if (after != null && ref.position().compareTo(after) <= 0) {
                        continue;
                    }
                    if (found.size() == limit) {
                        more = true;
                        break;
                    }
                    AuditedOutcome o = resolve(outcomes, ref);
                    if (o != null) {
                        found.add(OutcomeJson.outcome(o));
                    }
                }
            }
            pages.add(new Page(found, more ? "more" : null));
        }
        return Page.merge(pages, limit);
    }

    /**
     * The newest outcomes: each partition scanned over a time window that widens until it holds
     * enough; only the newest entries of a window (by their store timestamp, ties kept) are decoded.
     */
    public Page latest(AuditedOutcome.Position after, int limit) throws Unavailable {
        return guarded(() -> readLatest(after, limit));
    }

    private Page readLatest(AuditedOutcome.Position after, int limit) throws Unavailable {
        long to = after == null ? clock.getAsLong() + Duration.ofHours(1).toMillis() : after.epochMillis();
        List<Page> pages = new ArrayList<>();
        for (int p : stores.partitions()) {
            ReadOnlyWindowStore<String, byte[]> store = stores.store(OutcomeStores.BY_REQUEST, p, false);
            long window = FIRST_WINDOW.toMillis();
            while (true) {
                long from = Math.max(0, to - window);
                List<AuditedOutcome> found = newest(store, from, to, after, limit + 1);
                if (found.size() > limit || from == 0) {
                    // exactly limit in a partial window: older ones may follow
                    boolean more = found.size() > limit || (found.size() == limit && from > 0);
                    pages.add(new Page(found.stream().limit(limit).map(OutcomeJson::outcome).toList(), more ? "more" : null));
                    break;
                }
                window = window > Long.MAX_VALUE / 8 ? Long.MAX_VALUE : window * 8;
            }
        }
        return Page.merge(pages, limit);
    }

    /** The newest {@code n} (or more, when timestamps tie) outcomes stored in [from, to], after the cursor. */
    private static List<AuditedOutcome> newest(ReadOnlyWindowStore<String, byte[]> store, long from, long to,
                                               AuditedOutcome.Position after, int n) {
        java.util.TreeMap<Long, List<byte[]>> byTime = new java.util.TreeMap<>();
        int kept = 0;
        try (KeyValueIterator<Windowed<String>, byte[]> it = store.fetchAll(Instant.ofEpochMilli(from), Instant.ofEpochMilli(to))) {
            while (it.hasNext()) {
                KeyValue<Windowed<String>, byte[]> kv = it.next();
                long at = kv.key.window().start();
                if (kept >= n && at < byTime.firstKey()) {
                    continue;
                }
                byTime.computeIfAbsent(at, t -> new ArrayList<>()).add(kv.value);
                kept++;
                // drop the oldest timestamp while the rest still hold n
                while (kept - byTime.firstEntry().getValue().size() >= n) {
                    kept -= byTime.pollFirstEntry().getValue().size();
                }
            }
        }
        List<AuditedOutcome> out = new ArrayList<>();
        byTime.values().forEach(list -> list.forEach(bytes -> {
            AuditedOutcome o = AuditedOutcome.decode(bytes);
            if (after == null || o.position().compareTo(after) > 0) {
                out.add(o);
            }
        }));
        out.sort(AuditedOutcome.NEWEST_FIRST);
        return out;
    }

    private static AuditedOutcome resolve(ReadOnlyWindowStore<String, byte[]> outcomes, OutcomeStores.Reference ref) {
        Instant at = Instant.ofEpochMilli(ref.position().epochMillis());
        try (WindowStoreIterator<byte[]> it = outcomes.fetch(ref.requestId(), at, at)) {
            while (it.hasNext()) {
                AuditedOutcome o = AuditedOutcome.decode(it.next().value);
                if (o.position().equals(ref.position())) {
                    return o;
                }
            }
        }
        return null; // the outcome's segment was dropped before its reference's
    }
}
