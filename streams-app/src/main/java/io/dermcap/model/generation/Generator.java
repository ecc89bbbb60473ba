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

    /** This step of every live item (rows > 0); item i reads the rows after those of the live items before it. */
    private Continuation[] stepAll(Search[] searches, int[] rows, FloatBuffer logits) {
        int n = searches.length;
        Continuation[] next = new Continuation[n];
        int[] first = new int[n];
        int live = 0;
        for (int i = 0, row = 0; i < n; i++) {
            first[i] = row;
            row += rows[i];
            live += rows[i] > 0 ? 1 : 0;
        }
        if (searchPool == null || live < 2) {
            for (int i = 0; i < n; i++) {
                if (rows[i] > 0) {
                    next[i] = searches[i].step(logits, first[i], rows[i]);
                }
            }
            return next;
        }
        List<Callable<Void>> tasks = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (rows[i] > 0) {
                int item = i;
                tasks.add(() -> {
                    next[item] = searches[item].step(logits, first[item], rows[item]);
                    return null;
                });
            }
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
        int[] rows = new int[n];
        for (int i = 0; i < n; i++) {
            searches[i] = Search.of(settings.get(i), lm.vocabSize(), eosTokenId);
            rows[i] = 1;
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
            Continuation[] next = stepAll(searches, rows, logits);
            List<int[]> continuing = new ArrayList<>();
            int total = 0;
            int first = 0;
            for (int i = 0; i < n; i++) {
                if (rows[i] == 0) {
                    continue;
                }
                int[] source = next[i].sourceRows().clone();
                for (int j = 0; j < source.length; j++) {
                    source[j] += first;
                }
                continuing.add(source);
                continuing.add(next[i].tokens());
                total += source.length;
                first += rows[i];
                rows[i] = source.length;
            }
            search += System.nanoTime() - s0;
            if (total == 0) {
                break;
            }
            int[] sourceRows = new int[total];
            int[] tokens = new int[total];
            int at = 0;
            for (int p = 0; p < continuing.size(); p += 2) {
                int[] src = continuing.get(p);
                System.arraycopy(src, 0, sourceRows, at, src.length);
                System.arraycopy(continuing.get(p + 1), 0, tokens, at, src.length);
                at += src.length;
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
}
