package io.dermcap.model.generation;

import io.dermcap.model.Caption.FinishReason;

/** The chosen continuation of one item: generated ids without the final EOS, and why it ended. */
public record Generation(int[] tokenIds, FinishReason finishReason) {
}
