package io.dermcap.pipeline;

/**
 * How much the pipeline does at once.
 *
 * @param maxBatch     images per model batch
 * @param maxInflight  images submitted and not finished yet (the permits)
 * @param fetchThreads threads that fetch and decode images ahead of the model
 */
public record PipelineOptions(int maxBatch, int maxInflight, int fetchThreads) {

    public PipelineOptions {
        if (maxBatch < 1 || maxInflight < maxBatch || fetchThreads < 1) {
            throw new IllegalArgumentException("inconsistent pipeline options " + this);
        }
    }
}
