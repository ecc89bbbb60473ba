package io.dermcap.model.generation;

import io.dermcap.model.Caption.FinishReason;
import io.dermcap.model.GenerationSettings;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Hugging Face {@code _sample} with {@code do_sample=False}: the processors act on the raw logits
 * (the repetition penalty divides positive ones and multiplies negative ones), then argmax (the
 * first index among equal maxima, as torch); stops at EOS or {@code max_new_tokens}.
 */
final class GreedySearch implements Search {

    private final Processors processors;
    private final int vocab;
    private final int eos;
    private final int maxNewTokens;
    private final int[] generated;
    private int length;
    private Generation result;

    GreedySearch(GenerationSettings s, int vocabSize, int eosTokenId) {
        this.processors = new Processors(s, eosTokenId);
        this.vocab = vocabSize;
        this.eos = eosTokenId;
        this.maxNewTokens = s.maxNewTokens();
        this.generated = new int[s.maxNewTokens()];
    }

    @Override
    public Continuation step(FloatBuffer logits, int firstRow, int rows) {
        int offset = firstRow * vocab;
        processors.compute(logits, offset, generated, length, x -> x);
        processors.mask(logits, offset);
        int best = 0;
        float bestScore = Float.NEGATIVE_INFINITY;
        for (int v = 0; v < vocab; v++) {
            float x = logits.get(offset + v);
            if (x > bestScore) {
                bestScore = x;
                best = v;
            }
        }
        for (int i = 0; i < processors.size(); i++) {
            float s = processors.score(i);
            int t = processors.token(i);
            if (s > bestScore || (s == bestScore && t < best)) {
                bestScore = s;
                best = t;
            }
        }
        generated[length++] = best;
        if (best == eos) {
            result = new Generation(Arrays.copyOf(generated, length - 1), FinishReason.EOS);
            return Continuation.FINISHED;
        }
        if (length >= maxNewTokens) {
            result = new Generation(Arrays.copyOf(generated, length), FinishReason.MAX_NEW_TOKENS);
            return Continuation.FINISHED;
        }
        return new Continuation(new int[] {0}, new int[] {best});
    }

    @Override
    public Generation result() {
        if (result == null) {
            throw new IllegalStateException("greedy search is still running");
        }
        return result;
    }
}
