package io.dermcap.model.generation;

import java.nio.FloatBuffer;

/** How one item picks its next tokens (greedy or beam search), Hugging Face {@code generate} semantics. */
interface Search {

    /**
     * Reads this step's logits of the item's {@code rows} rows, which start at row {@code firstRow}
     * of {@code logits} (and may be overwritten), and says how to continue.
     */
    Continuation step(FloatBuffer logits, int firstRow, int rows);

    /** The result, once {@link #step} returned a finished continuation. */
    Generation result();

    static Search of(io.dermcap.model.GenerationSettings settings, int vocabSize, int eosTokenId) {
        return settings.numBeams() > 1
                ? new BeamSearch(settings, vocabSize, eosTokenId)
                : new GreedySearch(settings, vocabSize, eosTokenId);
    }
}
