package io.dermcap.model.generation;

import io.dermcap.model.Caption.FinishReason;
import io.dermcap.model.GenerationSettings;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Hugging Face's vectorised {@code _beam_search} (transformers 4.50+) for one item, in float32 as
 * torch computes it: log-softmax, the processors on the log-probabilities, plus the running beam
 * scores; the {@code 2 · beams} best continuations over all beams ({@code _get_top_k_continuations});
 * the best {@code beams} that did not hit EOS or the length limit keep running
 * ({@code _get_running_beams_for_next_iteration}); those among the top {@code beams} that did are
 * merged into the finished set with score {@code sum / length ** length_penalty}
 * ({@code _update_finished_beams}); then {@code _check_early_stop_heuristic}. The first step reads
 * one row: HF's other beams start at -1e9 and cannot win.
 */
final class BeamSearch implements Search {

    /** Hugging Face's "never pick this" offset. */
    private static final float NEG = -1.0e9f;

    private final Processors processors;
    private final int vocab;
    private final int eos;
    private final int beams;
    private final int keep;
    private final int maxLength;
    private final double lengthPenalty;
    private final boolean earlyStopping;

    private int[][] running;
    private int[][] nextRunning;
    private final float[] runningScores;
    private int length;

    private int[][] finished;
    private int[][] nextFinished;
    private final int[] finishedLength;
    private final float[] finishedScores;
    private final boolean[] isFinished;
    private boolean improvementPossible = true;

    private final LogSoftmax logSoftmax = new LogSoftmax();
    private final TopK candidates;
    private final TopK merge;
    private final float[] candidateScores;
    private final boolean[] hits;
    private Generation result;

    BeamSearch(GenerationSettings s, int vocabSize, int eosTokenId) {
        this.processors = new Processors(s, eosTokenId);
        this.vocab = vocabSize;
        this.eos = eosTokenId;
        this.beams = s.numBeams();
        this.keep = 2 * beams; // max(2, 1 + number of EOS ids) * beams, one EOS id
        this.maxLength = s.maxNewTokens();
        this.lengthPenalty = s.lengthPenalty();
        this.earlyStopping = s.earlyStopping();
        running = new int[beams][maxLength];
        nextRunning = new int[beams][maxLength];
        runningScores = new float[beams];
        Arrays.fill(runningScores, 1, beams, NEG);
        finished = new int[beams][maxLength];
        nextFinished = new int[beams][maxLength];
        finishedLength = new int[beams];
        finishedScores = new float[beams];
        Arrays.fill(finishedScores, NEG);
        isFinished = new boolean[beams];
        candidates = new TopK(keep);
        merge = new TopK(beams);
        candidateScores = new float[keep];
        hits = new boolean[keep];
    }

    @Override
    public Continuation step(FloatBuffer logits, int firstRow, int rows) {
        topContinuations(logits, firstRow, rows);

        // which candidates end here: EOS, or the length limit for all of them
        boolean atLimit = length + 1 >= maxLength;
        boolean allHit = true;
        for (int k = 0; k < keep; k++) {
            hits[k] = atLimit || candidates.index(k) % vocab == eos;
            allHit &= hits[k];
        }

        // the best `beams` candidates that did not finish keep running
        merge.clear();
        for (int k = 0; k < keep; k++) {
            float s = candidates.score(k);
            merge.offer(hits[k] ? s + NEG : s, k);
        }
        int[] sourceRows = new int[beams];
        int[] tokens = new int[beams];
        for (int j = 0; j < beams; j++) {
            int k = merge.index(j);
            sourceRows[j] = candidates.index(k) / vocab;
            tokens[j] = candidates.index(k) % vocab;
            System.arraycopy(running[sourceRows[j]], 0, nextRunning[j], 0, length);
            nextRunning[j][length] = tokens[j];
            runningScores[j] = merge.score(j);
        }

        updateFinished();

        int[][] t = running;
        running = nextRunning;
        nextRunning = t;
        length++;

        checkEarlyStopHeuristic();
        boolean allFinished = allFinished();
        if (!improvementPossible || (allFinished && earlyStopping) || allHit) {
            result = best();
            return Continuation.FINISHED;
        }
        return new Continuation(sourceRows, tokens);
    }

    /** log_softmax, processors, + running scores, then the top `keep` over all beams × vocabulary. */
    private void topContinuations(FloatBuffer logits, int firstRow, int rows) {
        candidates.clear();
        for (int b = 0; b < rows; b++) {
            int offset = (firstRow + b) * vocab;
            logSoftmax.of(logits, offset, vocab);
            final float rowMax = logSoftmax.max;
            final float logSum = logSoftmax.logSum;
            float beamScore = runningScores[b];
            processors.compute(logits, offset, running[b], length, x -> (x - rowMax) - logSum);
            processors.mask(logits, offset);
            int base = b * vocab;
            float threshold = candidates.threshold();
            for (int v = 0; v < vocab; v++) {
                float c = ((logits.get(offset + v) - rowMax) - logSum) + beamScore;
                if (c >= threshold) {
                    candidates.offer(c, base + v);
                    threshold = candidates.threshold();
                }
            }
            for (int i = 0; i < processors.size(); i++) {
                candidates.offer(processors.score(i) + beamScore, base + processors.token(i));
            }
        }
        if (candidates.size() < keep) {
            throw new IllegalStateException("fewer than " + keep + " candidates with a finite score");
        }
    }

    private void updateFinished() {
        float denominator = (float) Math.pow(length + 1, lengthPenalty);
        boolean full = allFinished() && earlyStopping;
        for (int k = 0; k < keep; k++) {
            float s = candidates.score(k) / denominator;
            if (full) {
                s += NEG;
            }
            if (!improvementPossible) {
                s += NEG;
            }
            if (!(hits[k] && k < beams)) {
                s += NEG;
            }
            candidateScores[k] = s;
        }
        // merge: the finished set first, then this step's candidates; keep the best `beams`
        merge.clear();
        for (int j = 0; j < beams; j++) {
            merge.offer(finishedScores[j], j);
        }
        for (int k = 0; k < keep; k++) {
            merge.offer(candidateScores[k], beams + k);
        }
        boolean[] nextIsFinished = new boolean[beams];
        int[] nextLength = new int[beams];
        float[] nextScores = new float[beams];
        for (int j = 0; j < beams; j++) {
            int m = merge.index(j);
            nextScores[j] = merge.score(j);
            if (m < beams) {
                System.arraycopy(finished[m], 0, nextFinished[j], 0, finishedLength[m]);
                nextLength[j] = finishedLength[m];
                nextIsFinished[j] = isFinished[m];
            } else {
                int k = m - beams;
                int index = candidates.index(k);
                System.arraycopy(running[index / vocab], 0, nextFinished[j], 0, length);
                nextFinished[j][length] = index % vocab;
                nextLength[j] = length + 1;
                nextIsFinished[j] = hits[k] && k < beams;
            }
        }
        int[][] t = finished;
        finished = nextFinished;
        nextFinished = t;
        System.arraycopy(nextLength, 0, finishedLength, 0, beams);
        System.arraycopy(nextScores, 0, finishedScores, 0, beams);
        System.arraycopy(nextIsFinished, 0, isFinished, 0, beams);
    }

    /** Can the best running beam still beat the worst finished one (early_stopping true or false)? */
    private void checkEarlyStopHeuristic() {
        float bestPossible = runningScores[0] / (float) Math.pow(length, lengthPenalty);
        float worst = Float.POSITIVE_INFINITY;
        for (float s : finishedScores) {
            worst = Math.min(worst, s);
        }
        boolean any = false;
        for (int j = 0; j < beams; j++) {
            any |= bestPossible > (isFinished[j] ? worst : NEG);
        }
        improvementPossible &= any;
    }

    private boolean allFinished() {
        for (boolean f : isFinished) {
            if (!f) {
                return false;
            }
        }
        return true;
    }

    private Generation best() {
        int n = finishedLength[0];
        int[] ids = Arrays.copyOf(finished[0], n);
        if (n > 0 && ids[n - 1] == eos) {
            return new Generation(Arrays.copyOf(ids, n - 1), FinishReason.EOS);
        }
        return new Generation(ids, FinishReason.MAX_NEW_TOKENS);
    }

    @Override
    public Generation result() {
        if (result == null) {
            throw new IllegalStateException("beam search is still running");
        }
        return result;
    }
}
