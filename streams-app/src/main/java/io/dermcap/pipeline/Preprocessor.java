package io.dermcap.pipeline;

import io.dermcap.image.ImageException;
import io.dermcap.image.PixelTensor;

/** Encoded image bytes → model input (the engine's preprocessor, wired in by the command line). */
@FunctionalInterface
public interface Preprocessor {
    PixelTensor preprocess(byte[] encoded) throws ImageException;
}
