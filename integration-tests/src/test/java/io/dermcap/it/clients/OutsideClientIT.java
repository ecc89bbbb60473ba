package io.dermcap.it.clients;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dermcap.it.service.Lesions;
import io.dermcap.it.service.Outcomes;
import io.dermcap.it.service.ServiceScenario;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * dermcap seen from another team: a Node.js program (kafkajs + @kafkajs/confluent-schema-registry,
 * versions pinned by its package-lock.json, installed by the Maven build) registers the published
 * request schema in the real registry, produces requests and decodes the captions and failures of
 * a running service with the published schemas. Proves the wire format and the schemas with an
 * implementation that is not ours.
 */
class OutsideClientIT {

    private static final int IMAGES = 6;
    private static final Path CLIENT = Path.of(System.getProperty("dermcap.outside.client", "target/outside-client"));
    private static final Path PUBLISHED = Path.of(System.getProperty("dermcap.repo.root", ".."), "schemas", "published");

    @Test
    void aKafkajsClientRegistersProducesAndDecodes() throws Exception {
        assertThat(CLIENT.resolve("node_modules/kafkajs")).as("npm ci ran (mvn verify installs it)").isDirectory();
        try (ServiceScenario s = new ServiceScenario(2)) {
            s.startInProcess("outside", Map.of("serde.auto.register.schemas", "true"));
            String run = "node-" + s.id;
            List<Map<String, String>> images = new ArrayList<>();
            for (int i = 0; i < IMAGES; i++) {
                String key = run + "/" + i + ".png";
                String sha = s.putImage(key, Lesions.image(i));
                images.add(Map.of("uri", s.uri(key), "sha256", sha));
            }
            Map<String, Object> config = new LinkedHashMap<>();
            config.put("run", run);
            config.put("brokers", List.of(s.cluster.bootstrapServers()));
            config.put("registry", s.cluster.registryUrl().toString());
            config.put("topics", Map.of("requests", s.requests, "captions", s.captions, "failures", s.failures));
            config.put("schemaDir", PUBLISHED.toAbsolutePath().toString());
            config.put("images", images);
            config.put("missingUri", s.uri(run + "/no-such-image.png"));
            config.put("timeoutMs", 150_000);
            config.put("outDir", s.dir.toString());
            Path configFile = s.dir.resolve("outside-client.json");
            new ObjectMapper().writeValue(configFile.toFile(), config);

            ProcessBuilder pb = new ProcessBuilder("node", "outside-client.mjs", configFile.toString())
                    .directory(CLIENT.toFile()).redirectErrorStream(true);
            pb.environment().put("KAFKAJS_NO_PARTITIONER_WARNING", "1");
            Process node = pb.start();
            String output = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(node.waitFor(200, TimeUnit.SECONDS)).isTrue();
            System.out.print(output);
            assertThat(node.exitValue()).as("outside client:%n%s", output).isZero();

            String line = output.lines().filter(l -> l.startsWith("OUTSIDE-CLIENT-SUMMARY ")).findFirst().orElseThrow();
            JsonNode summary = new ObjectMapper().readTree(line.substring("OUTSIDE-CLIENT-SUMMARY ".length()));
            int records = IMAGES + 4; // + no requested_at, missing object, bad digest, not Avro
            assertThat(summary.get("records").asInt()).isEqualTo(records);
            assertThat(summary.get("outcomes").asInt()).isEqualTo(records);
            assertThat(summary.get("captions").asInt()).isEqualTo(IMAGES + 1);
            assertThat(summary.get("failures").asInt()).isEqualTo(3);
            assertThat(summary.at("/codes/OBJECT_MISSING").asInt()).isEqualTo(1);
            assertThat(summary.at("/codes/INVALID_REQUEST").asInt()).isEqualTo(1);
            assertThat(summary.at("/codes/UNDESERIALIZABLE_RECORD").asInt()).isEqualTo(1);
            assertThat(summary.at("/requestedAtSources/REQUEST").asInt()).isEqualTo(IMAGES);
            assertThat(summary.at("/requestedAtSources/RECORD_TIMESTAMP").asInt()).isEqualTo(1);
            assertThat(summary.get("problems")).isEmpty();

            // what the node client produced is what dermcap's own reader sees: one outcome each
            Outcomes out = s.awaitOutcomes(o -> o.distinctKeys() >= records, Duration.ofSeconds(30));
            assertThat(out.duplicated()).isEmpty();
            assertThat(Files.readString(s.dir.resolve("caption.json"))).contains("\"manifest_sha256\"", "\"batch\"");
            Path keep = Path.of("target", "outside-client-events");
            Files.createDirectories(keep);
            Files.copy(s.dir.resolve("caption.json"), keep.resolve("caption.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.copy(s.dir.resolve("failure.json"), keep.resolve("failure.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
