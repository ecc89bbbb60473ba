package io.dermcap.model.generation;

import java.nio.FloatBuffer;

/** How one item picks its next tokens (greedy or beam search), Hugging Face {@code generate} semantics. */
interface Search {

    /**
     * Reads this step's logits, beam {@code j}'s at row {@code rows[j]} of {@code logits} (those
     * rows may be overwritten), and says how to continue. The first step has one row.
     */
    Continuation step(FloatBuffer logits, int[] rows);

    /** The result, once {@link #step} returned a finished continuation. */
    Generation result();

    static Search of(io.dermcap.model.GenerationSettings settings, int vocabSize, int eosTokenId) {
        return settings.numBeams() > 1
                ? new BeamSearch(settings, vocabSize, eosTokenId)
                : new GreedySearch(settings, vocabSize, eosTokenId);
    }
}
