package io.dermcap.pipeline;

import io.dermcap.model.Caption;
import io.dermcap.model.GenerationSettings;

/** How one image ended in the pipeline: captioned, or failed for a reason. */
public sealed interface Outcome {

    /**
     * @param sha256           lower-case hex sha256 of the bytes captioned
     * @param modelStartMillis wall-clock time at which the model batch started
     */
    record Captioned(Caption caption, GenerationSettings settings, String sha256, long imageBytes,
                     int fetchAttempts, long fetchNanos, long preprocessNanos, long modelStartMillis)
            implements Outcome {
    }

    /**
     * @param retryable whether sending the same request again later could succeed
     * @param attempts  fetch attempts made (0 when nothing was fetched)
     */
    record Failed(FailureReason reason, String message, boolean retryable, int attempts) implements Outcome {
    }
}
