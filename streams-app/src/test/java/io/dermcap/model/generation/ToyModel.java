package io.dermcap.model.generation;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A deterministic stand-in language model for the search tests: the logits of a row are a hash of
 * its item, its last two tokens, its length and the candidate token, with EOS growing likelier as
 * the row grows. {@link Session} drives it like the real decoder (rows, select, step) and counts
 * how it is driven; {@link #logits} gives the same numbers for a history directly.
 */
final class ToyModel {

    final int vocab;
    final int eos;

    ToyModel(int vocab) {
        this.vocab = vocab;
        this.eos = vocab - 1;
    }

    float[] logits(int item, int[] history) {
        float[] out = new float[vocab];
        int n = history.length;
        int a = n > 0 ? history[n - 1] : -1;
        int b = n > 1 ? history[n - 2] : -1;
        for (int v = 0; v < vocab; v++) {
            long h = item * 0x9E3779B97F4A7C15L + a * 0xBF58476D1CE4E5B9L + b * 0x94D049BB133111EBL + n * 31L + v * 0x2545F4914F6CDD1DL;
            h ^= h >>> 31;
            h *= 0x7FB5D329728EA185L;
            h ^= h >>> 27;
            out[v] = ((h >>> 40) / (float) (1L << 24)) * 8f - 4f;
        }
        out[eos] += n * 0.15f - 2f;
        return out;
    }

    final class Session implements DecoderSession {
        private List<int[]> histories = new ArrayList<>();
        private List<Integer> itemOfRow = new ArrayList<>();
        final List<Integer> rowsPerStep = new ArrayList<>();
        int prefills;

        @Override
        public int vocabSize() {
            return vocab;
        }

        @Override
        public FloatBuffer prefill(List<PrefillItem> items) {
            prefills++;
            histories = new ArrayList<>();
            itemOfRow = new ArrayList<>();
            for (PrefillItem item : items) {
                histories.add(new int[0]);
                itemOfRow.add((int) item.prefixEmbeds()[0]);
            }
            return logitsOfRows();
        }

        @Override
        public void select(int[] rows) {
            List<int[]> h = new ArrayList<>();
            List<Integer> items = new ArrayList<>();
            for (int r : rows) {
                h.add(histories.get(r));
                items.add(itemOfRow.get(r));
            }
            histories = h;
            itemOfRow = items;
        }

        @Override
        public FloatBuffer step(int[] tokens) {
            if (tokens.length != histories.size()) {
                throw new IllegalStateException(tokens.length + " tokens for " + histories.size() + " rows");
            }
            rowsPerStep.add(tokens.length);
            for (int r = 0; r < tokens.length; r++) {
                int[] h = Arrays.copyOf(histories.get(r), histories.get(r).length + 1);
                h[h.length - 1] = tokens[r];
                histories.set(r, h);
            }
            return logitsOfRows();
        }

        private FloatBuffer logitsOfRows() {
            FloatBuffer out = FloatBuffer.allocate(histories.size() * vocab);
            for (int r = 0; r < histories.size(); r++) {
                out.put(logits(itemOfRow.get(r), histories.get(r)));
            }
            return out.clear();
        }
    }
}
