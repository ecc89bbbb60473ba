package io.dermcap.config;

import io.dermcap.image.ImageLimits;
import io.dermcap.metrics.MetricsOptions;
import io.dermcap.model.EngineOptions;
import io.dermcap.storage.StorageOptions;
import io.dermcap.topology.BatchOptions;
import io.dermcap.topology.TopologyOptions;

import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/**
 * The whole configuration of a {@code dermcap run}, typed, read once by {@link Config#load}.
 *
 * @param streams complete Kafka Streams properties (user {@code kafka.*} settings and derived ones)
 * @param bundleDir the model bundle's folder
 * @param serde   the registry serdes' settings (Confluent keys, {@code serde.} prefix removed)
 */
public record DermcapConfig(
        Path bundleDir,
        EngineOptions engine,
        ImageLimits imageLimits,
        TopologyOptions topology,
        BatchOptions batch,
        MetricsOptions http,
        Properties streams,
        StorageOptions storage,
        Map<String, String> serde,
        String logLevel) {

    /** A copy of the Streams properties, for callers that add runtime objects to them. */
    @Override
    public Properties streams() {
        Properties copy = new Properties();
        copy.putAll(streams);
        return copy;
    }
}
