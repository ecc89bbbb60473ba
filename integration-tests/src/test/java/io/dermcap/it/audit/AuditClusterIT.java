package io.dermcap.it.audit;

import com.fasterxml.jackson.databind.JsonNode;
import io.dermcap.events.CaptionEvent;
import io.dermcap.events.CaptionRequest;
import io.dermcap.it.service.ChildService;
import io.dermcap.it.service.Lesions;
import io.dermcap.it.service.Outcomes;
import io.dermcap.it.service.ServiceScenario;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two service instances with the audit on, on the real broker: every request id is found from
 * either instance (the owner's stores, forwarded where needed), secondary lookups return every
 * match across both, and lookups keep answering while one instance is killed -9 (from the
 * standby replica) and after it restarts.
 */
class AuditClusterIT {

    private static final Duration TIMEOUT = Duration.ofMinutes(3);

    @Test
    void everyOutcomeIsFoundFromEitherInstanceAcrossAKill() throws Exception {
        try (ServiceScenario s = new ServiceScenario(4)) {
            int portA = AuditClient.freePort();
            int portB = AuditClient.freePort();
            Map<String, String> common = Map.of("kafka.num.standby.replicas", "1",
                    "kafka.session.timeout.ms", "10000", "audit.forward.timeout.ms", "2000");
            ChildService a = s.startChild("audit-a", with(common, AuditClient.settings(portA),
                    Map.of("audit.access.log", s.dir.resolve("access-a.log").toString())));
            ChildService b = s.startChild("audit-b", with(common, AuditClient.settings(portB),
                    Map.of("audit.access.log", s.dir.resolve("access-b.log").toString())));
            a.awaitReady(TIMEOUT);
            b.awaitReady(TIMEOUT);
            AuditClient viaA = new AuditClient(portA);
            AuditClient viaB = new AuditClient(portB);

            // 12 requests over 3 images and 3 cases (4 matches each), plus one that fails
            List<String> shas = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                shas.add(s.putImage("audit/" + i + ".img", Lesions.image(i)));
            }
            List<CaptionRequest> all = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                CaptionRequest r = ServiceScenario.request("audit-" + i, s.uri("audit/" + (i % 3) + ".img"));
                r.getIds().setCorrelation(Map.of("case", "case-" + (i % 3)));
                all.add(r);
            }
            all.add(ServiceScenario.request("audit-missing", s.uri("audit/none.img")));
            s.send(all);
            Outcomes out = s.awaitOutcomes(o -> o.distinctKeys() >= 13, TIMEOUT);
            Map<String, String> captions = new HashMap<>();
            for (CaptionEvent e : out.captions()) {
                captions.put(e.getRequestId(), e.getCaption().toString());
            }
            assertThat(captions).hasSize(12);

            for (AuditClient via : List.of(viaA, viaB)) {
                for (CaptionRequest r : all) {
                    JsonNode first = awaitFound(via, r.getRequestId().toString()).path("outcomes").get(0);
                    if (r.getRequestId().toString().equals("audit-missing")) {
                        assertThat(first.path("kind").asText()).isEqualTo("failure");
                        assertThat(first.path("event").path("code").asText()).isEqualTo("OBJECT_MISSING");
                    } else {
                        assertThat(first.path("event").path("caption").asText()).isEqualTo(captions.get(r.getRequestId().toString()));
                    }
                }
            }
            assertThat(Files.readString(s.dir.resolve("access-a.log")) + Files.readString(s.dir.resolve("access-b.log")))
                    .as("some lookups were forwarded to the owner").contains("scope=local");

            for (AuditClient via : List.of(viaA, viaB)) {
                for (int i = 0; i < 3; i++) {
                    assertThat(pageThrough(via, "image_sha256=" + shas.get(i))).as("image " + i)
                            .containsExactlyInAnyOrder("audit-" + i, "audit-" + (i + 3), "audit-" + (i + 6), "audit-" + (i + 9));
                    assertThat(pageThrough(via, "passthrough.correlation.case=case-" + i)).as("case " + i)
                            .containsExactlyInAnyOrder("audit-" + i, "audit-" + (i + 3), "audit-" + (i + 6), "audit-" + (i + 9));
                }
            }

            a.kill();
            Set<Integer> statuses = new HashSet<>();
            for (CaptionRequest r : all) {
                statuses.addAll(awaitFoundStatuses(viaB, r.getRequestId().toString()));
            }
            assertThat(statuses).as("while A is dead: found, or 503 with Retry-After while B takes over").isSubsetOf(200, 503);

            ChildService again = s.startChild("audit-a", with(common, AuditClient.settings(portA),
                    Map.of("audit.access.log", s.dir.resolve("access-a2.log").toString())));
            again.awaitReady(TIMEOUT);
            for (AuditClient via : List.of(viaA, viaB)) {
                for (CaptionRequest r : all) {
                    assertThat(awaitFound(via, r.getRequestId().toString()).path("outcomes")).isNotEmpty();
                }
                assertThat(pageThrough(via, "image_sha256=" + shas.get(0))).hasSize(4);
            }
            again.stop();
            b.stop();
        }
    }

    @SafeVarargs
    private static Map<String, String> with(Map<String, String>... maps) {
        Map<String, String> all = new HashMap<>();
        for (Map<String, String> m : maps) {
            all.putAll(m);
        }
        return all;
    }

    /** Request ids of every page of a secondary lookup, 3 at a time. */
    private static List<String> pageThrough(AuditClient via, String query) throws Exception {
        List<String> ids = new ArrayList<>();
        String cursor = null;
        for (int page = 0; page < 10; page++) {
            AuditClient.Answer a = awaitOk(via, "/v1/outcomes?" + query + "&limit=3" + (cursor == null ? "" : "&cursor=" + cursor));
            a.body().path("outcomes").forEach(o -> ids.add(o.path("event").path("request_id").asText()));
            cursor = a.body().path("next_cursor").isTextual() ? a.body().path("next_cursor").asText() : null;
            if (cursor == null) {
                return ids;
            }
        }
        throw new AssertionError("more than 10 pages for " + query);
    }

    private static JsonNode awaitFound(AuditClient via, String requestId) throws Exception {
        return awaitOk(via, "/v1/outcomes/" + requestId).body();
    }

    /** Retries 503s (each must carry Retry-After) until 200; anything else fails. */
    private static AuditClient.Answer awaitOk(AuditClient via, String path) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            AuditClient.Answer a = via.get(path);
            if (a.status() == 200) {
                return a;
            }
            assertThat(a.status()).as(path + ": " + a.body()).isEqualTo(503);
            assertThat(a.retryAfter()).isNotNull();
            assertThat(System.nanoTime()).as("found within " + TIMEOUT + ": " + path).isLessThan(deadline);
            Thread.sleep(1000L * Integer.parseInt(a.retryAfter()));
        }
    }

    private static Set<Integer> awaitFoundStatuses(AuditClient via, String requestId) throws Exception {
        Set<Integer> seen = new HashSet<>();
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            AuditClient.Answer a = via.outcomes(requestId);
            seen.add(a.status());
            if (a.status() == 200) {
                return seen;
            }
            assertThat(a.retryAfter()).as(requestId + " " + a.status()).isNotNull();
            assertThat(System.nanoTime()).as("found within " + TIMEOUT).isLessThan(deadline);
            Thread.sleep(1000);
        }
    }
}
