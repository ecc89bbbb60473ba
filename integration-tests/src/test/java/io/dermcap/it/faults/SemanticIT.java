package io.dermcap.it.faults;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dermcap.demo.CaptionScorer;
import io.dermcap.demo.HeldOutLesions;
import io.dermcap.events.CaptionRequest;
import io.dermcap.it.service.ChildService;
import io.dermcap.it.service.Outcomes;
import io.dermcap.it.service.ServiceScenario;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The captions mean something: the toy captioner (trained on synthetic drawings,
 * onnx-models/toy/bundle) captions its held-out drawings through the real service (broker, S3
 * API, registry), first one at a time (batches of one), then in a concurrent burst from three
 * producers (full batches), with a kill -9 of the service mid-burst. Every caption is read back
 * into attributes and scored against its own image's truth: the attribute accuracy must be at
 * least 95 %, and no caption may fit another request's image better than its own (a batch whose
 * outcomes went to the wrong request ids, a cache row mixed up between images, a channel swap)
 * unless the model says the same of that image alone ({@code dermcap caption}, one image per run):
 * a model's own mistake can happen to describe another drawing, a pipeline's mix-up cannot hide
 * behind that.
 */
class SemanticIT {

    private static final Duration TIMEOUT = Duration.ofMinutes(6);
    private static final double MIN_ACCURACY = 0.95;
    private static final int SINGLES = 4;
    private static final int PRODUCERS = 3;

    @Test
    void everyCaptionDescribesItsOwnImageThroughABurstAndAKill9() throws Exception {
        HeldOutLesions heldOut = HeldOutLesions.builtIn();
        CaptionScorer scorer = heldOut.scorer();
        long seed = FaultMode.seed();
        Random random = new Random(seed);
        try (ServiceScenario s = new ServiceScenario(2)) {
            s.config().put("bundle.dir", ServiceScenario.TOY_BUNDLE.toAbsolutePath().toString());
            Map<String, HeldOutLesions.Example> truth = new LinkedHashMap<>();
            List<CaptionRequest> requests = new ArrayList<>();
            for (HeldOutLesions.Example e : heldOut.examples()) {
                String key = "heldout/" + e.file();
                CaptionRequest r = ServiceScenario.request("semantic-" + e.file(), s.uri(key));
                r.setExpectedSha256(s.putImage(key, e.bytes()));
                requests.add(r);
                truth.put(r.getRequestId(), e);
            }
            List<String> keys = Traffic.keys(requests);
            Map<String, String> config = Map.of(
                    "kafka.processing.guarantee", "exactly_once_v2",
                    "kafka.group.instance.id", "semantic-" + s.id,
                    "batch.max.size", "8",
                    "batch.max.delay.ms", "150");
            ChildService child = s.startChild("semantic", config);
            child.awaitReady(TIMEOUT);

            for (CaptionRequest r : requests.subList(0, SINGLES)) {
                s.send(List.of(r));
                s.awaitOutcomes(o -> o.byKey().containsKey(r.getRequestId()), TIMEOUT);
            }
            List<CaptionRequest> burst = requests.subList(SINGLES, requests.size());
            ExecutorService producers = Executors.newFixedThreadPool(PRODUCERS);
            List<Future<?>> sent = new ArrayList<>();
            for (int p = 0; p < PRODUCERS; p++) {
                List<CaptionRequest> mine = new ArrayList<>();
                for (int i = p; i < burst.size(); i += PRODUCERS) {
                    mine.add(burst.get(i));
                }
                sent.add(producers.submit(() -> s.send(mine)));
            }
            for (Future<?> f : sent) {
                f.get();
            }
            producers.shutdown();
            int killAt = SINGLES + burst.size() / 3;
            s.awaitOutcomes(o -> o.distinctKeys() >= killAt, TIMEOUT);
            Thread.sleep(random.nextInt(400));
            child.kill();
            int killedAfter = s.outcomes().distinctKeys();
            child = s.startChild("semantic", config);

            Outcomes out = s.awaitOutcomes(o -> Audit.covered(o, keys), TIMEOUT);
            out = s.settle(Duration.ofSeconds(3));
            Audit.of("semantic", true, keys, out).assertHolds();
            assertThat(out.failures()).as("every held-out drawing is a valid image").isEmpty();
            TreeSet<Integer> batchSizes = new TreeSet<>();
            out.captions().forEach(c -> batchSizes.add(c.getRuntime().getBatchSize()));
            assertThat(batchSizes).as("batches of one and fuller batches").contains(1).anyMatch(n -> n > 1);

            Map<String, Map<String, String>> attributes = new LinkedHashMap<>();
            truth.forEach((id, e) -> attributes.put(id, e.attributes()));
            CaptionScorer.Tally tally = scorer.tally(attributes);
            out.captions().forEach(c -> tally.add(c.getRequestId(), c.getCaption()));
            Map<String, String> alone = captionsAlone();
            CaptionScorer.Tally model = scorer.tally(attributes);
            truth.forEach((id, e) -> model.add(id, alone.get(e.file())));
            List<String> pipeline = new ArrayList<>(tally.confusions());
            pipeline.removeAll(model.confusions());
            System.out.printf(Locale.ROOT, "[semantic] %d held-out drawings, seed %d, kill -9 after %d outcomes, batch sizes %s%n"
                    + "[semantic] attribute accuracy %.1f %% (%d/%d); per attribute %s; captions fitting another image better: %d"
                    + " (the model alone: %d)%n",
                    keys.size(), seed, killedAfter, batchSizes, 100 * tally.accuracy(), tally.matched(), tally.total(),
                    tally.perAttribute(), tally.confusions().size(), model.confusions().size());
            assertThat(tally.accuracy()).as("attribute accuracy; misses: %s", tally.misses())
                    .isGreaterThanOrEqualTo(MIN_ACCURACY);
            assertThat(pipeline).as("captions that fit another request's image better than their own, where the model "
                    + "alone does not").isEmpty();
            child.stop();
        }
    }

    /** file → the caption {@code dermcap caption} writes for the held-out drawing alone (batches of one). */
    private static Map<String, String> captionsAlone() throws Exception {
        Path root = Path.of(System.getProperty("dermcap.repo.root", "..")).toAbsolutePath().normalize();
        Path jar = root.resolve("streams-app/target/dermcap.jar");
        assertThat(jar).as("build it first: mvn -pl streams-app -am package -DskipTests").isRegularFile();
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                jar.toString(), "caption", "--bundle", ServiceScenario.TOY_BUNDLE.toAbsolutePath().toString(),
                "--batch-size", "1", root.resolve("onnx-models/toy/heldout").toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        Map<String, String> captions = new LinkedHashMap<>();
        ObjectMapper json = new ObjectMapper();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = lines.readLine()) != null; ) {
                JsonNode row = json.readTree(line);
                captions.put(Path.of(row.get("path").asText()).getFileName().toString(), row.path("caption").asText(""));
            }
        }
        assertThat(p.waitFor()).as("dermcap caption's exit status").isZero();
        return captions;
    }
}
