package io.dermcap.config;

import io.dermcap.image.ImageLimits;
import io.dermcap.model.EngineOptions;
import io.dermcap.storage.StorageOptions;

import java.nio.file.Path;

/**
 * What the offline commands ({@code caption}, {@code bench}) need of the configuration, read by
 * {@link Config#offline} with the same keys, defaults and checks as {@code run}.
 *
 * @param fetchThreads threads that fetch and decode ahead of the model ({@code batch.fetch.threads})
 */
public record OfflineConfig(Path bundleDir, EngineOptions engine, ImageLimits imageLimits, StorageOptions storage,
                            int fetchThreads) {
}
