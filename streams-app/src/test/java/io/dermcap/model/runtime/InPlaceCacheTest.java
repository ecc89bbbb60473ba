package io.dermcap.model.runtime;

import io.dermcap.model.EngineOptions;
import io.dermcap.model.generation.PrefillItem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What ONNX Runtime's attention does to the shared cache buffers of the tiny bundle's decoder: a
 * call writes only its own positions of each row, in our buffers (bound as past and present), and
 * never reads past a row's valid length (the rest of the buffers is NaN here, and every logit
 * stays finite and equal to a fresh prefill of the same tokens).
 */
class InPlaceCacheTest {

    private static final int CAPACITY = 48;
    private static OnnxCaptioner captioner;

    @BeforeAll
    static void load() throws Exception {
        captioner = OnnxCaptioner.load(ParityFixtures.TINY_BUNDLE, new EngineOptions(2, EngineOptions.OptimizationLevel.ALL,
                EngineOptions.ExecutionProvider.CPU, 0, true));
    }

    @AfterAll
    static void close() {
        captioner.close();
    }

    @Test
    void aStepWritesOnlyEachRowsNewPositionAndReadsOnlyValidOnes() throws Exception {
        OrtDecoder decoder = captioner.decoder;
        KvCache cache = decoder.cache();
        var model = captioner.bundle().manifest().model();
        int prefix = model.prefixTokens();
        Random random = new Random(3);
        float[] image = new float[prefix * model.hiddenSize()];
        for (int i = 0; i < image.length; i++) {
            image[i] = (float) random.nextGaussian();
        }
        int[] longPrompt = {464, 11, 257, 3332, 13};
        int[] shortPrompt = {464, 13};
        List<PrefillItem> items = List.of(new PrefillItem(image, longPrompt), new PrefillItem(image, shortPrompt));
        int tensors = 2 * model.numLayers();
        int heads = model.numHeads();
        int headDim = model.headDim();

        float[][] afterPrefill = captioner.onEngine(() -> {
            decoder.reserve(2, CAPACITY);
            for (int t = 0; t < tensors; t++) {
                FloatBuffer view = cache.view(t, 2).asFloatBuffer();
                for (int i = 0; i < view.capacity(); i++) {
                    view.put(i, Float.NaN);
                }
            }
            assertFinite(decoder.prefill(items), 2 * 50257);
            return snapshot(cache, tensors, 2);
        });
        int longest = prefix + longPrompt.length;
        assertThat(cache.length(0)).isEqualTo(longest);
        assertThat(cache.length(1)).isEqualTo(prefix + shortPrompt.length);
        for (int t = 0; t < tensors; t++) {
            for (int r = 0; r < 2; r++) {
                for (int h = 0; h < heads; h++) {
                    for (int p = 0; p < CAPACITY; p++) {
                        float x = afterPrefill[t][((r * heads + h) * CAPACITY + p) * headDim];
                        if (p < cache.length(r)) {
                            assertThat(x).as("tensor %d row %d head %d position %d", t, r, h, p).isFinite();
                        } else if (p >= longest) {
                            assertThat(x).as("tensor %d row %d head %d position %d", t, r, h, p).isNaN();
                        }
                    }
                }
            }
        }

        int[] next = {257, 3332};
        FloatBuffer stepLogits = captioner.onEngine(() -> copy(decoder.step(next), 2 * 50257));
        float[][] afterStep = captioner.onEngine(() -> snapshot(cache, tensors, 2));
        for (int t = 0; t < tensors; t++) {
            for (int r = 0; r < 2; r++) {
                int written = cache.length(r) - 1;
                for (int h = 0; h < heads; h++) {
                    for (int p = 0; p < CAPACITY; p++) {
                        for (int k = 0; k < headDim; k++) {
                            int i = ((r * heads + h) * CAPACITY + p) * headDim + k;
                            if (p == written) {
                                assertThat(afterStep[t][i]).as("new position %d of row %d", p, r).isFinite();
                            } else {
                                assertThat(Float.floatToRawIntBits(afterStep[t][i])).as("tensor %d row %d head %d position %d untouched", t, r, h, p)
                                        .isEqualTo(Float.floatToRawIntBits(afterPrefill[t][i]));
                            }
                        }
                    }
                }
            }
        }

        // the step's logits are those of prefilling the longer sequences from scratch
        FloatBuffer fresh = captioner.onEngine(() -> copy(decoder.prefill(List.of(
                new PrefillItem(image, new int[] {464, 11, 257, 3332, 13, 257}), new PrefillItem(image, new int[] {464, 13, 3332}))), 2 * 50257));
        // (float noise only: the tiny bundle's logits reach ~400, where summation order moves ~1e-3)
        double worst = 0;
        double scale = 0;
        for (int i = 0; i < 2 * 50257; i++) {
            worst = Math.max(worst, Math.abs(stepLogits.get(i) - fresh.get(i)));
            scale = Math.max(scale, Math.abs(fresh.get(i)));
        }
        System.out.printf("step vs fresh prefill: logits max |diff| %.3g at max |logit| %.3g%n", worst, scale);
        assertThat(worst / scale).as("logit difference relative to the largest logit").isLessThan(1e-5);
    }

    private static float[][] snapshot(KvCache cache, int tensors, int rows) {
        float[][] out = new float[tensors][];
        for (int t = 0; t < tensors; t++) {
            FloatBuffer view = cache.view(t, rows).asFloatBuffer();
            out[t] = new float[view.capacity()];
            view.get(0, out[t]);
        }
        return out;
    }

    private static FloatBuffer copy(FloatBuffer logits, int n) {
        FloatBuffer out = FloatBuffer.allocate(n);
        out.put(0, logits, 0, n);
        return out;
    }

    private static void assertFinite(FloatBuffer logits, int n) {
        for (int i = 0; i < n; i++) {
            assertThat(logits.get(i)).as("logit %d", i).isFinite();
        }
    }
}
