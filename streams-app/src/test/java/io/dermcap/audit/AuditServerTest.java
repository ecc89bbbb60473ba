package io.dermcap.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dermcap.events.CaptionEvent;
import io.dermcap.events.ErrorCode;
import io.dermcap.image.ImageLimits;
import io.dermcap.testing.TestDefaults;
import io.dermcap.storage.FetchException;
import io.dermcap.storage.FetchedObject;
import io.dermcap.storage.ObjectFetcher;
import io.dermcap.testing.SampleOutcomes;
import io.dermcap.topology.OutcomeStores;
import org.apache.avro.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The audit endpoint over HTTP, on stores filled through the indexer (TopologyTestDriver). */
class AuditServerTest {

    private static final String TOKEN = "t0ken-for-the-audit-test-0123456789";
    private static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");
    private static final String SHA = "ef".repeat(32);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private final SampleOutcomes stores = new SampleOutcomes(new OutcomeStores.Options(Duration.ofDays(7),
            new OutcomeStores.PassthroughField("correlation.accession")));
    private final HttpClient http = HttpClient.newHttpClient();
    private AuditServer server;
    private Path accessLog;

    private AuditServer start(int perMinute) {
        byte[] salt = "salty-salt-16byt".getBytes(StandardCharsets.US_ASCII);
        String pbkdf2 = "bob pbkdf2-sha256:10000:" + Base64.getEncoder().encodeToString(salt) + ":"
                + Base64.getEncoder().encodeToString(Credentials.pbkdf2("bob's password", salt, 10_000, 32));
        accessLog = dir.resolve("access.log");
        AuditOptions options = new AuditOptions("127.0.0.1", 0, "127.0.0.1",
                Credentials.parse(Credentials.sha256Entry("alice", TOKEN) + "\n" + pbkdf2), null, Duration.ofSeconds(2),
                perMinute, accessLog, new OutcomeStores.Options(Duration.ofDays(7),
                new OutcomeStores.PassthroughField("correlation.accession")));
        ObjectFetcher images = new ObjectFetcher() {
            @Override
            public FetchedObject fetch(String uri, String expectedSha256) throws FetchException {
                throw new FetchException(FetchException.Reason.OBJECT_MISSING, false, 1, "none here", null);
            }

            @Override
            public void close() {
            }
        };
        server = AuditServer.start(options, images, TestDefaults.IMAGE_LIMITS, "test-instance");
        return server;
    }

    private void attach() {
        server.attach(AuditServer.Backend.of(new LocalOutcomes(stores.localStores())));
    }

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
        stores.close();
    }

    private HttpResponse<String> get(String path, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return get(path, "Bearer " + TOKEN);
    }

    @Test
    void aRequestIdGivesEveryOutcomeNewestFirstWithEveryEventField() throws Exception {
        start(600);
        attach();
        stores.add(SampleOutcomes.caption("req-1", "a red <b>papule</b>", SHA, "ACC-1", T0, 0, 5));
        stores.add(SampleOutcomes.caption("req-1", "a red papule again", SHA, "ACC-1", T0.plusSeconds(60), 0, 9));

        HttpResponse<String> r = get("/v1/outcomes/req-1");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json; charset=utf-8");
        JsonNode body = JSON.readTree(r.body());
        assertThat(body.path("request_id").asText()).isEqualTo("req-1");
        JsonNode outcomes = body.path("outcomes");
        assertThat(outcomes).hasSize(2);
        assertThat(outcomes.get(0).path("position").asText()).isEqualTo(T0.plusSeconds(60).toEpochMilli() + "-0-9");
        JsonNode event = outcomes.get(1).path("event");
        assertThat(outcomes.get(1).path("kind").asText()).isEqualTo("caption");
        assertThat(event.path("caption").asText()).isEqualTo("a red <b>papule</b>");
        assertThat(event.path("captioned_at").asText()).isEqualTo("2026-03-01T10:00:00Z");
        assertThat(event.path("finish_reason").asText()).isEqualTo("EOS");
        assertThat(event.path("model").path("graph_sha256").path("vision_encoder").asText()).isEqualTo("cd".repeat(32));
        assertThat(event.path("model").path("checkpoint").path("sha256").asText()).isEqualTo("ab".repeat(32));
        assertThat(event.path("source").path("offset").asLong()).isEqualTo(5);
        assertThat(event.path("ids").path("correlation").path("accession").asText()).isEqualTo("ACC-1");
        // generic over the schema: every field of the record is there under its Avro name
        List<String> names = CaptionEvent.getClassSchema().getFields().stream().map(Schema.Field::name).toList();
        assertThat(iterable(event.fieldNames())).containsExactlyElementsOf(names);
    }

    @Test
    void failuresShowTheirCodeAndUnknownIdsAre404() throws Exception {
        start(600);
        attach();
        stores.add(SampleOutcomes.failure("bad-1", ErrorCode.OBJECT_MISSING, "s3://images/x.jpg: no such object", T0, 1, 3));
        JsonNode body = JSON.readTree(get("/v1/outcomes/bad-1").body());
        assertThat(body.path("outcomes").get(0).path("kind").asText()).isEqualTo("failure");
        assertThat(body.path("outcomes").get(0).path("event").path("code").asText()).isEqualTo("OBJECT_MISSING");
        assertThat(body.path("outcomes").get(0).path("event").path("failed_at").asText()).isEqualTo("2026-03-01T10:00:00Z");

        HttpResponse<String> missing = get("/v1/outcomes/never-seen");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(missing.body()).path("error").asText()).isEqualTo("not_found");
    }

    @Test
    void beforeTheStoresAreThereLookupsAre503WithRetryAfter() throws Exception {
        start(600);
        HttpResponse<String> r = get("/v1/outcomes/req-1");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.headers().firstValue("Retry-After")).hasValue("2");
    }

    @Test
    void secondaryLookupsPageThroughEveryMatchOnce() throws Exception {
        start(600);
        attach();
        Set<String> expected = new HashSet<>();
        for (int i = 0; i < 7; i++) {
            // pairs of outcomes in the same millisecond, stored against their position order: the
            // position (time, partition, offset) still orders and pages them
            stores.add(SampleOutcomes.caption("img-" + i, "c" + i, SHA, "ACC-SHARED", T0.plusSeconds(i / 2), 0, 100 - i));
            expected.add("img-" + i);
        }
        stores.add(SampleOutcomes.caption("other", "c", "01".repeat(32), "ACC-OTHER", T0, 0, 100));
        for (String query : List.of("image_sha256=" + SHA, "passthrough.correlation.accession=ACC-SHARED")) {
            List<String> seen = new ArrayList<>();
            List<String> positions = new ArrayList<>();
            String cursor = null;
            int pages = 0;
            do {
                JsonNode body = JSON.readTree(get("/v1/outcomes?" + query + "&limit=3" + (cursor == null ? "" : "&cursor=" + cursor)).body());
                body.path("outcomes").forEach(o -> {
                    seen.add(o.path("event").path("request_id").asText());
                    positions.add(o.path("position").asText());
                });
                cursor = body.path("next_cursor").isNull() ? null : body.path("next_cursor").asText();
                pages++;
            } while (cursor != null && pages < 10);
            assertThat(seen).as(query).hasSize(7).containsExactlyInAnyOrderElementsOf(expected);
            assertThat(seen.get(0)).isEqualTo("img-6");
            assertThat(pages).isEqualTo(3);
            List<String> sorted = new ArrayList<>(positions);
            sorted.sort(java.util.Comparator.comparing(p -> io.dermcap.topology.AuditedOutcome.Position.parse(p)));
            assertThat(positions).as("newest first").isEqualTo(sorted);
        }
        JsonNode latest = JSON.readTree(get("/v1/latest?limit=2").body());
        assertThat(latest.path("outcomes")).hasSize(2);
        assertThat(latest.path("outcomes").get(0).path("event").path("request_id").asText()).isEqualTo("img-6");
    }

    @Test
    void withoutTheRightCredentialsThereIsNoData() throws Exception {
        start(600);
        attach();
        stores.add(SampleOutcomes.caption("req-1", "secret caption", SHA, "ACC-1", T0, 0, 5));
        for (String auth : new String[] {null, "Bearer wrong-token", "Bearer ", "Basic " + b64("alice:" + TOKEN + "x"),
                "Basic " + b64("bob:wrong"), "Basic !!!", "Digest x"}) {
            HttpResponse<String> r = get("/v1/outcomes/req-1", auth);
            assertThat(r.statusCode()).as(String.valueOf(auth)).isEqualTo(401);
            assertThat(r.body()).doesNotContain("secret caption", "req-1", "ACC-1");
            assertThat(r.headers().firstValue("WWW-Authenticate")).isPresent();
        }
        assertThat(get("/v1/outcomes/req-1", "Basic " + b64("bob:bob's password")).statusCode()).isEqualTo(200);
        assertThat(get("/v1/outcomes/req-1", "bearer " + TOKEN).statusCode()).isEqualTo(200);
        String log = Files.readString(accessLog);
        assertThat(log).contains("client=bob", "client=alice", "route=request_id key=req-1 ", "status=401", "status=200")
                .doesNotContain("secret caption", TOKEN);
    }

    @Test
    void hostileLookupsGetAClear4xxAndTheServiceCarriesOn() throws Exception {
        start(600);
        attach();
        stores.add(SampleOutcomes.caption("req-1", "fine", SHA, "ACC-1", T0, 0, 5));
        String[][] cases = {
                {"/v1/outcomes/" + "x".repeat(300), "400", "1 to 256 characters"},
                {"/v1/outcomes/" + "%41".repeat(300), "400", "longer than"},
                {"/v1/outcomes/..%2F..%2Fetc%2Fpasswd", "400", "cannot contain"},
                {"/v1/outcomes/..", "400", "cannot contain"},
                {"/v1/outcomes/a/b/c", "400", "one path segment"},
                {"/v1/outcomes/a%00b", "400", "control characters"},
                {"/v1/outcomes/a%C3%28", "400", "not UTF-8"},
                {"/v1/outcomes/req-1?debug=true", "400", "unknown parameter 'debug'"},
                {"/v1/outcomes?image_sha256=" + SHA + "&limit=100000", "400", "limit must be"},
                {"/v1/outcomes?image_sha256=" + SHA + "&limit=-1", "400", "limit must be"},
                {"/v1/outcomes?image_sha256=" + SHA + "&cursor=1;DROP", "400", "cursor"},
                {"/v1/outcomes?image_sha256=../../x", "400", "64 lower-case hex"},
                {"/v1/outcomes?image_sha256=" + SHA + "&image_sha256=" + SHA, "400", "twice"},
                {"/v1/outcomes?passthrough.study_instance_uid=1.2", "400", "is not indexed"},
                {"/v1/outcomes", "400", "exactly one"},
                {"/v1/latest?limit=99999999999999999999", "400", "limit must be"},
                {"/v1/../../etc/passwd", "404", "no such API path"},
                {"/etc/passwd", "404", "no such page"},
                {"/v1/outcomes/req-1?" + "a=1&".repeat(20), "400", "too many parameters"},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = get(c[0]);
            assertThat(r.statusCode()).as(c[0]).isEqualTo(Integer.parseInt(c[1]));
            JsonNode body = JSON.readTree(r.body());
            assertThat(body.path("message").asText()).as(c[0]).contains(c[2]);
            assertThat(r.body()).as(c[0]).doesNotContain("Exception", "\tat ", "io.dermcap.");
        }
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                + "/v1/outcomes/req-1")).header("Authorization", "Bearer " + TOKEN)
                .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(get("/v1/outcomes/" + "x".repeat(5000)).statusCode()).isEqualTo(414);
        String raw = raw("/v1/outcomes/a%zz");
        // refused by the JDK's server before any handler runs: a 400 naming the exception, no trace
        assertThat(raw).startsWith("HTTP/1.1 400").doesNotContain("\tat ", "io.dermcap");
        assertThat(get("/v1/outcomes/req-1").statusCode()).as("still serving").isEqualTo(200);
    }

    @Test
    void eachClientHasARateLimit() throws Exception {
        start(5);
        attach();
        for (int i = 0; i < 5; i++) {
            assertThat(get("/v1/latest").statusCode()).isEqualTo(200);
        }
        HttpResponse<String> over = get("/v1/latest");
        assertThat(over.statusCode()).isEqualTo(429);
        assertThat(over.headers().firstValue("Retry-After")).isPresent();
        assertThat(get("/v1/latest", "Basic " + b64("bob:bob's password")).statusCode()).as("another client").isEqualTo(200);
    }

    @Test
    void thePageHasNoDataAndAStrictContentSecurityPolicy() throws Exception {
        start(600);
        HttpResponse<String> page = get("/", null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow()).contains("script-src 'self'")
                .doesNotContain("unsafe-inline");
        assertThat(page.body()).contains("<script src=\"/audit.js\"");
        assertThat(get("/audit.js", null).body()).contains("textContent").doesNotContain("innerHTML");
    }

    /** A request the JDK's client would refuse to send. */
    private String raw(String path) throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.port())) {
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + TOKEN
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static <T> List<T> iterable(java.util.Iterator<T> it) {
        List<T> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }
}
