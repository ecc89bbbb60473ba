package io.dermcap.cli;

import io.dermcap.image.ImageLimits;
import io.dermcap.model.EngineOptions;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Options shared by the commands that load a bundle. */
final class EngineArgs {

    @Option(names = "--bundle", required = true, description = "bundle folder (manifest.json + graphs)")
    Path bundle;

    @Option(names = "--threads", defaultValue = "0", description = "ONNX Runtime intra-op threads; 0 = all processors (default)")
    int threads;

    @Option(names = "--optimization", defaultValue = "ALL", description = "graph optimisation level: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE})")
    EngineOptions.OptimizationLevel optimization;

    @Option(names = "--provider", defaultValue = "CPU", description = "execution provider: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}); CUDA needs a -Pcuda build")
    EngineOptions.ExecutionProvider provider;

    @Option(names = "--cuda-device", defaultValue = "0", description = "GPU id for --provider CUDA")
    int cudaDevice;

    @Option(names = "--max-pixels", defaultValue = "" + ImageLimits.PIL_MAX_PIXELS, description = "refuse images with more pixels (from the header; default ${DEFAULT-VALUE}, Pillow's)")
    long maxPixels;

    @Option(names = "--max-bytes", defaultValue = "67108864", description = "refuse encoded images larger than this (default ${DEFAULT-VALUE})")
    long maxBytes;

    EngineOptions engineOptions() {
        return new EngineOptions(threads, optimization, provider, cudaDevice);
    }

    ImageLimits imageLimits() {
        return new ImageLimits(maxPixels, maxBytes);
    }
}
