package io.dermcap.model.generation;

import io.dermcap.model.GenerationSettings;

import java.nio.FloatBuffer;

/**
 * Hugging Face's logits processors for these settings, in {@code _get_logits_processor}'s order
 * (transformers 4.56.0: repetition penalty, no-repeat n-gram, bad words, min length / min new
 * tokens), applied to one row as a short list of overridden scores instead of a pass over the
 * vocabulary. Generation starts from embeddings with no input ids, so the processors see the
 * generated tokens only. Not thread-safe: one per search.
 */
final class Processors {

    /** Maps a raw logit to the score the processors see (the logit itself, or its log-probability). */
    @FunctionalInterface
    interface ScoreOf {
        float of(float logit);
    }

    private final float penalty;
    private final int ngram;
    private final int minNewTokens;
    private final int eos;
    private final int[][] badWords;
    private int[] tokens = new int[64];
    private float[] scores = new float[64];
    private int size;

    Processors(GenerationSettings s, int eosTokenId) {
        // torch multiplies float32 scores by the Python float cast to float32
        this.penalty = (float) s.repetitionPenalty();
        this.ngram = s.noRepeatNgramSize();
        this.minNewTokens = s.minNewTokens();
        this.eos = eosTokenId;
        // NoBadWordsLogitsProcessor's constructor drops the sequences that are just [eos]
        this.badWords = s.badWordsIds().stream()
                .map(seq -> seq.stream().mapToInt(Integer::intValue).toArray())
                .filter(seq -> !(seq.length == 1 && seq[0] == eosTokenId))
                .toArray(int[][]::new);
    }

    /** Computes the overrides of a row given its generated tokens {@code generated[0..length)}. */
    void compute(FloatBuffer logits, int rowOffset, int[] generated, int length, ScoreOf scoreOf) {
        size = 0;
        if (penalty != 1f) {
            // RepetitionPenaltyLogitsProcessor: gather, penalise, scatter: once per distinct token
            for (int i = 0; i < length; i++) {
                int t = generated[i];
                float s = scoreOf.of(logits.get(rowOffset + t));
                put(t, s < 0 ? s * penalty : s / penalty);
            }
        }
        if (ngram > 0 && length + 1 >= ngram) {
            // NoRepeatNGramLogitsProcessor: ban what would complete an n-gram already generated
            int prefixStart = length - ngram + 1;
            for (int start = 0; start + ngram <= length; start++) {
                if (matches(generated, start, prefixStart, ngram - 1)) {
                    put(generated[start + ngram - 1], Float.NEGATIVE_INFINITY);
                }
            }
        }
        for (int[] seq : badWords) {
            // a one-token sequence is always banned; a longer one bans its last token when the
            // generated ids end with the rest, once at least its full length was generated (4.56.0
            // skips a sequence longer than the context)
            int n = seq.length;
            if (n == 1 || (n <= length && matches(generated, length - n + 1, seq, n - 1))) {
                put(seq[n - 1], Float.NEGATIVE_INFINITY);
            }
        }
        if (length < minNewTokens) {
            put(eos, Float.NEGATIVE_INFINITY); // MinLength / MinNewTokensLength
        }
    }

    /** Writes -inf over the overridden tokens, so a scan of the row can skip them. */
    void mask(FloatBuffer logits, int rowOffset) {
        for (int i = 0; i < size; i++) {
            logits.put(rowOffset + tokens[i], Float.NEGATIVE_INFINITY);
        }
    }

    int size() {
        return size;
    }

    int token(int i) {
        return tokens[i];
    }

    float score(int i) {
        return scores[i];
    }

    private static boolean matches(int[] g, int a, int b, int n) {
        for (int i = 0; i < n; i++) {
            if (g[a + i] != g[b + i]) {
                return false;
            }
        }
        return true;
    }

    private static boolean matches(int[] g, int from, int[] seq, int n) {
        for (int i = 0; i < n; i++) {
            if (g[from + i] != seq[i]) {
                return false;
            }
        }
        return true;
    }

    private void put(int token, float score) {
        for (int i = 0; i < size; i++) {
            if (tokens[i] == token) {
                scores[i] = score;
                return;
            }
        }
        if (size == tokens.length) {
            tokens = java.util.Arrays.copyOf(tokens, 2 * size);
            scores = java.util.Arrays.copyOf(scores, 2 * size);
        }
        tokens[size] = token;
        scores[size++] = score;
    }
}
