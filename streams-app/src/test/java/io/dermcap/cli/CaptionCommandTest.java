package io.dermcap.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dermcap.TestPaths;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class CaptionCommandTest {

    private static final Path TINY = TestPaths.fixtures().resolve("tiny-bundle");
    private static final Path IMAGES = TestPaths.fixtures().resolve("parity/images");

    @TempDir
    Path tmp;

    record Run(int exit, List<String> stdout, String stderr) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new Run(exit, out.toString().lines().toList(), err.toString());
    }

    @Test
    void oneJsonLinePerImageAndAClearErrorPerBadFileWithoutStopping() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("images"));
        Files.copy(IMAGES.resolve("rgb.bmp"), dir.resolve("a-good.bmp"));
        Files.write(dir.resolve("b-truncated.png"), java.util.Arrays.copyOf(Files.readAllBytes(IMAGES.resolve("gray.png")), 300));
        Files.write(dir.resolve("c-empty.jpg"), new byte[0]);
        Files.copy(IMAGES.resolve("gray.png"), dir.resolve("d-good.png"));
        Files.writeString(dir.resolve("notes.txt"), "not an image, and not picked from a folder");

        Run r = run("caption", "--bundle", TINY.toString(), "--threads", "1", "--batch-size", "3",
                "--beams", "2", "--max-new-tokens", "6", "--min-new-tokens", "2", dir.toString());

        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.stdout()).hasSize(4);
        ObjectMapper json = new ObjectMapper();
        JsonNode good = json.readTree(r.stdout().get(0));
        assertThat(good.get("path").asText()).endsWith("a-good.bmp");
        assertThat(good.get("caption").asText()).isNotBlank();
        assertThat(good.get("token_ids").size()).isBetween(2, 6);
        assertThat(good.get("bundle").get("name").asText()).isEqualTo("dermlip-gpt2-captioner-random-tiny");
        assertThat(good.get("settings").get("num_beams").asInt()).isEqualTo(2);
        assertThat(good.get("timings").get("batch_decode_ms").asDouble()).isPositive();
        JsonNode truncated = json.readTree(r.stdout().get(1));
        // the failure events' vocabulary: the same pipeline as the service
        assertThat(truncated.get("error").get("reason").asText()).isEqualTo("UNDECODABLE_IMAGE");
        assertThat(json.readTree(r.stdout().get(2)).get("error").get("reason").asText()).isEqualTo("UNDECODABLE_IMAGE");
        assertThat(json.readTree(r.stdout().get(3)).get("caption").asText()).isNotBlank();
        assertThat(r.stderr()).contains("b-truncated.png: UNDECODABLE_IMAGE").contains("c-empty.jpg: UNDECODABLE_IMAGE")
                .contains("4/4 images, 2 failed");
    }

    @Test
    void allGoodExitsZeroAndMissingOrUnsupportedArgumentsAreNamed() {
        Run ok = run("caption", "--bundle", TINY.toString(), "--threads", "1", "--max-new-tokens", "4", "--min-new-tokens", "1",
                IMAGES.resolve("rgb.bmp").toString());
        assertThat(ok.exit()).isZero();
        assertThat(ok.stdout()).hasSize(1);

        Run missing = run("caption", "--bundle", TINY.toString(), "--threads", "1", "--max-new-tokens", "4", "--min-new-tokens", "1",
                IMAGES.resolve("rgb.bmp").toString(), tmp.resolve("nope.png").toString(), "s3://bucket/prefix/");
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.stdout()).hasSize(1);
        // the bucket allow-list holds for a listing as for a fetch, before any network traffic
        assertThat(missing.stderr()).contains("nope.png: ").contains("no such file")
                .contains("s3://bucket/prefix/: URI_NOT_ALLOWED: bucket 'bucket' is not allow-listed");
    }

    @Test
    void objectsGoThroughTheServicesFetcherAllowListsAndLimits() throws Exception {
        Run r = run("caption", "--bundle", TINY.toString(), "--threads", "1", "--max-new-tokens", "4", "--min-new-tokens", "1",
                "--max-bytes", "1000", IMAGES.resolve("rgb.bmp").toString(), "https://images.example.org/a.png", "ftp://x/y.png");
        assertThat(r.exit()).isEqualTo(1);
        ObjectMapper json = new ObjectMapper();
        assertThat(r.stdout()).hasSize(2);
        JsonNode big = json.readTree(r.stdout().get(0));
        assertThat(big.get("error").get("reason").asText()).as(big.toString()).isEqualTo("TOO_LARGE");
        JsonNode https = json.readTree(r.stdout().get(1));
        assertThat(https.get("path").asText()).isEqualTo("https://images.example.org/a.png");
        assertThat(https.get("error").get("reason").asText()).isEqualTo("URI_NOT_ALLOWED");
        assertThat(r.stderr()).contains("ftp://x/y.png: no input source for ftp://");

        Run unknown = run("caption", "--bundle", TINY.toString(), "--set", "storage.max.byte=5", IMAGES.resolve("rgb.bmp").toString());
        assertThat(unknown.exit()).isEqualTo(2);
        assertThat(unknown.stderr()).contains("invalid setting").contains("storage.max.byte");
    }

    @Test
    void aRefusedBundleOrBadSettingsStopBeforeAnyImage() throws Exception {
        Run noBundle = run("caption", "--bundle", tmp.toString(), IMAGES.resolve("rgb.bmp").toString());
        assertThat(noBundle.exit()).isEqualTo(2);
        assertThat(noBundle.stderr()).contains("refused (FILE_MISSING)");
        Run badBeams = run("caption", "--bundle", TINY.toString(), "--beams", "12", IMAGES.resolve("rgb.bmp").toString());
        assertThat(badBeams.exit()).isEqualTo(2);
        assertThat(badBeams.stderr()).contains("num_beams must be between 1 and 8, got 12");
        assertThat(badBeams.stdout()).isEmpty();
        Run badProfile = run("caption", "--bundle", TINY.toString(), "--profile", "nope", IMAGES.resolve("rgb.bmp").toString());
        assertThat(badProfile.exit()).isEqualTo(2);
        assertThat(badProfile.stderr()).contains("unknown generation profile 'nope'; the bundle has card, training-eval, published");
    }

    @Test
    void aNamedProfileGivesItsFixtureCaptionAndIsReported() throws Exception {
        Run r = run("caption", "--bundle", TINY.toString(), "--threads", "1", "--profile", "card",
                IMAGES.resolve("rgb.bmp").toString());
        assertThat(r.exit()).isZero();
        JsonNode line = new ObjectMapper().readTree(r.stdout().get(0));
        JsonNode expected = io.dermcap.model.runtime.ParityFixtures.cases().stream()
                .filter(c -> c.get("id").asText().equals("rgb")).findFirst().orElseThrow()
                .get("generations").get(1); // card/beam
        assertThat(expected.get("name").asText()).isEqualTo("card/beam");
        assertThat(line.get("caption").asText()).isEqualTo(expected.get("text").asText());
        assertThat(line.get("settings").get("profile").asText()).isEqualTo("card");
        assertThat(line.get("settings").get("max_new_tokens").asInt()).isEqualTo(60);
        assertThat(line.get("settings").get("bad_words_sequences").asInt()).isZero();
    }
}
