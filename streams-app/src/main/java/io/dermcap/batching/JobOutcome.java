package io.dermcap.batching;

import io.dermcap.events.ErrorCode;
import io.dermcap.model.Caption;
import io.dermcap.model.GenerationSettings;

/** How one request ended inside the engine. */
public sealed interface JobOutcome {

    /**
     * @param sha256           lower-case hex sha256 of the bytes captioned
     * @param modelStartMillis wall-clock time at which the model batch started
     */
    record Captioned(Caption caption, GenerationSettings settings, String sha256, long imageBytes,
                     int fetchAttempts, long fetchNanos, long preprocessNanos, long modelStartMillis)
            implements JobOutcome {
    }

    /**
     * @param retryable whether sending the same request again later could succeed
     * @param attempts  fetch attempts made (0 when nothing was fetched)
     */
    record Failed(ErrorCode code, String message, boolean retryable, int attempts) implements JobOutcome {
    }
}
