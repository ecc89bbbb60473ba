package io.dermcap.config;

import io.dermcap.audit.AuditOptions;
import io.dermcap.image.ImageLimits;
import io.dermcap.metrics.MetricsOptions;
import io.dermcap.model.EngineOptions;
import io.dermcap.registry.AvroSerdeConfig;
import io.dermcap.registry.RequestSubjectCheck;
import io.dermcap.storage.StorageOptions;
import io.dermcap.topology.BatchOptions;
import io.dermcap.topology.TopologyOptions;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;

/**
 * The whole configuration of a {@code dermcap run}, typed, read once by {@link Config#load}.
 *
 * @param bundleDir           the model bundle's folder
 * @param streams             complete Kafka Streams properties (user {@code kafka.*} settings and derived ones)
 * @param maxPollInterval     the consumer's poll interval as derived into {@code streams}
 * @param stallLimit          how long a stream thread may wait on Kafka before the service is not ready
 * @param serde               the registry serdes' settings, parsed
 * @param serdeSettings       the same as given (Confluent keys, {@code serde.} prefix removed), for checks
 * @param requestSubjectCheck what the start does about a missing or unreadable request subject
 * @param audit               the audit endpoint and stores, or null when {@code audit.enabled} is false
 */
public record DermcapConfig(
        Path bundleDir,
        EngineOptions engine,
        ImageLimits imageLimits,
        TopologyOptions topology,
        BatchOptions batch,
        MetricsOptions http,
        Properties streams,
        Duration maxPollInterval,
        Duration stallLimit,
        StorageOptions storage,
        AvroSerdeConfig serde,
        Map<String, String> serdeSettings,
        String logLevel,
        RequestSubjectCheck.Mode requestSubjectCheck,
        AuditOptions audit) {

    public DermcapConfig {
        serdeSettings = Map.copyOf(serdeSettings);
    }

    /** A copy of the Streams properties, for callers that add runtime objects to them. */
    @Override
    public Properties streams() {
        Properties copy = new Properties();
        copy.putAll(streams);
        return copy;
    }
}
