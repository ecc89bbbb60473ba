package io.dermcap.model.generation;

/**
 * The k best (score, index) pairs offered, best first; equal scores keep the lower index first
 * (what {@code torch.topk} does on the CPU for the sizes used here). NaN scores are never kept.
 */
final class TopK {

    private final float[] scores;
    private final int[] indices;
    private int size;

    TopK(int capacity) {
        scores = new float[capacity];
        indices = new int[capacity];
    }

    void clear() {
        size = 0;
    }

    int size() {
        return size;
    }

    float score(int i) {
        return scores[i];
    }

    int index(int i) {
        return indices[i];
    }

    /** The score a new pair must reach to be considered (-inf until full). */
    float threshold() {
        return size < scores.length ? Float.NEGATIVE_INFINITY : scores[size - 1];
    }

    void offer(float score, int index) {
        if (!(score >= threshold())) {
            return;
        }
        int at = size < scores.length ? size : size - 1;
        if (at == size - 1 && !better(score, index, scores[at], indices[at])) {
            return;
        }
        while (at > 0 && better(score, index, scores[at - 1], indices[at - 1])) {
            scores[at] = scores[at - 1];
            indices[at] = indices[at - 1];
            at--;
        }
        scores[at] = score;
        indices[at] = index;
        if (size < scores.length) {
            size++;
        }
    }

    private static boolean better(float s, int i, float t, int j) {
        return s > t || (s == t && i < j);
    }
}
