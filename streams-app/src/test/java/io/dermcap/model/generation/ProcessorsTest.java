package io.dermcap.model.generation;

import io.dermcap.model.GenerationSettings;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ProcessorsTest {

    private static GenerationSettings settings(int ngram, double penalty, int minNew) {
        return new GenerationSettings("p", 4, 60, minNew, ngram, penalty, 0.6, true);
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeScoresOncePerToken() {
        FloatBuffer logits = FloatBuffer.wrap(new float[] {2f, -2f, 1f, 0.5f});
        Processors p = new Processors(settings(0, 1.15, 0), 3);
        p.compute(logits, 0, new int[] {0, 1, 0, 0}, 4, x -> x);
        assertThat(p.size()).isEqualTo(2);
        assertThat(p.token(0)).isZero();
        assertThat(p.score(0)).isEqualTo(2f / 1.15f);
        assertThat(p.token(1)).isEqualTo(1);
        assertThat(p.score(1)).isEqualTo(-2f * 1.15f);
    }

    @Test
    void noRepeatNgramBansWhatWouldRepeatAGeneratedNgram() {
        FloatBuffer logits = FloatBuffer.wrap(new float[10]);
        Processors p = new Processors(settings(3, 1.0, 0), 9);
        // 5 6 7 ... 5 6 -> 7 would repeat "5 6 7"; 5 6 8 too
        p.compute(logits, 0, new int[] {5, 6, 7, 1, 5, 6, 8, 5, 6}, 9, x -> x);
        assertThat(bans(p)).containsExactlyInAnyOrder(7, 8);
        // the last n-1 tokens "6 8" never started an earlier 3-gram: nothing banned
        p.compute(logits, 0, new int[] {5, 6, 7, 1, 5, 6, 8}, 7, x -> x);
        assertThat(p.size()).isZero();
        // fewer than n-1 tokens: nothing to match
        p.compute(logits, 0, new int[] {5}, 1, x -> x);
        assertThat(p.size()).isZero();
    }

    /** NoBadWordsLogitsProcessor as in transformers 4.56.0 (the Python reference's test_generate has the same cases). */
    @Test
    void badWordsBanSingleTokensAlwaysAndSequencesAfterTheirPrefix() {
        FloatBuffer logits = FloatBuffer.wrap(new float[10]);
        GenerationSettings s = new GenerationSettings("card", "p", 4, 60, 0, 0, 1.0, 0.6, true,
                List.of(List.of(5), List.of(2, 4, 3), List.of(1, 0), List.of(9)), false);
        Processors p = new Processors(s, 9);
        p.compute(logits, 0, new int[] {1, 2, 4}, 3, x -> x);
        assertThat(bans(p)).containsExactlyInAnyOrder(5, 3); // [9] is EOS alone: dropped, as Hugging Face drops it
        p.compute(logits, 0, new int[] {2, 4, 1}, 3, x -> x);
        assertThat(bans(p)).containsExactlyInAnyOrder(5, 0);
        // a sequence longer than what was generated is skipped, even when the generated ids match its start
        p.compute(logits, 0, new int[] {2, 4}, 2, x -> x);
        assertThat(bans(p)).containsExactly(5);
        p.compute(logits, 0, new int[] {1}, 1, x -> x);
        assertThat(bans(p)).containsExactly(5);
    }

    @Test
    void aBannedTokenStaysBannedAfterTheRepetitionPenalty() {
        FloatBuffer logits = FloatBuffer.wrap(new float[] {1f, 2f, 3f, 4f});
        GenerationSettings s = new GenerationSettings("card", "p", 4, 60, 5, 0, 1.15, 0.6, true, List.of(List.of(1)), false);
        Processors p = new Processors(s, 3);
        p.compute(logits, 0, new int[] {1, 2}, 2, x -> x);
        assertThat(bans(p)).containsExactlyInAnyOrder(1, 3);
        assertThat(p.score(1)).isEqualTo(3f / 1.15f);
    }

    @Test
    void minNewTokensBansEosUntilEnoughTokens() {
        FloatBuffer logits = FloatBuffer.wrap(new float[10]);
        Processors p = new Processors(settings(0, 1.0, 2), 9);
        p.compute(logits, 0, new int[] {1}, 1, x -> x);
        assertThat(bans(p)).containsExactly(9);
        p.compute(logits, 0, new int[] {1, 2}, 2, x -> x);
        assertThat(p.size()).isZero();
    }

    @Test
    void maskHidesOverriddenTokensFromTheScan() {
        FloatBuffer logits = FloatBuffer.wrap(new float[] {1, 2, 3, 4, 5, 6, 7, 8});
        // two rows of a 4-token vocabulary, EOS = 3: the second row's EOS is masked, the first row's kept
        Processors p = new Processors(settings(0, 1.0, 5), 3);
        p.compute(logits, 4, new int[0], 0, x -> x);
        p.mask(logits, 4);
        assertThat(logits.get(4 + 3)).isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(logits.get(3)).isEqualTo(4f);
    }

    @Test
    void topKKeepsTheBestInOrderAndPrefersLowerIndicesOnTies() {
        TopK top = new TopK(3);
        float[] s = {0.5f, 2f, Float.NaN, 2f, -1f, 3f, 0.5f};
        for (int i = 0; i < s.length; i++) {
            top.offer(s[i], i);
        }
        assertThat(new int[] {top.index(0), top.index(1), top.index(2)}).containsExactly(5, 1, 3);
        assertThat(top.threshold()).isEqualTo(2f);
        assertThat(HfReference.topk(s, 3)).containsExactly(5, 1, 3);
    }

    @Test
    void fastExpIsWithinAFewUlpsOfMathExp() {
        double worst = 0;
        for (float x = -87f; x <= 0f; x += 0.0013f) {
            double exact = Math.exp(x);
            worst = Math.max(worst, Math.abs(LogSoftmax.exp(x) - exact) / exact);
        }
        assertThat(worst).isLessThan(3e-7);
        assertThat(LogSoftmax.exp(Float.NEGATIVE_INFINITY)).isZero();
        assertThat(LogSoftmax.exp(0f)).isEqualTo(1f);
    }

    @Test
    void logSoftmaxMatchesTheTwoPassDefinition() {
        java.util.Random random = new java.util.Random(2);
        float[] x = new float[50257];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (random.nextGaussian() * 4);
        }
        x[777] = 30f;
        LogSoftmax ls = new LogSoftmax();
        ls.of(FloatBuffer.wrap(x), 0, x.length);
        double sum = 0;
        for (float v : x) {
            sum += Math.exp(v - 30f);
        }
        assertThat(ls.max).isEqualTo(30f);
        assertThat((double) ls.logSum).isCloseTo(Math.log(sum), org.assertj.core.data.Offset.offset(1e-6));
    }

    private static java.util.List<Integer> bans(Processors p) {
        java.util.List<Integer> out = new java.util.ArrayList<>();
        for (int i = 0; i < p.size(); i++) {
            if (p.score(i) == Float.NEGATIVE_INFINITY) {
                out.add(p.token(i));
            }
        }
        return out;
    }
}
