package io.dermcap.model.generation;

import io.dermcap.model.Caption.FinishReason;
import io.dermcap.model.GenerationSettings;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * A plain transcription of Hugging Face's {@code _sample} (greedy) and vectorised
 * {@code _beam_search} for one item, on whole score arrays: every beam is scored at every step
 * (including the -1e9 beams of the first step), candidates are chosen by sorting, sequences are
 * copied. Slow and obvious on purpose: the batched {@link Generator} must agree with it.
 */
final class HfReference {

    private static final float NEG = -1.0e9f;

    private HfReference() {
    }

    static Generation generate(ToyModel m, int item, GenerationSettings s) {
        return s.numBeams() > 1 ? beam(m, item, s) : greedy(m, item, s);
    }

    static Generation greedy(ToyModel m, int item, GenerationSettings s) {
        List<Integer> out = new ArrayList<>();
        while (true) {
            int[] gen = out.stream().mapToInt(Integer::intValue).toArray();
            float[] scores = process(m.logits(item, gen), gen, s, m.eos);
            int best = 0;
            for (int v = 1; v < scores.length; v++) {
                if (scores[v] > scores[best]) {
                    best = v;
                }
            }
            out.add(best);
            if (best == m.eos) {
                return new Generation(out.subList(0, out.size() - 1).stream().mapToInt(Integer::intValue).toArray(), FinishReason.EOS);
            }
            if (out.size() >= s.maxNewTokens()) {
                return new Generation(out.stream().mapToInt(Integer::intValue).toArray(), FinishReason.MAX_NEW_TOKENS);
            }
        }
    }

    static Generation beam(ToyModel m, int item, GenerationSettings s) {
        int nb = s.numBeams();
        int keep = 2 * nb;
        int maxLength = s.maxNewTokens();
        int vocab = m.vocab;
        int[][] running = new int[nb][0];
        float[] runningScores = new float[nb];
        Arrays.fill(runningScores, 1, nb, NEG);
        int[][] sequences = new int[nb][0];
        float[] beamScores = new float[nb];
        Arrays.fill(beamScores, NEG);
        boolean[] isSentFinished = new boolean[nb];
        boolean unsatisfied = true;
        int curLen = 0;
        while (true) {
            float[] acc = new float[nb * vocab];
            for (int b = 0; b < nb; b++) {
                float[] logProbs = process(logSoftmax(m.logits(item, running[b])), running[b], s, m.eos);
                for (int v = 0; v < vocab; v++) {
                    acc[b * vocab + v] = logProbs[v] + runningScores[b];
                }
            }
            int[] top = topk(acc, keep);
            float[] topScores = new float[keep];
            int[][] topSeqs = new int[keep][];
            boolean[] hits = new boolean[keep];
            for (int k = 0; k < keep; k++) {
                topScores[k] = acc[top[k]];
                int[] seq = Arrays.copyOf(running[top[k] / vocab], curLen + 1);
                seq[curLen] = top[k] % vocab;
                topSeqs[k] = seq;
                hits[k] = seq[curLen] == m.eos || curLen + 1 >= maxLength;
            }
            // _get_running_beams_for_next_iteration
            float[] cont = new float[keep];
            for (int k = 0; k < keep; k++) {
                cont[k] = topScores[k] + (hits[k] ? NEG : -0.0f);
            }
            int[] next = topk(cont, nb);
            int[][] nextRunning = new int[nb][];
            float[] nextScores = new float[nb];
            for (int j = 0; j < nb; j++) {
                nextRunning[j] = topSeqs[next[j]];
                nextScores[j] = cont[next[j]];
            }
            // _update_finished_beams
            float[] t = new float[keep];
            boolean full = all(isSentFinished) && s.earlyStopping();
            for (int k = 0; k < keep; k++) {
                t[k] = topScores[k] / (float) Math.pow(curLen + 1, s.lengthPenalty());
                t[k] += full ? NEG : 0f;
                t[k] += !unsatisfied ? NEG : 0f;
                t[k] += !(hits[k] && k < nb) ? NEG : 0f;
            }
            float[] merged = new float[nb + keep];
            System.arraycopy(beamScores, 0, merged, 0, nb);
            System.arraycopy(t, 0, merged, nb, keep);
            int[] best = topk(merged, nb);
            int[][] newSequences = new int[nb][];
            float[] newScores = new float[nb];
            boolean[] newFinished = new boolean[nb];
            for (int j = 0; j < nb; j++) {
                int i = best[j];
                newScores[j] = merged[i];
                newSequences[j] = i < nb ? sequences[i] : topSeqs[i - nb];
                newFinished[j] = i < nb ? isSentFinished[i] : hits[i - nb] && i - nb < nb;
            }
            sequences = newSequences;
            beamScores = newScores;
            isSentFinished = newFinished;
            running = nextRunning;
            runningScores = nextScores;
            curLen++;
            // _check_early_stop_heuristic
            float bestPossible = runningScores[0] / (float) Math.pow(curLen, s.lengthPenalty());
            float worst = Float.POSITIVE_INFINITY;
            for (float b : beamScores) {
                worst = Math.min(worst, b);
            }
            boolean any = false;
            for (int j = 0; j < nb; j++) {
                any |= bestPossible > (isSentFinished[j] ? worst : NEG);
            }
            unsatisfied &= any;
            boolean allHits = true;
            for (boolean h : hits) {
                allHits &= h;
            }
            if (!(unsatisfied && !(all(isSentFinished) && s.earlyStopping()) && !allHits)) {
                break;
            }
        }
        int[] out = sequences[0];
        if (out.length > 0 && out[out.length - 1] == m.eos) {
            return new Generation(Arrays.copyOf(out, out.length - 1), FinishReason.EOS);
        }
        return new Generation(out, FinishReason.MAX_NEW_TOKENS);
    }

    /** Repetition penalty (gather, penalise, scatter), no-repeat n-gram, min new tokens: whole-array versions. */
    static float[] process(float[] scores, int[] generated, GenerationSettings s, int eos) {
        float[] out = scores.clone();
        float p = (float) s.repetitionPenalty();
        for (int t : generated) {
            float v = scores[t];
            out[t] = v < 0 ? v * p : v / p;
        }
        int n = s.noRepeatNgramSize();
        int len = generated.length;
        if (n > 0 && len + 1 >= n) {
            Map<List<Integer>, List<Integer>> ngrams = new HashMap<>();
            for (int i = 0; i + n <= len; i++) {
                List<Integer> key = new ArrayList<>();
                for (int j = i; j < i + n - 1; j++) {
                    key.add(generated[j]);
                }
                ngrams.computeIfAbsent(key, k -> new ArrayList<>()).add(generated[i + n - 1]);
            }
            List<Integer> prefix = new ArrayList<>();
            for (int j = len + 1 - n; j < len; j++) {
                prefix.add(generated[j]);
            }
            for (int banned : ngrams.getOrDefault(prefix, List.of())) {
                out[banned] = Float.NEGATIVE_INFINITY;
            }
        }
        if (len < s.minNewTokens()) {
            out[eos] = Float.NEGATIVE_INFINITY;
        }
        return out;
    }

    static float[] logSoftmax(float[] x) {
        float max = Float.NEGATIVE_INFINITY;
        for (float v : x) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : x) {
            sum += Math.exp(v - max);
        }
        float logSum = (float) Math.log(sum);
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = (x[i] - max) - logSum;
        }
        return out;
    }

    /** Indices of the k largest values, largest first, lower index first among equals. */
    static int[] topk(float[] x, int k) {
        return IntStream.range(0, x.length).boxed()
                .sorted(Comparator.<Integer>comparingDouble(i -> -x[i]).thenComparingInt(i -> i))
                .limit(k).mapToInt(Integer::intValue).toArray();
    }

    private static boolean all(boolean[] b) {
        for (boolean v : b) {
            if (!v) {
                return false;
            }
        }
        return true;
    }
}
