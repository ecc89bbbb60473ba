package io.dermcap.model;

/**
 * Decoding settings with Hugging Face {@code generate} semantics. The bundle's manifest gives the
 * defaults (the released settings); a request may override some of them within the engine's
 * bounds ({@link Captioner#settingsFor}).
 */
public record GenerationSettings(
        String prompt,
        int numBeams,
        int maxNewTokens,
        int minNewTokens,
        int noRepeatNgramSize,
        double repetitionPenalty,
        double lengthPenalty,
        boolean earlyStopping) {
}
