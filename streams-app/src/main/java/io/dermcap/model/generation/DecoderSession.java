package io.dermcap.model.generation;

import io.dermcap.model.ModelException;

import java.nio.FloatBuffer;
import java.util.List;

/**
 * The language model as the generator drives it: rows of a key/value cache that it fills once per
 * item, extends by one token per row per step, and rearranges between steps. Logits are the last
 * position's only, {@code rows × vocabSize} floats from index 0; the caller may overwrite them.
 */
public interface DecoderSession {

    int vocabSize();

    /**
     * Runs {@code [prefix ; prompt]} of every item once, left-padded to the longest; afterwards
     * cache row {@code i} holds item {@code i}.
     */
    FloatBuffer prefill(List<PrefillItem> items) throws ModelException;

    /** Rearranges the cache: new row {@code i} continues old row {@code rows[i]} (repeats allowed, others dropped). */
    void select(int[] rows) throws ModelException;

    /** Appends {@code tokens[i]} to row {@code i} and returns the logits of the new position. */
    FloatBuffer step(int[] tokens) throws ModelException;
}
