package io.dermcap.model.runtime;

import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KvCacheTest {

    private static final int TENSORS = 3;
    private static final int HEADS = 2;
    private static final int HEAD_DIM = 3;

    @Test
    void selectEqualsANaiveGatherForAnyMapping() {
        Random random = new Random(5);
        KvCache cache = new KvCache(TENSORS, HEADS, HEAD_DIM);
        cache.reserve(12, 9);
        int cycles = 0;
        for (int trial = 0; trial < 300; trial++) {
            int rows = 1 + random.nextInt(8);
            int length = 1 + random.nextInt(8);
            float[][] before = fill(cache, rows, length, random);
            int n = 1 + random.nextInt(12);
            int[] source = new int[n];
            for (int i = 0; i < n; i++) {
                // mostly near the diagonal, like beams: keep, shift, swap, repeat, drop
                source[i] = random.nextInt(3) == 0 ? random.nextInt(rows) : Math.min(rows - 1, Math.max(0, i + random.nextInt(3) - 1));
            }
            if (rows >= 2 && n >= 2 && random.nextBoolean()) {
                source[0] = 1; // a swap: a cycle
                source[1] = 0;
            }
            cycles += KvCache.plan(source, rows).stream().anyMatch(c -> c.kind() == KvCache.Kind.ROW_TO_STASH) ? 1 : 0;
            cache.select(source);
            assertThat(cache.rows()).isEqualTo(n);
            int block = length * HEADS * HEAD_DIM;
            for (int t = 0; t < TENSORS; t++) {
                FloatBuffer past = cache.past(t);
                for (int i = 0; i < n; i++) {
                    for (int k = 0; k < block; k++) {
                        assertThat(past.get(i * block + k)).as("trial %d tensor %d row %d", trial, t, i)
                                .isEqualTo(before[t][source[i] * block + k]);
                    }
                }
            }
        }
        assertThat(cycles).as("mappings that needed the stash").isGreaterThan(20);
    }

    @Test
    void beamShiftsNeedNoStashButASwapDoes() {
        // beams [0, 0, 1, 2]: copy 2→3, 1→2, 0→1, in that order, without the stash
        assertThat(KvCache.plan(new int[] {0, 0, 1, 2}, 4)).extracting(KvCache.Copy::kind).containsOnly(KvCache.Kind.ROW_TO_ROW).hasSize(3);
        // a swap is a cycle: one row goes through the stash
        assertThat(KvCache.plan(new int[] {1, 0}, 2)).extracting(KvCache.Copy::kind)
                .containsExactly(KvCache.Kind.ROW_TO_STASH, KvCache.Kind.ROW_TO_ROW, KvCache.Kind.STASH_TO_ROW);
        // identity: nothing to copy
        assertThat(KvCache.plan(new int[] {0, 1, 2}, 3)).isEmpty();
    }

    @Test
    void refusesRowsItDoesNotHaveAndSizesOverTheReservation() {
        KvCache cache = new KvCache(TENSORS, HEADS, HEAD_DIM);
        cache.reserve(2, 4);
        fill(cache, 2, 3, new Random(1));
        assertThatThrownBy(() -> cache.select(new int[] {2})).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("row 2 does not exist");
        assertThatThrownBy(() -> cache.present(0, 3, 4)).isInstanceOf(IllegalStateException.class).hasMessageContaining("exceed the reserved");
    }

    /** Writes random presents of rows × length and makes them the past; returns what was written. */
    private static float[][] fill(KvCache cache, int rows, int length, Random random) {
        float[][] data = new float[TENSORS][rows * length * HEADS * HEAD_DIM];
        for (int t = 0; t < TENSORS; t++) {
            FloatBuffer present = cache.present(t, rows, length);
            for (int i = 0; i < data[t].length; i++) {
                data[t][i] = random.nextFloat();
                present.put(i, data[t][i]);
            }
        }
        cache.advance(rows, length);
        return data;
    }
}
