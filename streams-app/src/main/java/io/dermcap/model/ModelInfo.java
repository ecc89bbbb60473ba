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
        Runtime runtime) {

    /** A source file of the lineage; {@code sha256} is null when the exporter did not see it. */
    public record SourceFile(String file, String sha256) {
    }

    /** A training stage: A (META) and B (SkinCAP) for the released model. */
    public record Stage(String stage, String dataset, String file, String sha256) {
    }

    /** The inference runtime, e.g. onnxruntime 1.29.0 on CPU or CUDA:0. */
    public record Runtime(String engine, String engineVersion, String executionProvider) {
    }
}
