package io.dermcap.model;

import io.dermcap.image.PixelTensor;

import java.util.List;

/**
 * Captions batches of preprocessed images. One instance per process, safe to call from many
 * threads (calls are serialised onto one set of runtime sessions). This is the only model type
 * the streaming topology sees: it never touches ONNX Runtime.
 */
public interface Captioner extends AutoCloseable {

    /** What produced the captions: bundle lineage, graph hashes, runtime, defaults. */
    ModelInfo info();

    /**
     * The settings for one request: its overrides over the bundle's defaults, checked against the
     * engine's bounds and the model's context window.
     *
     * @throws InvalidSettingsException naming the setting and the bound it breaks
     */
    GenerationSettings settingsFor(Overrides overrides) throws InvalidSettingsException;

    /**
     * Captions every request of the batch in one model run and returns the results in the same
     * order.
     *
     * @throws ModelException when the runtime fails; the whole batch failed
     */
    List<Caption> caption(List<Request> batch) throws ModelException;

    /**
     * What a request may choose: a generation profile of the bundle, and settings over it; null
     * means the bundle's default profile, or the profile's value.
     */
    record Overrides(String prompt, Integer numBeams, Integer maxNewTokens, Integer minNewTokens, String profile) {
        public static final Overrides NONE = new Overrides(null, null, null, null, null);

        /** Settings over the bundle's default profile. */
        public Overrides(String prompt, Integer numBeams, Integer maxNewTokens, Integer minNewTokens) {
            this(prompt, numBeams, maxNewTokens, minNewTokens, null);
        }
    }

    /** One image and the settings to caption it with (already validated). */
    record Request(PixelTensor pixels, GenerationSettings settings) {
    }

    @Override
    void close();
}
