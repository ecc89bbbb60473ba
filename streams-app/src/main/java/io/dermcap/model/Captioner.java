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
     * Captions every request of the batch in one model run and returns the results in the same
     * order.
     *
     * @throws ModelException when the runtime fails; the whole batch failed
     */
    List<Caption> caption(List<Request> batch) throws ModelException;

    /** One image and the settings to caption it with (already validated). */
    record Request(PixelTensor pixels, GenerationSettings settings) {
    }

    @Override
    void close();
}
