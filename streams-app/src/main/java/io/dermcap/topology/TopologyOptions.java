package io.dermcap.topology;

/**
 * What the topology needs to know beyond its collaborators.
 *
 * @param requestTopic   topic of {@code CaptionRequest} records (keys: request id)
 * @param captionTopic   topic the {@code CaptionEvent}s go to
 * @param failureTopic   topic the {@code FailureEvent}s go to (the dead-letter topic)
 * @param instanceId     recorded in every outcome event (runtime.instance_id)
 * @param serviceVersion recorded in every outcome event (runtime.service_version)
 * @param exactlyOnce    processing.guarantee is exactly_once_v2 (outcome and buffer tombstone in one transaction)
 */
public record TopologyOptions(
        String requestTopic,
        String captionTopic,
        String failureTopic,
        String instanceId,
        String serviceVersion,
        boolean exactlyOnce) {
}
