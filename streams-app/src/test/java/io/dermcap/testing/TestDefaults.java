package io.dermcap.testing;

import io.dermcap.config.Config;
import io.dermcap.config.ConfigKeys;
import io.dermcap.config.OfflineConfig;
import io.dermcap.image.ImageLimits;
import io.dermcap.image.PreprocessingSpec;
import io.dermcap.model.EngineOptions;
import io.dermcap.storage.StorageOptions;

import java.util.Map;

/** What tests run the engine, the decoder and the fetcher with: the configuration's own defaults, from their one place. */
public final class TestDefaults {

    private static final OfflineConfig DEFAULTS = Config.offline(null, Map.of(ConfigKeys.BUNDLE_DIR.name(), "unused"), Map.of());

    public static final ImageLimits IMAGE_LIMITS = DEFAULTS.imageLimits();
    public static final EngineOptions ENGINE = DEFAULTS.engine();
    public static final StorageOptions STORAGE = DEFAULTS.storage();

    /** open_clip's ViT-B/16 preprocessing: the OpenAI CLIP constants as float32, as torchvision's Normalize holds them. */
    public static final PreprocessingSpec CLIP_224 = new PreprocessingSpec(224,
            new float[] {0.48145466f, 0.4578275f, 0.40821073f},
            new float[] {0.26862954f, 0.26130258f, 0.27577711f});

    private TestDefaults() {
    }
}
