package io.dermcap.topology;

import io.dermcap.pipeline.PipelineOptions;

import java.time.Duration;

/**
 * Micro-batching and pipelining limits.
 *
 * @param maxSize           requests per flush and per model batch
 * @param maxDelay          a flush happens when the oldest waiting request is this old
 * @param maxInflight       requests submitted to the engine and not finished yet, whole process
 * @param maxBuffered       requests a task buffers before it makes the stream thread wait
 * @param backpressureBlock longest a stream thread waits for engine capacity per record
 * @param fetchThreads      threads that fetch and decode images ahead of the model
 */
public record BatchOptions(
        int maxSize,
        Duration maxDelay,
        int maxInflight,
        int maxBuffered,
        Duration backpressureBlock,
        int fetchThreads) {

    public BatchOptions {
        if (maxSize < 1 || maxInflight < maxSize || maxBuffered < maxSize || fetchThreads < 1
                || maxDelay.isNegative() || backpressureBlock.isNegative()) {
            throw new IllegalArgumentException("inconsistent batch options " + this);
        }
    }

    /**
     * How often the batcher wakes up to flush by age and forward finished outcomes: often enough
     * that the delay is kept within a quarter of itself, never busier than every 5 ms.
     */
    public Duration punctuateInterval() {
        return Duration.ofMillis(Math.max(5, Math.min(100, maxDelay.toMillis() / 4)));
    }

    /** What the engine's pipeline takes of these: a model batch is a flush, the permits are the in-flight limit. */
    public PipelineOptions pipeline() {
        return new PipelineOptions(maxSize, maxInflight, fetchThreads);
    }
}
