package io.dermcap.audit;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dermcap.topology.AuditedOutcome;
import io.dermcap.topology.OutcomeStores;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

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

    private final Stores stores;

    public LocalOutcomes(Stores stores) {
        this.stores = stores;
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
            List<AuditedOutcome> found = new ArrayList<>();
            boolean more = false;
            try (WindowStoreIterator<byte[]> it = stores.store(index.store, p, false).backwardFetch(value, Instant.EPOCH, to)) {
                while (it.hasNext()) {
                    OutcomeStores.Reference ref = OutcomeStores.reference(it.next().value);
                    if (after != null && ref.position().compareTo(after) <= 0) {
                        continue;
                    }
                    // the store orders by time, and outcomes of one millisecond by arrival: read the
                    // whole last millisecond before cutting, so the cut follows the position order
                    if (found.size() >= limit && ref.position().epochMillis() < found.get(found.size() - 1).position().epochMillis()) {
                        more = true;
                        break;
                    }
                    AuditedOutcome o = resolve(outcomes, ref);
                    if (o != null) {
                        found.add(o);
                    }
                }
            }
            found.sort(AuditedOutcome.NEWEST_FIRST);
            more |= found.size() > limit;
            pages.add(new Page(found.stream().limit(limit).map(OutcomeJson::outcome).toList(), more ? "more" : null));
        }
        return Page.merge(pages, limit);
    }

    /** The newest outcomes: the time index, whose one key a window store iterates newest first. */
    public Page latest(AuditedOutcome.Position after, int limit) throws Unavailable {
        return byIndex(Index.TIME, OutcomeStores.TIME_KEY, after, limit);
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
