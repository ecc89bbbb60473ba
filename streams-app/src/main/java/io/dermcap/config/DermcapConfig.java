package io.dermcap.config;

import io.dermcap.batching.BatchOptions;
import io.dermcap.metrics.MetricsOptions;
import io.dermcap.storage.StorageOptions;
import io.dermcap.topology.TopologyOptions;

import java.util.Map;
import java.util.Properties;

/**
 * The whole configuration of a {@code dermcap run}, typed, read once by {@link Config#load}.
 *
 * @param streams complete Kafka Streams properties (user {@code kafka.*} settings and derived ones)
 * @param serde   the registry serdes' settings (Confluent keys, {@code serde.} prefix removed)
 */
public record DermcapConfig(
        TopologyOptions topology,
        BatchOptions batch,
        MetricsOptions http,
        Properties streams,
        StorageOptions storage,
        Map<String, String> serde) {

    /** A copy of the Streams properties, for callers that add runtime objects to them. */
    @Override
    public Properties streams() {
        Properties copy = new Properties();
        copy.putAll(streams);
        return copy;
    }
}
