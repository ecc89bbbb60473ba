package io.dermcap.topology;

import io.dermcap.events.CaptionRequest;
import io.dermcap.events.ErrorCode;
import io.dermcap.events.FailureEvent;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The audit stores on the real topology (TopologyTestDriver, fake engine and fetcher). */
class OutcomeStoresTest {

    private static final Duration RETENTION = Duration.ofMinutes(10);
    private final TopologyHarness h = new TopologyHarness(TopologyHarness.SMALL, null, TopologyHarness.testSerdes(),
            new OutcomeStores.Options(RETENTION, new OutcomeStores.PassthroughField("correlation.order")));

    @AfterEach
    void close() {
        h.close();
    }

    @Test
    void everyOutcomeLandsInTheStoreAndBothIndexes() {
        int n = 6;
        List<String> shas = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String uri = "s3://images/lesion-" + i + ".jpg";
            shas.add(h.fetcher.put(uri, i));
            h.requests.pipeInput("req-" + i, TopologyHarness.request("req-" + i, uri));
        }
        h.requests.pipeInput("missing", TopologyHarness.request("missing", "s3://images/none.jpg"));
        h.awaitOutcomes(n + 1);
        assertThat(h.captionsSeen).as("the sinks still get every event").hasSize(n);
        assertThat(h.failuresSeen).hasSize(1);

        for (int i = 0; i < n; i++) {
            String id = "req-" + i;
            List<AuditedOutcome> got = outcomes(id);
            assertThat(got).hasSize(1);
            assertThat(got.get(0).failed()).isFalse();
            assertThat(got.get(0).event()).isEqualTo(h.captionsSeen.stream().filter(kv -> kv.key.equals(id))
                    .findFirst().orElseThrow().value);
            assertThat(references(OutcomeStores.BY_IMAGE, shas.get(i))).extracting(OutcomeStores.Reference::requestId)
                    .containsExactly("req-" + i);
            assertThat(references(OutcomeStores.BY_PASSTHROUGH, "ORD-req-" + i))
                    .containsExactly(new OutcomeStores.Reference("req-" + i, got.get(0).position()));
        }
        List<AuditedOutcome> failed = outcomes("missing");
        assertThat(failed).hasSize(1);
        assertThat(((FailureEvent) failed.get(0).event()).getCode()).isEqualTo(ErrorCode.OBJECT_MISSING);
        assertThat(references(OutcomeStores.BY_PASSTHROUGH, "ORD-missing")).hasSize(1);
        List<OutcomeStores.Reference> latest = references(OutcomeStores.BY_TIME, OutcomeStores.TIME_KEY);
        assertThat(latest).as("the time index holds every outcome, newest first").hasSize(n + 1);
        assertThat(latest).extracting(r -> -r.position().epochMillis()).isSorted();
    }

    @Test
    void repeatsOfARequestAreAllKeptNewestFirst() {
        String uri = "s3://images/repeat.jpg";
        String sha = h.fetcher.put(uri, 7);
        CaptionRequest r = TopologyHarness.request("again", uri);
        h.requests.pipeInput("again", r);
        h.awaitOutcomes(1);
        h.tick(Duration.ofSeconds(5));
        h.requests.pipeInput("again", r);
        h.awaitOutcomes(2);

        List<AuditedOutcome> got = outcomes("again");
        assertThat(got).hasSize(2);
        assertThat(got.get(0).source().getOffset()).as("newest first").isEqualTo(1);
        assertThat(got.get(1).source().getOffset()).isEqualTo(0);
        assertThat(got.get(0).at()).isAfter(got.get(1).at());
        assertThat(references(OutcomeStores.BY_IMAGE, sha)).hasSize(2);
    }

    @Test
    void retentionDropsOldEntries() {
        String uri = "s3://images/old.jpg";
        String sha = h.fetcher.put(uri, 1);
        h.requests.pipeInput("old", TopologyHarness.request("old", uri));
        h.awaitOutcomes(1);
        assertThat(outcomes("old")).hasSize(1);

        // stream time moves on with later outcomes; segments past retention (plus one segment) go
        h.tick(RETENTION.multipliedBy(3));
        h.fetcher.put("s3://images/new.jpg", 2);
        h.requests.pipeInput("new", TopologyHarness.request("new", "s3://images/new.jpg"));
        h.awaitOutcomes(2);

        assertThat(outcomes("new")).hasSize(1);
        assertThat(outcomes("old")).as("dropped after the retention").isEmpty();
        assertThat(references(OutcomeStores.BY_IMAGE, sha)).isEmpty();
        assertThat(references(OutcomeStores.BY_PASSTHROUGH, "ORD-old")).isEmpty();
        assertThat(references(OutcomeStores.BY_TIME, OutcomeStores.TIME_KEY)).extracting(OutcomeStores.Reference::requestId)
                .containsExactly("new");
    }

    private List<AuditedOutcome> outcomes(String requestId) {
        WindowStore<String, byte[]> store = h.driver.getWindowStore(OutcomeStores.BY_REQUEST);
        List<AuditedOutcome> out = new ArrayList<>();
        try (WindowStoreIterator<byte[]> it = store.backwardFetch(requestId, Instant.EPOCH, Instant.ofEpochMilli(Long.MAX_VALUE))) {
            it.forEachRemaining(kv -> out.add(AuditedOutcome.decode(kv.value)));
        }
        return out;
    }

    private List<OutcomeStores.Reference> references(String storeName, String key) {
        WindowStore<String, byte[]> store = h.driver.getWindowStore(storeName);
        List<OutcomeStores.Reference> out = new ArrayList<>();
        try (WindowStoreIterator<byte[]> it = store.backwardFetch(key, Instant.EPOCH, Instant.ofEpochMilli(Long.MAX_VALUE))) {
            it.forEachRemaining((KeyValue<Long, byte[]> kv) -> out.add(OutcomeStores.reference(kv.value)));
        }
        return out;
    }
}
