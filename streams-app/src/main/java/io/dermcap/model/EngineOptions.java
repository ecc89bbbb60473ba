package io.dermcap.model;

/**
 * How the engine runs the bundle's graphs.
 *
 * @param intraOpThreads     threads per model run; 0 = one per available processor
 * @param optimizationLevel  ONNX Runtime graph optimisations applied when the sessions are created
 * @param executionProvider  CPU (default) or CUDA; CUDA needs the {@code cuda} Maven profile
 *                           ({@code onnxruntime_gpu}) and a GPU, and fails loudly without them
 * @param cudaDeviceId       the GPU for CUDA
 * @param prepackWeights     let ONNX Runtime keep weights in its GEMM layout (its default); off saves
 *                           about 0.45 GB of the full-size bundle's memory for some speed
 */
public record EngineOptions(int intraOpThreads, OptimizationLevel optimizationLevel,
                            ExecutionProvider executionProvider, int cudaDeviceId, boolean prepackWeights) {

    public enum ExecutionProvider { CPU, CUDA }

    public enum OptimizationLevel { NONE, BASIC, EXTENDED, ALL }

    public EngineOptions {
        if (intraOpThreads < 0) {
            throw new IllegalArgumentException("intra-op threads must be >= 0 (0 = all processors), got " + intraOpThreads);
        }
        if (cudaDeviceId < 0) {
            throw new IllegalArgumentException("CUDA device id must be >= 0, got " + cudaDeviceId);
        }
        if (optimizationLevel == null || executionProvider == null) {
            throw new IllegalArgumentException("optimization level and execution provider are required");
        }
    }

    /** The thread count actually used. */
    public int threads() {
        return intraOpThreads > 0 ? intraOpThreads : Runtime.getRuntime().availableProcessors();
    }
}
