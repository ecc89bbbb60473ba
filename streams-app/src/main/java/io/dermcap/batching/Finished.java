package io.dermcap.batching;

import io.dermcap.events.CaptionRequest;
import io.dermcap.events.SourcePosition;
import io.dermcap.events.internal.PendingRequest;

/**
 * A request with its outcome, on its way from the validator or the batcher to the outcome
 * events. {@code request} is null when the record had no value.
 */
public record Finished(CaptionRequest request, SourcePosition source, long recordTimestamp, long receivedAt,
                       JobOutcome outcome) {

    static Finished of(PendingRequest pending, JobOutcome outcome) {
        return new Finished(pending.getRequest(), pending.getSource(), pending.getRecordTimestamp().toEpochMilli(),
                pending.getReceivedAt().toEpochMilli(), outcome);
    }
}
