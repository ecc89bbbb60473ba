package io.dermcap.demo;

import io.dermcap.events.CaptionEvent;
import io.dermcap.events.FailureEvent;
import io.dermcap.events.ModelLineage;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the demo sent and what came back: one entry per request, the outcome lines it prints as
 * they arrive (with the image's true attributes and how many the caption got right, when the
 * request has them), and the final summary. Times are {@link System#nanoTime()} values from the caller.
 */
public final class DemoLedger {

    private static final int CAPTION_WIDTH = 110;

    private final Map<String, Request> requests = new LinkedHashMap<>();
    private final List<CaptionEvent> captions = new ArrayList<>();
    private final List<FailureEvent> failures = new ArrayList<>();
    private final List<Double> latencies = new ArrayList<>();
    private long firstSent = Long.MAX_VALUE;
    private long lastOutcome;
    private int duplicates;
    private final CaptionScorer scorer;
    private int attributesMatched;
    private int attributesTotal;

    private static final class Request {
        final String label;
        final Map<String, String> truth;
        final long sentNanos;
        boolean answered;

        Request(String label, Map<String, String> truth, long sentNanos) {
            this.label = label;
            this.truth = truth;
            this.sentNanos = sentNanos;
        }
    }

    /** A ledger that does not score captions. */
    public DemoLedger() {
        this(null);
    }

    /** A ledger that scores the captions of requests sent with their image's attributes. */
    public DemoLedger(CaptionScorer scorer) {
        this.scorer = scorer;
    }

    /** Records a published request; {@code label} describes it in the outcome line (e.g. the image format and size). */
    public synchronized void sent(String requestId, String label, long nanos) {
        sent(requestId, label, null, nanos);
    }

    /** Records a published request for an image whose true attributes are {@code truth} (null: unknown). */
    public synchronized void sent(String requestId, String label, Map<String, String> truth, long nanos) {
        if (truth != null && scorer == null) {
            throw new IllegalStateException("this ledger has no scorer for the attributes of " + requestId);
        }
        requests.put(requestId, new Request(label, truth == null ? null : Map.copyOf(truth), nanos));
        firstSent = Math.min(firstSent, nanos);
    }

    /** Records a caption event; returns the lines to print, empty for an event of another run. */
    public synchronized List<String> caption(CaptionEvent e, long nanos) {
        Request r = answer(e.getRequestId(), nanos);
        if (r == null) {
            return duplicateNote(e.getRequestId());
        }
        captions.add(e);
        double latency = (nanos - r.sentNanos) / 1e9;
        latencies.add(latency);
        ModelLineage m = e.getModel();
        String head = String.format(Locale.ROOT, "%s %s  %s  %.2f s  batch %d  %s %s  %s", progress(), e.getRequestId(),
                r.label, latency, e.getRuntime().getBatchSize(), m.getBundleName(), m.getBundleVersion(), weights(m));
        String text = "        \"" + shorten(e.getCaption()) + "\" (" + e.getTokenCount() + " tokens)";
        if (r.truth == null) {
            return List.of(head, text);
        }
        CaptionScorer.Score score = scorer.score(e.getCaption(), r.truth);
        attributesMatched += score.matched();
        attributesTotal += score.total();
        StringBuilder truth = new StringBuilder("        truth ");
        r.truth.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(t -> truth.append(' ').append(t.getKey()).append('=').append(t.getValue()));
        truth.append(String.format(Locale.ROOT, "  -> %d/%d attributes", score.matched(), score.total()));
        if (!score.missed().isEmpty()) {
            truth.append(" (missed ").append(String.join(", ", score.missed())).append(')');
        }
        return List.of(head, text, truth.toString());
    }

    /** Records a failure event; returns the lines to print, empty for an event of another run. */
    public synchronized List<String> failure(FailureEvent e, long nanos) {
        Request r = answer(e.getRequestId(), nanos);
        if (r == null) {
            return duplicateNote(e.getRequestId());
        }
        failures.add(e);
        latencies.add((nanos - r.sentNanos) / 1e9);
        return List.of(String.format(Locale.ROOT, "%s %s  %s  FAILED %s (retryable %s, %d attempts): %s", progress(),
                e.getRequestId(), r.label, e.getCode(), e.getRetryable() ? "yes" : "no", e.getAttempts(), e.getMessage()));
    }

    private Request answer(String requestId, long nanos) {
        Request r = requests.get(requestId);
        if (r == null) {
            return null;
        }
        if (r.answered) {
            duplicates++;
            return null;
        }
        r.answered = true;
        lastOutcome = Math.max(lastOutcome, nanos);
        return r;
    }

    private List<String> duplicateNote(String requestId) {
        Request r = requests.get(requestId);
        return r == null ? List.of() : List.of("        (a second outcome for " + requestId + ", a redelivery: not counted)");
    }

    /** Lineage in one phrase: the checkpoint's sha256, or that the weights are random. */
    public static String weights(ModelLineage m) {
        if (m.getRandomWeights()) {
            return "random weights";
        }
        if (m.getCheckpoint() == null || m.getCheckpoint().getSha256() == null) {
            return "checkpoint sha256 unknown";
        }
        return "checkpoint " + m.getCheckpoint().getFile() + " sha256 " + m.getCheckpoint().getSha256().substring(0, 12) + "…";
    }

    private String progress() {
        int width = Integer.toString(requests.size()).length();
        return String.format(Locale.ROOT, "[%" + width + "d/%d]", answered(), requests.size());
    }

    private static String shorten(String caption) {
        String oneLine = caption.replaceAll("\\s+", " ");
        return oneLine.length() <= CAPTION_WIDTH ? oneLine : oneLine.substring(0, CAPTION_WIDTH - 1) + "…";
    }

    public synchronized int answered() {
        return captions.size() + failures.size();
    }

    public synchronized int expected() {
        return requests.size();
    }

    /** Every request has its outcome. */
    public synchronized boolean complete() {
        return !requests.isEmpty() && answered() == requests.size();
    }

    public synchronized List<CaptionEvent> captions() {
        return List.copyOf(captions);
    }

    public synchronized List<FailureEvent> failures() {
        return List.copyOf(failures);
    }

    /** The numbers of the run so far. */
    public synchronized Summary summary() {
        Map<String, Integer> byCode = new TreeMap<>();
        failures.forEach(f -> byCode.merge(f.getCode().name(), 1, Integer::sum));
        List<Double> sorted = new ArrayList<>(latencies);
        Collections.sort(sorted);
        double seconds = answered() == 0 ? 0 : (lastOutcome - firstSent) / 1e9;
        int[] batches = captions.stream().mapToInt(c -> c.getRuntime().getBatchSize()).toArray();
        List<String> missing = requests.entrySet().stream().filter(e -> !e.getValue().answered).map(Map.Entry::getKey).toList();
        return new Summary(requests.size(), captions.size(), byCode, missing, duplicates, attributesMatched, attributesTotal, seconds,
                percentile(sorted, 0.50), percentile(sorted, 0.99), sorted.isEmpty() ? Double.NaN : sorted.get(sorted.size() - 1),
                batches.length == 0 ? Double.NaN : java.util.Arrays.stream(batches).average().orElse(0),
                batches.length == 0 ? 0 : java.util.Arrays.stream(batches).max().orElse(0));
    }

    /** Nearest-rank percentile of sorted values; NaN when there are none. */
    static double percentile(List<Double> sorted, double p) {
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
    }

    /**
     * @param attributesMatched attributes the captions stated as their images have them (of {@code attributesTotal};
     *                          0 of 0 when no request had known attributes)
     * @param seconds    from the first request sent to the last outcome read
     * @param meanBatch  mean model batch size over the captions (each caption counts its batch once)
     */
    public record Summary(int requests, int captions, Map<String, Integer> failuresByCode, List<String> missing,
                          int duplicates, int attributesMatched, int attributesTotal, double seconds, double p50, double p99, double max, double meanBatch,
                          int maxBatch) {

        public int failures() {
            return failuresByCode.values().stream().mapToInt(Integer::intValue).sum();
        }

        public int answered() {
            return captions + failures();
        }

        /** The demo's requests are all valid, so success is a caption for every one. */
        public boolean success() {
            return requests > 0 && captions == requests;
        }

        /** Share of the known attributes the captions got right; NaN when none were known. */
        public double attributeAccuracy() {
            return attributesTotal == 0 ? Double.NaN : (double) attributesMatched / attributesTotal;
        }

        public double throughput() {
            return seconds > 0 ? answered() / seconds : Double.NaN;
        }

        public List<String> lines() {
            List<String> out = new ArrayList<>();
            out.add(String.format(Locale.ROOT, "requests    %d sent, %d answered: %d captions, %d failures; %d unanswered; %d redelivered",
                    requests, answered(), captions, failures(), missing.size(), duplicates));
            out.add("failures    " + (failuresByCode.isEmpty() ? "none" : failuresByCode.toString()));
            if (answered() > 0) {
                out.add(String.format(Locale.ROOT, "throughput  %.2f outcomes/s (%d in %.1f s, first request sent to last outcome read)",
                        throughput(), answered(), seconds));
                out.add(String.format(Locale.ROOT, "latency     p50 %.2f s, p99 %.2f s, max %.2f s (request sent to outcome read)",
                        p50, p99, max));
            }
            if (captions > 0) {
                out.add(String.format(Locale.ROOT, "batches     mean model batch %.1f, largest %d", meanBatch, maxBatch));
            }
            if (attributesTotal > 0) {
                out.add(String.format(Locale.ROOT, "attributes matched %d/%d (%.1f %%; each caption read back into the "
                        + "drawing's attributes and compared with its truth)", attributesMatched, attributesTotal,
                        100 * attributeAccuracy()));
            }
            if (!missing.isEmpty()) {
                out.add("unanswered  " + String.join(", ", missing.subList(0, Math.min(10, missing.size())))
                        + (missing.size() > 10 ? ", …" : ""));
            }
            return out;
        }
    }
}
