package io.dermcap.topology;

import io.dermcap.events.CaptionEvent;
import io.dermcap.events.CaptionRequest;
import io.dermcap.events.FailureEvent;
import org.apache.kafka.common.serialization.Serde;

/** Value serdes of the three topics (registry-backed in production). Keys are UTF-8 strings. */
public record EventSerdes(Serde<CaptionRequest> requests, Serde<CaptionEvent> captions, Serde<FailureEvent> failures) {
}
