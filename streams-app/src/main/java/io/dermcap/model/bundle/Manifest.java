package io.dermcap.model.bundle;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

import java.util.List;
import java.util.Map;

/** {@code manifest.json} of a {@code dermcap-bundle/1} folder (onnx-models/BUNDLE.md). */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Manifest(
        String format,
        String name,
        String version,
        String created,
        Exporter exporter,
        RandomInit randomInit,
        Lineage lineage,
        List<String> warnings,
        Model model,
        Preprocessing preprocessing,
        Generation generation,
        Map<String, Graph> graphs) {

    public static final String FORMAT = "dermcap-bundle/1";

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Exporter(String name, String version, String torch, String onnx, int opset) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record RandomInit(String preset, long seed) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Lineage(SourceFile checkpoint, SourceFile config, List<Stage> stages, VisionWeights visionWeights, String baseLm) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record SourceFile(String file, String sha256, String publishedSha256Prefix, Boolean matchesPublished) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Stage(String stage, String dataset, String file, String sha256, String publishedSha256Prefix, Boolean matchesPublished) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record VisionWeights(String id, String file, String sha256) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Model(int prefixTokens, int hiddenSize, int numLayers, int numHeads, int headDim, int vocabSize,
                        int maxPositions, int eosTokenId, int padTokenId, Vision vision) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Vision(int imageSize, int patchSize, int width, int layers, int heads, int embedDim, String act) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Preprocessing(int imageSize, String resize, String interpolation, String crop, double[] mean, double[] std) {
    }

    /** The prompt and the author's generation paths by name (BUNDLE.md, "Generation profiles"). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Generation(String prompt, int eosTokenId, int padTokenId, String defaultProfile,
                             Map<String, Profile> profiles) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Profile(String reproduces, int numBeams, int maxNewTokens, int minNewTokens, int noRepeatNgramSize,
                          double repetitionPenalty, double lengthPenalty, boolean earlyStopping, BadWords badWords,
                          TextRule text) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record BadWords(List<String> phrases, String encoding, List<List<Integer>> tokenIds) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record TextRule(String rule, boolean cleanUpTokenizationSpaces, String promptEcho, boolean strip,
                           boolean collapseWhitespace) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Graph(String file, String sha256, long bytes, List<DataFile> externalData, List<TensorSpec> inputs,
                        List<TensorSpec> outputs) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record DataFile(String file, String sha256, long bytes) {
    }

    /** A graph input or output: shape entries are integers (static) or dimension names (symbolic). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record TensorSpec(String name, String type, List<Object> shape) {
    }
}
