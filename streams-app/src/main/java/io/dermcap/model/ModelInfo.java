package io.dermcap.model;

import java.util.List;
import java.util.Map;

/**
 * Everything an auditor needs to know about the model that produced a caption; read from the
 * bundle's manifest and the runtime when the bundle is loaded.
 */
public record ModelInfo(
        String bundleName,
        String bundleVersion,
        boolean randomWeights,
        SourceFile checkpoint,
        SourceFile config,
        List<Stage> stages,
        String visionWeightsId,
        String visionWeightsSha256,
        String baseLm,
        Map<String, String> graphSha256,
        String exporterVersion,
        int opset,
        GenerationSettings defaults,
        Runtime runtime,
        Identity identity) {

    /** A source file of the lineage; {@code sha256} is null when the exporter did not see it. */
    public record SourceFile(String file, String sha256) {
    }

    /** A training stage: A (META) and B (SkinCAP) for the released model. */
    public record Stage(String stage, String dataset, String file, String sha256) {
    }

    /**
     * The bundle as a whole: the sha256 of its manifest bytes (which list every file's sha256),
     * its format, when and by what it was made, and the preprocessing it prescribes.
     */
    public record Identity(String manifestSha256, String format, String created, String exporterName,
                           String exporterVersion, Preprocessing preprocessing) {
    }

    /** The manifest's preprocessing constants (open_clip's eval transform); null where a manifest has none. */
    public record Preprocessing(int imageSize, String resize, String interpolation, String crop, List<Double> mean,
                                List<Double> std) {
    }

    /** The inference runtime, e.g. onnxruntime 1.29.0 on CPU or CUDA:0. */
    public record Runtime(String engine, String engineVersion, String executionProvider) {
    }
}
