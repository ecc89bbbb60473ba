package io.dermcap.model.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KvCacheTest {

    private static final int TENSORS = 3;
    private static final int HEADS = 2;
    private static final int HEAD_DIM = 3;
    private static final int CAPACITY = 9;

    @ParameterizedTest(name = "{0}-byte elements")
    @ValueSource(ints = {4, 2}) // a float32 or a float16 cache
    void selectEqualsANaiveGatherOfValidPositionsForAnyMapping(int elementBytes) {
        Random random = new Random(5);
        KvCache cache = new KvCache(TENSORS, HEADS, HEAD_DIM, elementBytes);
        cache.reserve(12, CAPACITY);
        int cycles = 0;
        for (int trial = 0; trial < 300; trial++) {
            int rows = 1 + random.nextInt(8);
            int[] lengths = new int[rows];
            for (int r = 0; r < rows; r++) {
                lengths[r] = 1 + random.nextInt(CAPACITY);
            }
            float[][] before = fill(cache, elementBytes, lengths, random);
            int n = 1 + random.nextInt(12);
            int[] source = new int[n];
            for (int i = 0; i < n; i++) {
                // mostly near the diagonal, like beams: keep, shift, swap, repeat, drop
                source[i] = random.nextInt(3) == 0 ? random.nextInt(rows) : Math.min(rows - 1, Math.max(0, i + random.nextInt(3) - 1));
            }
            if (rows >= 4 && n >= 4 && random.nextBoolean()) {
                source[0] = 1; // two swaps: two cycles, one stash
                source[1] = 0;
                source[2] = 3;
                source[3] = 2;
            }
            cycles += KvCache.plan(source, rows).stream().anyMatch(c -> c.kind() == KvCache.Kind.ROW_TO_STASH) ? 1 : 0;
            cache.select(source);
            assertThat(cache.rows()).isEqualTo(n);
            for (int i = 0; i < n; i++) {
                assertThat(cache.length(i)).isEqualTo(lengths[source[i]]);
            }
            for (int t = 0; t < TENSORS; t++) {
                ByteBuffer view = cache.view(t, n);
                for (int i = 0; i < n; i++) {
                    for (int h = 0; h < HEADS; h++) {
                        for (int k = 0; k < lengths[source[i]] * HEAD_DIM; k++) {
                            assertThat(get(view, elementBytes, at(i, h) + k)).as("trial %d tensor %d row %d head %d", trial, t, i, h)
                                    .isEqualTo(before[t][at(source[i], h) + k]);
                        }
                    }
                }
            }
        }
        assertThat(cycles).as("mappings that needed the stash").isGreaterThan(20);
    }

    @Test
    void beamsCopyOnlyThePositionsWhereTheyDifferFromTheirSource() {
        // prefill 3 items, expand each to 4 beams, then decode: every step writes one new position
        // per row (as the decoder does) and reorders the beams within each item, cycles included
        Random random = new Random(11);
        int items = 3;
        int beams = 4;
        int prefill = 5;
        KvCache cache = new KvCache(TENSORS, HEADS, HEAD_DIM, 4);
        cache.reserve(items * beams, CAPACITY); // prefill + 4 steps
        int[] lengths = new int[items];
        Arrays.fill(lengths, prefill);
        lengths[1] = prefill - 2; // items of different prompt lengths
        float[][] expected = fill(cache, 4, lengths, random);
        int[] expand = new int[items * beams];
        for (int i = 0; i < expand.length; i++) {
            expand[i] = i / beams;
        }
        expected = gather(expected, expand);
        cache.select(expand);
        long copiedBefore = cache.positionsCopied();
        long naive = 0;
        for (int step = 0; step < 4; step++) {
            for (int t = 0; t < TENSORS; t++) { // the decoder writes position length(r) of every row
                ByteBuffer view = cache.view(t, expand.length);
                for (int r = 0; r < expand.length; r++) {
                    for (int h = 0; h < HEADS; h++) {
                        for (int d = 0; d < HEAD_DIM; d++) {
                            int at = at(r, h) + cache.length(r) * HEAD_DIM + d;
                            expected[t][at] = random.nextFloat();
                            view.putFloat(4 * at, expected[t][at]);
                        }
                    }
                }
            }
            cache.grow();
            int[] source = new int[expand.length];
            for (int item = 0; item < items; item++) {
                int[] order = step % 2 == 0 ? new int[] {0, 0, 1, 2} : new int[] {1, 0, 3, 3};
                for (int b = 0; b < beams; b++) {
                    source[item * beams + b] = item * beams + order[b];
                }
            }
            for (int i = 0; i < source.length; i++) {
                naive += source[i] == i ? 0 : (long) TENSORS * HEADS * cache.length(source[i]);
            }
            int[] before = lengthsOf(cache);
            cache.select(source);
            expected = gather(expected, source);
            for (int t = 0; t < TENSORS; t++) {
                ByteBuffer view = cache.view(t, source.length);
                for (int i = 0; i < source.length; i++) {
                    assertThat(cache.length(i)).isEqualTo(before[source[i]]);
                    for (int h = 0; h < HEADS; h++) {
                        for (int k = 0; k < cache.length(i) * HEAD_DIM; k++) {
                            assertThat(get(view, 4, at(i, h) + k)).as("step %d tensor %d row %d head %d at %d", step, t, i, h, k)
                                    .isEqualTo(expected[t][at(i, h) + k]);
                        }
                    }
                }
            }
        }
        long copied = cache.positionsCopied() - copiedBefore;
        assertThat(copied).as("positions copied by the reorders, against whole valid rows %d", naive)
                .isPositive().isLessThan(naive / 2);
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
    void refusesRowsItDoesNotHaveAndLengthsOverTheReservation() {
        KvCache cache = new KvCache(TENSORS, HEADS, HEAD_DIM, 4);
        cache.reserve(2, CAPACITY);
        fill(cache, 4, new int[] {CAPACITY - 1, CAPACITY}, new Random(1));
        assertThatThrownBy(() -> cache.select(new int[] {2})).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("row 2 does not exist");
        assertThatThrownBy(cache::grow).isInstanceOf(IllegalStateException.class).hasMessageContaining("exceed the reserved");
        assertThatThrownBy(() -> cache.start(new int[] {1, 1, 1})).isInstanceOf(IllegalStateException.class).hasMessageContaining("exceed the reserved");
    }

    @ParameterizedTest(name = "{0}-byte elements")
    @ValueSource(ints = {4, 2})
    void aLargerReservationReplacesTheBuffersAndASmallerOneKeepsThem(int elementBytes) {
        KvCache cache = new KvCache(TENSORS, HEADS, HEAD_DIM, elementBytes);
        cache.reserve(2, 4);
        ByteBuffer first = cache.view(0, 2);
        cache.reserve(1, 3);
        assertThat(cache.capacity()).isEqualTo(4);
        assertThat(cache.view(0, 2).capacity()).isEqualTo(first.capacity());
        cache.reserve(3, 5);
        assertThat(cache.capacity()).isEqualTo(5);
        assertThat(cache.view(0, 3).capacity()).isEqualTo(elementBytes * 3 * HEADS * 5 * HEAD_DIM);
    }

    /** The tensors as a select of {@code source} should leave them (row i = old row source[i], whole). */
    private static float[][] gather(float[][] tensors, int[] source) {
        int row = HEADS * CAPACITY * HEAD_DIM;
        float[][] out = new float[TENSORS][];
        for (int t = 0; t < TENSORS; t++) {
            out[t] = new float[Math.max(tensors[t].length, source.length * row)];
            for (int i = 0; i < source.length; i++) {
                System.arraycopy(tensors[t], source[i] * row, out[t], i * row, row);
            }
        }
        return out;
    }

    private static int[] lengthsOf(KvCache cache) {
        int[] lengths = new int[cache.rows()];
        for (int r = 0; r < lengths.length; r++) {
            lengths[r] = cache.length(r);
        }
        return lengths;
    }

    /** Offset of row r, head h in a [rows, heads, CAPACITY, headDim] tensor. */
    private static int at(int row, int head) {
        return (row * HEADS + head) * CAPACITY * HEAD_DIM;
    }

    /**
     * Writes random values into every row's valid positions, the rest -1; returns the tensors as
     * written. Values are whole numbers below 2^15, so a 2-byte element holds them as a short.
     */
    private static float[][] fill(KvCache cache, int elementBytes, int[] lengths, Random random) {
        int rows = lengths.length;
        float[][] data = new float[TENSORS][rows * HEADS * CAPACITY * HEAD_DIM];
        cache.start(lengths);
        for (int t = 0; t < TENSORS; t++) {
            ByteBuffer view = cache.view(t, rows);
            for (int r = 0; r < rows; r++) {
                for (int h = 0; h < HEADS; h++) {
                    for (int k = 0; k < CAPACITY * HEAD_DIM; k++) {
                        float value = k < lengths[r] * HEAD_DIM ? random.nextInt(1 << 15) : -1;
                        data[t][at(r, h) + k] = value;
                        if (elementBytes == 4) {
                            view.putFloat(4 * (at(r, h) + k), value);
                        } else {
                            view.putShort(2 * (at(r, h) + k), (short) value);
                        }
                    }
                }
            }
        }
        return data;
    }

    private static float get(ByteBuffer view, int elementBytes, int index) {
        return elementBytes == 4 ? view.getFloat(4 * index) : view.getShort(2 * index);
    }
}
