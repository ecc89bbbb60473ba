package io.dermcap.model.generation;

import io.dermcap.model.GenerationSettings;
import io.dermcap.model.ModelException;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * One batched decoding loop for many items, each with its own settings (greedy or beam): a single
 * prefill for all items, then one decoder call per step for every live row of every item. An
 * item's beams are expanded from its prefilled row by the cache's row selection, and an item that
 * finishes leaves the batch, so later steps run fewer rows.
 */
public final class Generator {

    private final int eosTokenId;
    private final ExecutorService searchPool;

    /**
     * @param searchPool where the items' searches of one step run side by side (each reads only its
     *                   own logits rows), while the decoder waits; null runs them one after another
     */
    public Generator(int eosTokenId, ExecutorService searchPool) {
        this.eosTokenId = eosTokenId;
        this.searchPool = searchPool;
    }

    /** The generations in item order, and where the time went. */
    public record Outcome(List<Generation> generations, Timings timings) {
    }

    /**
     * @param prefillNanos the prefill call
     * @param stepNanos    the decoder calls after it
     * @param selectNanos  cache row selection (beam reordering, expansion, dropping finished items)
     * @param searchNanos  log-softmax, processors and top-k in Java
     * @param steps        decoder calls after the prefill
     * @param rowSteps     rows summed over those calls
     */
    public record Timings(long prefillNanos, long stepNanos, long selectNanos, long searchNanos, int steps, long rowSteps) {
    }

    /** This step of every live item; {@code rows[i][j]} is the logits row of item i's beam j. */
    private Continuation[] stepAll(Search[] searches, int[][] rows, FloatBuffer logits) {
        int n = searches.length;
        Continuation[] next = new Continuation[n];
        List<Callable<Void>> tasks = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (rows[i].length > 0) {
                int item = i;
                tasks.add(() -> {
                    next[item] = searches[item].step(logits, rows[item]);
                    return null;
                });
            }
        }
        if (searchPool == null || tasks.size() < 2) {
            for (Callable<Void> task : tasks) {
                try {
                    task.call();
                } catch (Exception e) {
                    throw e instanceof RuntimeException r ? r : new IllegalStateException(e);
                }
            }
            return next;
        }
        try {
            for (Future<Void> f : searchPool.invokeAll(tasks)) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during the search", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
        return next;
    }

    public Outcome generate(DecoderSession lm, List<PrefillItem> items, List<GenerationSettings> settings) throws ModelException {
        if (items.size() != settings.size()) {
            throw new IllegalArgumentException(items.size() + " items but " + settings.size() + " settings");
        }
        int n = items.size();
        Search[] searches = new Search[n];
        // slot[i][j]: where item i's beam j sits inside the item's block of cache rows
        int[][] slot = new int[n][];
        for (int i = 0; i < n; i++) {
            searches[i] = Search.of(settings.get(i), lm.vocabSize(), eosTokenId);
            slot[i] = new int[] {0};
        }
        long t0 = System.nanoTime();
        FloatBuffer logits = lm.prefill(items);
        long prefill = System.nanoTime() - t0;
        long step = 0;
        long select = 0;
        long search = 0;
        int steps = 0;
        long rowSteps = 0;
        while (true) {
            long s0 = System.nanoTime();
            int[][] rows = new int[n][];
            for (int i = 0, first = 0; i < n; first += slot[i].length, i++) {
                rows[i] = new int[slot[i].length];
                for (int j = 0; j < slot[i].length; j++) {
                    rows[i][j] = first + slot[i][j];
                }
            }
            Continuation[] next = stepAll(searches, rows, logits);
            int total = 0;
            for (int i = 0; i < n; i++) {
                if (next[i] != null) {
                    total += next[i].parents().length;
                }
            }
            int[] sourceRows = new int[total];
            int[] tokens = new int[total];
            for (int i = 0, first = 0; i < n; i++) {
                if (next[i] == null) {
                    continue;
                }
                slot[i] = place(next[i].parents(), slot[i]);
                for (int j = 0; j < slot[i].length; j++) {
                    sourceRows[first + slot[i][j]] = rows[i][next[i].parents()[j]];
                    tokens[first + slot[i][j]] = next[i].tokens()[j];
                }
                first += slot[i].length;
            }
            search += System.nanoTime() - s0;
            if (total == 0) {
                break;
            }
            long s1 = System.nanoTime();
            lm.select(sourceRows);
            long s2 = System.nanoTime();
            logits = lm.step(tokens);
            long s3 = System.nanoTime();
            select += s2 - s1;
            step += s3 - s2;
            steps++;
            rowSteps += total;
        }
        List<Generation> out = new ArrayList<>(n);
        for (Search s : searches) {
            out.add(s.result());
        }
        return new Outcome(out, new Timings(prefill, step, select, search, steps, rowSteps));
    }

    /**
     * Where the next beams sit in the item's block, so that as few cache rows as possible are
     * copied: the first child of a beam stays in its parent's row; further children take the rows
     * of beams that had none. (The search's beam order, which Hugging Face's tie-breaking and
     * early-stop check depend on, is untouched: only the rows move.)
     */
    static int[] place(int[] parents, int[] parentSlot) {
        int m = parents.length;
        int[] out = new int[m];
        boolean[] taken = new boolean[Math.max(m, parentSlot.length)];
        boolean[] parentStayed = new boolean[parentSlot.length];
        java.util.Arrays.fill(out, -1);
        for (int j = 0; j < m; j++) {
            int p = parents[j];
            if (!parentStayed[p] && parentSlot[p] < m && !taken[parentSlot[p]]) {
                out[j] = parentSlot[p];
                parentStayed[p] = true;
                taken[out[j]] = true;
            }
        }
        for (int j = 0, free = 0; j < m; j++) {
            if (out[j] < 0) {
                while (taken[free]) {
                    free++;
                }
                out[j] = free;
                taken[free] = true;
            }
        }
        return out;
    }
}
