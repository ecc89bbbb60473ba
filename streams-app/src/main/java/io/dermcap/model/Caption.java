package io.dermcap.model;

/**
 * One generated caption.
 *
 * @param text         decoded new tokens, special tokens skipped, echoed prompt removed, trimmed
 * @param tokenIds     the generated token ids (EOS excluded)
 * @param finishReason why generation stopped
 * @param batchSize    how many images shared the model run
 * @param encodeNanos  vision encoder time of the batch
 * @param decodeNanos  prefill + beam search time of the batch
 */
public record Caption(
        String text,
        int[] tokenIds,
        FinishReason finishReason,
        int batchSize,
        long encodeNanos,
        long decodeNanos) {

    public enum FinishReason {
        /** the best hypothesis ended with EOS */
        EOS,
        /** the best hypothesis reached max_new_tokens */
        MAX_NEW_TOKENS
    }
}
