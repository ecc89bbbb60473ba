package io.dermcap.it.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dermcap.Sha256;
import io.dermcap.demo.Demo;
import io.dermcap.demo.HeldOutLesions;
import io.dermcap.events.CaptionEvent;
import io.dermcap.it.servers.TestServers;
import io.dermcap.it.service.ServiceScenario;
import io.dermcap.registry.HttpSchemaRegistryClient;
import io.dermcap.registry.RegistryClientConfig;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code dermcap demo}'s code path end to end: its own embedded servers, then the shared real ones. */
class DemoIT {

    private static final Pattern RUN = Pattern.compile("^dermcap demo ([0-9a-f]{6}):", Pattern.MULTILINE);
    private static final long SEED = 11;

    @Test
    void onItsEmbeddedServersEveryRequestGetsACaptionWithLineageAndEverythingIsRemoved() throws Exception {
        int n = 4;
        StringWriter text = new StringWriter();
        Demo.Result result = new Demo(settings(n, null, null, "dermcap-demo", null), new PrintWriter(text, true)).run();
        String out = text.toString();
        System.out.println(out);

        assertThat(result.exitCode()).as(out).isZero();
        List<CaptionEvent> captions = result.ledger().captions();
        assertThat(captions).hasSize(n);
        assertLineage(captions, runId(out), "demo");
        assertThat(out).contains("[" + n + "/" + n + "]", "TOY MODEL trained here on synthetic drawings", "attributes matched ",
                "requests    4 sent, 4 answered: 4 captions, 0 failures; 0 unanswered", "cleaned up");
        Matcher extracted = Pattern.compile("extracted to (\\S+)\\)").matcher(out);
        assertThat(extracted.find()).isTrue();
        assertThat(Path.of(extracted.group(1))).as("the temporary folder is deleted").doesNotExist();
        Matcher audit = Pattern.compile("audit page  (http://127\\.0\\.0\\.1:\\d+/)  token (\\S{32})  \\(one-off").matcher(out);
        assertThat(audit.find()).as("the audit page's address and one-off token are printed").isTrue();
        assertThat(out.split(Pattern.quote(audit.group(2)), -1)).as("the token is printed once").hasSize(2);
    }

    @Test
    void againstExistingServersItUsesThemAndDeletesWhatItCreated() throws Exception {
        TestServers servers = ServiceScenario.SERVERS;
        TestServers.S3Endpoint s3 = servers.s3();
        String bucket = "demo-it-" + UUID.randomUUID().toString().substring(0, 8);
        int n = 3;
        StringWriter text = new StringWriter();
        Demo.Result result = new Demo(settings(n, servers.bootstrapServers(),
                new Demo.ExternalS3(s3.endpoint(), s3.region(), s3.accessKey(), s3.secretKey()), bucket,
                servers.registryUrl().toString()), new PrintWriter(text, true)).run();
        String out = text.toString();
        System.out.println(out);

        assertThat(result.exitCode()).as(out).isZero();
        String run = runId(out);
        assertLineage(result.ledger().captions(), run, "demo");
        assertThat(result.ledger().captions()).hasSize(n)
                .allSatisfy(c -> assertThat(c.getSource().getTopic()).isEqualTo("dermcap-demo-" + run + "-image-requests"));

        // the registry that was named holds the subjects the service and the demo used
        var registry = new HttpSchemaRegistryClient(RegistryClientConfig.of(servers.registryUrl().toString()));
        assertThat(registry.latest("dermcap-demo-" + run + "-captions-value").schema()).isEqualTo(CaptionEvent.getClassSchema());
        // topics, internal topics, consumer group and bucket are gone
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", servers.bootstrapServers()))) {
            assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS)).noneMatch(t -> t.contains(run));
            assertThat(admin.listGroups().all().get(30, TimeUnit.SECONDS))
                    .noneMatch(g -> g.groupId().equals("dermcap-demo-" + run));
        }
        try (S3Client client = s3.client()) {
            assertThatThrownBy(() -> client.headBucket(b -> b.bucket(bucket))).isInstanceOf(NoSuchBucketException.class);
        }
    }

    @Test
    void whenOutcomesDoNotArriveInTimeItSaysWhichAndExitsNonZero() {
        // a batch that waits ten minutes for company: no outcome within the demo's 15 s
        Map<String, String> slow = Map.of("engine.threads", "1", "batch.max.size", "64", "batch.max.delay.ms", "600000");
        StringWriter text = new StringWriter();
        Demo.Result result = new Demo(new Demo.Settings(2, null, false, Duration.ofSeconds(15), null, null, "dermcap-demo",
                null, slow, SEED, 0, "WARN"), new PrintWriter(text, true)).run();
        String out = text.toString();
        System.out.println(out);

        assertThat(result.exitCode()).as(out).isEqualTo(1);
        assertThat(result.ledger().summary().missing()).hasSize(2);
        assertThat(out).contains("... 0/2 answered after", "unanswered  demo-", "FAILED: 2 requests without an outcome after 15 s",
                "cleaned up");
    }

    private static Demo.Settings settings(int n, String bootstrap, Demo.ExternalS3 s3, String bucket, String registry) {
        return new Demo.Settings(n, null, false, Duration.ofMinutes(3), bootstrap, s3, bucket, registry,
                Map.of("engine.threads", "1"), SEED, 0, "WARN");
    }

    private static String runId(String out) {
        Matcher m = RUN.matcher(out);
        assertThat(m.find()).as(out).isTrue();
        return m.group(1);
    }

    /** Each caption names its request, the exact bytes uploaded for it and the built-in bundle's full lineage. */
    private static void assertLineage(List<CaptionEvent> captions, String run, String instance) throws Exception {
        JsonNode manifest = new ObjectMapper().readTree(ServiceScenario.TOY_BUNDLE.resolve("manifest.json").toFile());
        Map<String, String> graphs = new HashMap<>();
        manifest.get("graphs").forEach(g -> graphs.put(g.get("file").asText(), g.get("sha256").asText()));
        for (CaptionEvent e : captions) {
            assertThat(e.getRequestId()).startsWith("demo-" + run + "-");
            int index = Integer.parseInt(e.getRequestId().substring(("demo-" + run + "-").length()));
            List<HeldOutLesions.Example> drawings = HeldOutLesions.builtIn().examples();
            byte[] uploaded = drawings.get((int) ((SEED + index) % drawings.size())).bytes();
            assertThat(e.getImageSha256()).isEqualTo(Sha256.of(uploaded));
            assertThat(e.getImageBytes()).isEqualTo(uploaded.length);
            assertThat(e.getCaption()).isNotBlank();
            assertThat(e.getTokenIds()).hasSize(e.getTokenCount()).isNotEmpty();
            assertThat(e.getModel().getBundleName()).isEqualTo(manifest.get("name").asText());
            assertThat(e.getModel().getBundleVersion()).isEqualTo(manifest.get("version").asText());
            assertThat(e.getModel().getRandomWeights()).isFalse();
            assertThat(e.getModel().getCheckpoint().getSha256()).isEqualTo(manifest.at("/lineage/checkpoint/sha256").asText());
            assertThat(e.getModel().getGraphSha256()).isEqualTo(graphs);
            assertThat(e.getModel().getConfig().getSha256()).isEqualTo(manifest.at("/lineage/config/sha256").asText());
            assertThat(e.getGeneration().getProfile()).isEqualTo(manifest.at("/generation/default_profile").asText());
            assertThat(e.getGeneration().getNumBeams()).isEqualTo(manifest.at("/generation/profiles/"
                    + e.getGeneration().getProfile() + "/num_beams").asInt());
            assertThat(e.getRuntime().getInstanceId()).isEqualTo(instance);
            assertThat(e.getRuntime().getBatchSize()).isBetween(1, 8);
            assertThat(e.getIds().getCorrelation()).containsEntry("demo_run", run);
        }
    }
}
