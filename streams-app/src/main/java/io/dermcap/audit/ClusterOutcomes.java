package io.dermcap.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dermcap.topology.AuditedOutcome;
import io.dermcap.topology.OutcomeStores;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Lookups across the consumer group. A request id lives in the task of its input partition: Kafka
 * Streams' key metadata names the instance that owns it (its {@code application.server}), which is
 * asked, or this one when it is the owner; an owner that does not answer within the forward
 * timeout is replaced by a standby replica's (possibly a little stale) answer, and without one
 * the lookup is unavailable. Secondary lookups and the latest list ask every instance for its
 * active partitions' first page and merge them; they are unavailable unless every partition has
 * an active owner that answered. A peer is asked with the caller's credentials and the header
 * {@value #SCOPE} so it answers from its own stores.
 */
public final class ClusterOutcomes implements OutcomeLookup, AuditServer.Backend {

    /** The header that makes an instance answer from its local stores only. */
    public static final String SCOPE = "X-Dermcap-Scope";
    static final String LOCAL = "local";
    static final String LOCAL_STALE = "local-stale";

    private static final Logger log = LoggerFactory.getLogger(ClusterOutcomes.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final KafkaStreams streams;
    private final HostInfo self;
    private final String scheme;
    private final HttpClient http;
    private final Duration timeout;
    private final LocalOutcomes local;
    private final String passthrough;

    /** @param passthrough the indexed passthrough field's name, or null */
    public ClusterOutcomes(KafkaStreams streams, HostInfo self, SSLContext tls, Duration timeout, String passthrough) {
        this.streams = streams;
        this.passthrough = passthrough;
        this.self = self;
        this.scheme = tls == null ? "http" : "https";
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(timeout);
        if (tls != null) {
            b.sslContext(tls);
        }
        this.http = b.build();
        this.timeout = timeout;
        this.local = new LocalOutcomes(new StreamsStores(streams));
    }

    /**
     * Answers from this instance's stores only, for another instance's {@value #SCOPE} request:
     * a request id from its partition's store (a standby's when {@code stale}).
     */
    @Override
    public OutcomeLookup cluster() {
        return this;
    }

    @Override
    public OutcomeLookup local(boolean stale) {
        return new OutcomeLookup() {
            @Override
            public List<ObjectNode> byRequest(String requestId, String authorization) throws Unavailable {
                return local.byRequest(requestId, metadata(requestId).partition(), stale);
            }

            @Override
            public Page byIndex(Index index, String value, AuditedOutcome.Position after, int limit, String authorization)
                    throws Unavailable {
                return local.byIndex(index, value, after, limit);
            }

            @Override
            public Page latest(AuditedOutcome.Position after, int limit, String authorization) throws Unavailable {
                return local.latest(after, limit);
            }
        };
    }

    @Override
    public List<ObjectNode> byRequest(String requestId, String authorization) throws Unavailable {
        KeyQueryMetadata md = metadata(requestId);
        String path = "/v1/outcomes/" + encode(requestId);
        Unavailable first = null;
        List<HostInfo> owners = new ArrayList<>();
        owners.add(md.activeHost());
        owners.addAll(md.standbyHosts());
        for (HostInfo host : owners) {
            boolean stale = !host.equals(md.activeHost());
            try {
                return host.equals(self) ? local.byRequest(requestId, md.partition(), stale)
                        : outcomes(ask(host, path, stale ? LOCAL_STALE : LOCAL, authorization));
            } catch (Unavailable e) {
                if (first == null) {
                    first = e;
                    log.info("event=audit_owner_unavailable partition={} standbys={}", md.partition(), md.standbyHosts().size());
                }
            }
        }
        throw first;
    }

    @Override
    public Page byIndex(Index index, String value, AuditedOutcome.Position after, int limit, String authorization)
            throws Unavailable {
        String param = index == Index.IMAGE ? "image_sha256" : "passthrough." + passthrough;
        return fanOut("/v1/outcomes?" + param + "=" + encode(value) + "&", after, limit, authorization,
                () -> local.byIndex(index, value, after, limit));
    }

    @Override
    public Page latest(AuditedOutcome.Position after, int limit, String authorization) throws Unavailable {
        return fanOut("/v1/latest?", after, limit, authorization, () -> local.latest(after, limit));
    }

    private interface LocalPage {
        Page get() throws Unavailable;
    }

    /** Every instance's first page (its active partitions only, so nothing twice), merged. */
    private Page fanOut(String pathAndQuery, AuditedOutcome.Position after, int limit, String authorization,
                        LocalPage mine) throws Unavailable {
        if (streams.state() != KafkaStreams.State.RUNNING) {
            throw new Unavailable("the streams are " + streams.state() + "; a lookup on every instance waits for RUNNING");
        }
        String peerPath = pathAndQuery + "limit=" + limit + (after == null ? "" : "&cursor=" + after);
        List<Page> pages = new ArrayList<>();
        for (StreamsMetadata m : streams.streamsMetadataForStore(OutcomeStores.BY_REQUEST)) {
            if (m.topicPartitions().isEmpty()) {
                continue;
            }
            pages.add(m.hostInfo().equals(self) ? mine.get() : page(ask(m.hostInfo(), peerPath, LOCAL, authorization)));
        }
        return Page.merge(pages, limit);
    }

    private KeyQueryMetadata metadata(String requestId) throws Unavailable {
        requireRunning();
        KeyQueryMetadata md = streams.queryMetadataForKey(OutcomeStores.BY_REQUEST, requestId, new StringSerializer());
        if (md == null || md.equals(KeyQueryMetadata.NOT_AVAILABLE) || md.activeHost() == null) {
            throw new Unavailable("no instance owns the request's partition yet (rebalancing)");
        }
        return md;
    }

    private void requireRunning() throws Unavailable {
        KafkaStreams.State state = streams.state();
        if (state != KafkaStreams.State.RUNNING && state != KafkaStreams.State.REBALANCING) {
            throw new Unavailable("the streams are " + state);
        }
    }

    private JsonNode ask(HostInfo host, String pathAndQuery, String scope, String authorization) throws Unavailable {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(scheme + "://" + host.host() + ":" + host.port() + pathAndQuery))
                .timeout(timeout).header(SCOPE, scope);
        if (authorization != null) {
            r.header("Authorization", authorization);
        }
        try {
            HttpResponse<String> response = http.send(r.GET().build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new Unavailable("instance " + host + " answered " + response.statusCode());
            }
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new Unavailable("instance " + host + " did not answer: " + e.getClass().getSimpleName());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Unavailable("interrupted while asking " + host);
        }
    }

    private static List<ObjectNode> outcomes(JsonNode body) {
        List<ObjectNode> out = new ArrayList<>();
        body.path("outcomes").forEach(n -> out.add((ObjectNode) n));
        return out;
    }

    private static Page page(JsonNode body) {
        JsonNode next = body.path("next_cursor");
        return new Page(outcomes(body), next.isTextual() ? next.asText() : null);
    }

    static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** The stores through Kafka Streams' interactive queries. */
    private static final class StreamsStores implements LocalOutcomes.Stores {
        private final KafkaStreams streams;

        StreamsStores(KafkaStreams streams) {
            this.streams = streams;
        }

        @Override
        public ReadOnlyWindowStore<String, byte[]> store(String name, Integer partition, boolean stale) throws Unavailable {
            StoreQueryParameters<ReadOnlyWindowStore<String, byte[]>> q =
                    StoreQueryParameters.fromNameAndType(name, QueryableStoreTypes.windowStore());
            if (partition != null) {
                q = q.withPartition(partition);
            }
            if (stale) {
                q = q.enableStaleStores();
            }
            try {
                return streams.store(q);
            } catch (InvalidStateStoreException e) {
                throw new Unavailable("the audit store is not queryable here now (" + e.getClass().getSimpleName() + ")");
            }
        }

        @Override
        public List<Integer> partitions() {
            List<Integer> out = new ArrayList<>();
            streams.metadataForLocalThreads().forEach(t -> t.activeTasks().forEach(task -> out.add(task.taskId().partition())));
            return out;
        }
    }
}
