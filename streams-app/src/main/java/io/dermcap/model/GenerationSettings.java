package io.dermcap.model;

import java.util.List;

/**
 * Decoding settings with Hugging Face {@code generate} semantics (transformers 4.56.0) and the
 * text rule of the author's script they reproduce. The bundle's manifest names its generation
 * profiles (card, training-eval, published); a request picks one and may override some of its
 * settings within the engine's bounds.
 *
 * @param profile            the manifest profile these settings came from
 * @param badWordsIds        token-id sequences never to complete (NoBadWordsLogitsProcessor)
 * @param collapseWhitespace the caption's whitespace runs made one space (inference.py), besides strip
 */
public record GenerationSettings(
        String profile,
        String prompt,
        int numBeams,
        int maxNewTokens,
        int minNewTokens,
        int noRepeatNgramSize,
        double repetitionPenalty,
        double lengthPenalty,
        boolean earlyStopping,
        List<List<Integer>> badWordsIds,
        boolean collapseWhitespace) {

    public GenerationSettings {
        badWordsIds = badWordsIds.stream().map(List::copyOf).toList();
    }

    /** Settings outside any profile: no banned words, text stripped only (tests, benchmarks). */
    public GenerationSettings(String prompt, int numBeams, int maxNewTokens, int minNewTokens, int noRepeatNgramSize,
                              double repetitionPenalty, double lengthPenalty, boolean earlyStopping) {
        this(null, prompt, numBeams, maxNewTokens, minNewTokens, noRepeatNgramSize, repetitionPenalty, lengthPenalty,
                earlyStopping, List.of(), false);
    }
}
