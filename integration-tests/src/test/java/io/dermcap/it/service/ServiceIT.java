package io.dermcap.it.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dermcap.events.CaptionEvent;
import io.dermcap.events.CaptionRequest;
import io.dermcap.events.ErrorCode;
import io.dermcap.events.FailureEvent;
import io.dermcap.registry.SchemaRegistryClient;
import io.dermcap.service.CaptionService;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;

import static org.assertj.core.api.Assertions.assertThat;

/** dermcap run against a real broker, S3 API server and registry, with the real engine on the tiny bundle. */
class ServiceIT {

    private static final Duration TIMEOUT = Duration.ofMinutes(3);

    @Test
    void everyRequestGetsOneCaptionWithFullLineageAndResolvableSchemaIds() throws Exception {
        try (ServiceScenario s = new ServiceScenario(2)) {
            CaptionService service = s.startInProcess("it-a", Map.of());
            int n = 12;
            List<CaptionRequest> requests = s.lesionRequests("lineage", n);
            s.send(requests);
            Outcomes out = s.awaitOutcomes(o -> o.distinctKeys() >= n, TIMEOUT);
            s.settle(Duration.ofSeconds(2));

            assertThat(out.failures()).isEmpty();
            assertThat(out.duplicated()).isEmpty();
            assertThat(out.captions()).hasSize(n);
            JsonNode manifest = new ObjectMapper().readTree(ServiceScenario.TINY_BUNDLE.resolve("manifest.json").toFile());
            Map<String, String> graphs = new HashMap<>();
            manifest.get("graphs").forEach(g -> graphs.put(g.get("file").asText(), g.get("sha256").asText()));
            Map<String, CaptionRequest> byId = new HashMap<>();
            requests.forEach(r -> byId.put(r.getRequestId(), r));
            for (CaptionEvent e : out.captions()) {
                CaptionRequest r = byId.get(e.getRequestId());
                assertThat(r).isNotNull();
                assertThat(e.getImageUri()).isEqualTo(r.getImageUri());
                assertThat(e.getImageSha256()).isEqualTo(r.getExpectedSha256());
                assertThat(e.getIds()).isEqualTo(r.getIds());
                assertThat(e.getRequestedAt()).isEqualTo(r.getRequestedAt());
                assertThat(e.getCaptionedAt()).isAfterOrEqualTo(e.getRequestedAt());
                assertThat(e.getTokenIds()).hasSize(e.getTokenCount()).isNotEmpty();
                assertThat(e.getCaption()).isNotNull();
                assertThat(e.getModel().getBundleName()).isEqualTo(manifest.get("name").asText());
                assertThat(e.getModel().getBundleVersion()).isEqualTo(manifest.get("version").asText());
                assertThat(e.getModel().getRandomWeights()).isTrue();
                assertThat(e.getModel().getGraphSha256()).isEqualTo(graphs);
                assertThat(e.getModel().getConfig().getSha256()).isEqualTo(manifest.at("/lineage/config/sha256").asText());
                assertThat(e.getModel().getOpset()).isEqualTo(manifest.at("/exporter/opset").asInt());
                assertThat(e.getModel().getExporterVersion()).isEqualTo(manifest.at("/exporter/version").asText());
                assertThat(e.getGeneration().getProfile()).isEqualTo(manifest.at("/generation/default_profile").asText());
                assertThat(e.getGeneration().getNumBeams()).isEqualTo(manifest.at("/generation/profiles/"
                        + e.getGeneration().getProfile() + "/num_beams").asInt());
                assertThat(e.getGeneration().getPrompt()).isEqualTo(manifest.at("/generation/prompt").asText());
                assertThat(e.getRuntime().getEngine()).isEqualTo("onnxruntime");
                assertThat(e.getRuntime().getExecutionProvider()).isEqualTo("CPU");
                assertThat(e.getRuntime().getInstanceId()).isEqualTo("it-a");
                assertThat(e.getRuntime().getBatchSize()).isBetween(1, 4);
                assertThat(e.getTimings().getDecodeMs()).isPositive();
                assertThat(e.getSource().getTopic()).isEqualTo(s.requests);
            }
            SchemaRegistryClient registry = s.registry();
            for (Outcomes.Outcome o : out.all()) {
                assertThat(registry.schemaById(o.schemaId())).isEqualTo(CaptionEvent.getClassSchema());
            }
            // at_least_once: each finished request's buffer entry is tombstoned once a commit followed its outcome
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!(s.liveBufferEntries(0).isEmpty() && s.liveBufferEntries(1).isEmpty())) {
                assertThat(System.nanoTime()).as("buffer entries left after every outcome").isLessThan(deadline);
                Thread.sleep(200);
            }
            HttpResponse<String> metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + service.opsPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(metrics.body())
                    .contains("dermcap_outcomes_total{code=\"none\",outcome=\"caption\"} " + n + ".0")
                    .contains("dermcap_model_batch_size_count")
                    .contains("dermcap_stage_seconds_count{stage=\"fetch\"} " + n)
                    .contains("kafka_stream_thread_process_total");
            HttpResponse<String> ready = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + service.opsPort() + "/health/ready")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(ready.statusCode()).isEqualTo(200);
        }
    }

    @Test
    void everyFailureCodeEndToEnd() throws Exception {
        try (ServiceScenario s = new ServiceScenario(1)) {
            int closedPort;
            try (ServerSocket socket = new ServerSocket(0)) {
                closedPort = socket.getLocalPort();
            }
            s.startInProcess("it-f", Map.of(
                    "storage.max.bytes", "300000",
                    "image.max.pixels", "4000000",
                    "storage.http.plain.allowed", "true",
                    "storage.https.hosts", "127.0.0.1",
                    "storage.https.address.classes", "LOOPBACK",
                    "storage.retry.max.attempts", "3",
                    "storage.retry.budget.ms", "2000"));
            String good = s.putImage("ok.png", Lesions.image(1));
            s.putImage("huge.bin", randomBytes(400_000));
            s.putImage("text.jpg", "this is not an image".getBytes(StandardCharsets.UTF_8));
            s.putImage("bomb.png", png(2500, 2500));

            CaptionRequest badSha = ServiceScenario.request("bad-sha", s.uri("ok.png"));
            badSha.setExpectedSha256("not-a-digest");
            CaptionRequest mismatch = ServiceScenario.request("mismatch", s.uri("ok.png"));
            mismatch.setExpectedSha256("0".repeat(64));
            CaptionRequest ok = ServiceScenario.request("ok", s.uri("ok.png"));
            ok.setExpectedSha256(good);
            s.send(List.of(
                    ServiceScenario.request("no-uri", ""),
                    badSha,
                    ServiceScenario.request("other-bucket", "s3://somebody-elses-bucket/x.png"),
                    ServiceScenario.request("file-disabled", "file:///etc/passwd"),
                    ServiceScenario.request("metadata", "http://169.254.169.254/latest/meta-data/"),
                    ServiceScenario.request("missing", s.uri("nope.png")),
                    ServiceScenario.request("refused", "http://127.0.0.1:" + closedPort + "/x.png"),
                    ServiceScenario.request("too-big", s.uri("huge.bin")),
                    ServiceScenario.request("bomb", s.uri("bomb.png")),
                    mismatch,
                    ServiceScenario.request("text", s.uri("text.jpg")),
                    ok));
            s.sendRaw("garbage", new byte[]{0, 0x7f, (byte) 0xff, (byte) 0xff, 0x01, 42, 42});
            Outcomes out = s.awaitOutcomes(o -> o.distinctKeys() >= 13, TIMEOUT);
            s.settle(Duration.ofSeconds(2));
            assertThat(out.duplicated()).isEmpty();

            Map<String, FailureEvent> f = new HashMap<>();
            out.all().stream().filter(o -> o.failure() != null).forEach(o -> f.put(o.key(), o.failure()));
            assertThat(f).hasSize(12);
            expect(f, "no-uri", ErrorCode.INVALID_REQUEST, "image_uri is empty");
            expect(f, "bad-sha", ErrorCode.INVALID_REQUEST, "expected_sha256");
            expect(f, "other-bucket", ErrorCode.URI_NOT_ALLOWED, "somebody-elses-bucket");
            expect(f, "file-disabled", ErrorCode.URI_NOT_ALLOWED, "file");
            expect(f, "metadata", ErrorCode.URI_NOT_ALLOWED, "169.254.169.254");
            expect(f, "missing", ErrorCode.OBJECT_MISSING, "nope.png");
            expect(f, "refused", ErrorCode.FETCH_FAILED, "127.0.0.1");
            assertThat(f.get("refused").getRetryable()).isTrue();
            assertThat(f.get("refused").getAttempts()).isGreaterThan(1);
            expect(f, "too-big", ErrorCode.TOO_LARGE, "300000");
            expect(f, "bomb", ErrorCode.TOO_LARGE, "pixels");
            expect(f, "mismatch", ErrorCode.INTEGRITY_MISMATCH, "0".repeat(64));
            expect(f, "text", ErrorCode.UNDECODABLE_IMAGE, "");
            expect(f, "garbage", ErrorCode.UNDESERIALIZABLE_RECORD, "UNKNOWN_SCHEMA_ID");
            assertThat(f.get("garbage").getRawValue().array()).containsExactly(0, 0x7f, 0xff, 0xff, 0x01, 42, 42);
            assertThat(f.get("garbage").getSource().getTopic()).isEqualTo(s.requests);
            assertThat(f.get("missing").getIds().getSourceSystem()).isEqualTo("dermcap-it");

            assertThat(out.captions()).singleElement().satisfies(c -> assertThat(c.getRequestId()).isEqualTo("ok"));
            for (Outcomes.Outcome o : out.all()) {
                assertThat(s.registry().schemaById(o.schemaId()))
                        .isEqualTo(o.caption() != null ? CaptionEvent.getClassSchema() : FailureEvent.getClassSchema());
            }
        }
    }

    private static void expect(Map<String, FailureEvent> failures, String key, ErrorCode code, String inMessage) {
        assertThat(failures).containsKey(key);
        FailureEvent e = failures.get(key);
        assertThat(e.getCode()).as(key + ": " + e.getMessage()).isEqualTo(code);
        assertThat(e.getMessage()).as(key).contains(inMessage);
        assertThat(e.getInstanceId()).isEqualTo("it-f");
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new Random(7).nextBytes(b);
        return b;
    }

    private static byte[] png(int w, int h) throws Exception {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }
}
