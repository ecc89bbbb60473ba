package io.dermcap.model.bundle;

import io.dermcap.Sha256;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dermcap.Sha256;
import io.dermcap.TestPaths;
import io.dermcap.model.EngineOptions;
import io.dermcap.model.bundle.BundleException.Reason;
import io.dermcap.model.runtime.OnnxCaptioner;
import io.dermcap.testing.TestDefaults;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BundleTest {

    static final Path TINY = TestPaths.fixtures().resolve("tiny-bundle");

    @TempDir
    Path tmp;

    @Test
    void theTinyBundleVerifies() throws Exception {
        Bundle bundle = Bundle.load(TINY);
        assertThat(bundle.manifest().name()).isEqualTo("dermlip-gpt2-captioner-random-tiny");
        assertThat(bundle.manifest().model().numLayers()).isEqualTo(2);
        assertThat(bundle.manifestSha256()).isEqualTo(Sha256.of(TINY.resolve("manifest.json")));
        assertThat(bundle.file(Bundle.DECODER)).exists();
    }

    @Test
    void missingGraph() throws Exception {
        Path dir = copy();
        Files.delete(dir.resolve("decoder_model_merged.onnx"));
        assertRefused(dir, Reason.FILE_MISSING, "decoder_model_merged.onnx: listed in manifest.json but missing");
    }

    @Test
    void tamperedGraphWithTheSameSize() throws Exception {
        Path dir = copy();
        Path f = dir.resolve("embed_tokens.onnx");
        byte[] b = Files.readAllBytes(f);
        b[b.length / 2] ^= 1;
        Files.write(f, b);
        assertRefused(dir, Reason.HASH_MISMATCH, "embed_tokens.onnx: sha256 is ");
    }

    @Test
    void truncatedGraph() throws Exception {
        Path dir = copy();
        Path f = dir.resolve("vision_encoder.onnx");
        byte[] b = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(b, b.length - 10));
        assertRefused(dir, Reason.HASH_MISMATCH, "vision_encoder.onnx: " + (b.length - 10) + " bytes, manifest.json says " + b.length);
    }

    @Test
    void noManifestOrNotJson() throws Exception {
        Path dir = copy();
        Files.delete(dir.resolve("manifest.json"));
        assertRefused(dir, Reason.FILE_MISSING, "no manifest.json");
        Files.writeString(dir.resolve("manifest.json"), "{ not json");
        assertRefused(dir, Reason.MANIFEST_INVALID, "manifest.json");
    }

    @Test
    void wrongFormatOrMissingGraphEntry() throws Exception {
        Path dir = copy();
        editManifest(dir, m -> m.put("format", "dermcap-bundle/2"));
        assertRefused(dir, Reason.MANIFEST_INVALID, "format is dermcap-bundle/2, expected dermcap-bundle/1");
        dir = copy();
        editManifest(dir, m -> ((ObjectNode) m.get("graphs")).remove("embed_tokens"));
        assertRefused(dir, Reason.MANIFEST_INVALID, "graphs.embed_tokens is missing");
    }

    @Test
    void manifestDeclaringASignatureTheEngineCannotDrive() throws Exception {
        Path dir = copy();
        editManifest(dir, m -> {
            ArrayNode inputs = (ArrayNode) m.get("graphs").get("decoder_model_merged").get("inputs");
            ((ObjectNode) inputs.get(2)).put("name", "lengths");
        });
        assertRefused(dir, Reason.SIGNATURE_MISMATCH, "decoder_model_merged declares no input seqlens_k");
    }

    @Test
    void aFloat16CacheMustBeFloat16Throughout() throws Exception {
        // the first past input sets the cache type (float16 here), so a float32 output is refused
        Path dir = copy();
        editManifest(dir, m -> ((ObjectNode) m.get("graphs").get("decoder_model_merged").get("inputs").get(4)).put("type", "float16"));
        assertRefused(dir, Reason.SIGNATURE_MISMATCH,
                "decoder_model_merged declares output present.0.key as float32 [batch, 2, max_sequence, 8], expected float16");
    }

    @Test
    void graphWhoseRealSignatureDiffersFromItsManifest() throws Exception {
        // put the vision encoder where the token embedding should be, with a consistent hash:
        // only opening the graph shows that its inputs are not what the manifest says
        Path dir = copy();
        Path vision = dir.resolve("vision_encoder.onnx");
        Files.copy(vision, dir.resolve("embed_tokens.onnx"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        String sha = Sha256.of(vision);
        long bytes = Files.size(vision);
        editManifest(dir, m -> ((ObjectNode) m.get("graphs").get("embed_tokens")).put("sha256", sha).put("bytes", bytes));
        Bundle.load(dir); // hashes and declared signatures are consistent
        assertThatThrownBy(() -> OnnxCaptioner.load(dir, TestDefaults.ENGINE))
                .isInstanceOfSatisfying(BundleException.class, e -> assertThat(e.reason()).isEqualTo(Reason.SIGNATURE_MISMATCH))
                .hasMessageContaining("embed_tokens.onnx differs from manifest.json")
                .hasMessageContaining("embed_tokens has no input input_ids");
    }

    @Test
    void cudaAskedForOnACpuBuildFailsLoudly() {
        EngineOptions cuda = new EngineOptions(1, EngineOptions.OptimizationLevel.ALL, EngineOptions.ExecutionProvider.CUDA, 0, true);
        assertThatThrownBy(() -> OnnxCaptioner.load(TINY, cuda))
                .isInstanceOfSatisfying(BundleException.class, e -> assertThat(e.reason()).isEqualTo(Reason.RUNTIME_UNAVAILABLE))
                .hasMessageContaining("CUDA");
    }

    private void assertRefused(Path dir, Reason reason, String message) {
        assertThatThrownBy(() -> Bundle.load(dir))
                .isInstanceOfSatisfying(BundleException.class, e -> assertThat(e.reason()).isEqualTo(reason))
                .hasMessageContaining(message);
    }

    private Path copy() throws IOException {
        Path dir = Files.createTempDirectory(tmp, "bundle");
        try (Stream<Path> files = Files.list(TINY)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        return dir;
    }

    private static void editManifest(Path dir, java.util.function.Consumer<ObjectNode> edit) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode m = (ObjectNode) json.readTree(dir.resolve("manifest.json").toFile());
        edit.accept(m);
        json.writeValue(dir.resolve("manifest.json").toFile(), m);
    }
}
