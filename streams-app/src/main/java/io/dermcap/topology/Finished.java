package io.dermcap.topology;

import io.dermcap.events.CaptionRequest;
import io.dermcap.events.SourcePosition;
import io.dermcap.events.internal.PendingRequest;
import io.dermcap.pipeline.Outcome;

/**
 * A request with its outcome, on its way from the validator or the batcher to the outcome
 * events. {@code request} is null when the record had no value.
 */
record Finished(CaptionRequest request, SourcePosition source, long recordTimestamp, long receivedAt,
                       Outcome outcome) {

    static Finished of(PendingRequest pending, Outcome outcome) {
        return new Finished(pending.getRequest(), pending.getSource(), pending.getRecordTimestamp().toEpochMilli(),
                pending.getReceivedAt().toEpochMilli(), outcome);
    }
}
