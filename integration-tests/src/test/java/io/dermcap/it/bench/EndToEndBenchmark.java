package io.dermcap.it.bench;

import io.dermcap.events.CaptionEvent;
import io.dermcap.events.CaptionRequest;
import io.dermcap.image.ImageException;
import io.dermcap.image.ImagePreprocessor;
import io.dermcap.it.service.Lesions;
import io.dermcap.it.service.Outcomes;
import io.dermcap.it.service.ServiceScenario;
import io.dermcap.model.Captioner;
import io.dermcap.model.GenerationSettings;
import io.dermcap.model.runtime.OnnxCaptioner;
import io.dermcap.testing.TestDefaults;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The end-to-end benchmark (not part of the test suite: run it by name, see docs/benchmarks.md).
 * In one JVM and one run: (1) the offline engine's captions/s, batch after batch; (2) captions/s
 * through Kafka, S3 and the registry with a backlog of requests, in rounds alternating with (1);
 * (3) request-to-caption latency while requests arrive at half the rate measured in (2); (4) captions/s
 * with the audit stores on against off ({@code -Ddermcap.bench.audit=false} skips it). Same
 * bundle, batch size, images and generation settings throughout.
 */
class EndToEndBenchmark {

    private static final Path BUNDLE = Path.of(System.getProperty("dermcap.bench.bundle",
            ServiceScenario.TINY_BUNDLE.toString()));
    private static final int BATCH = Integer.getInteger("dermcap.bench.batch", 8);
    private static final int REQUESTS = Integer.getInteger("dermcap.bench.requests", 64);
    private static final int LATENCY_REQUESTS = Integer.getInteger("dermcap.bench.latency.requests", 48);
    private static final long DELAY_MS = Long.getLong("dermcap.bench.delay.ms", 200);
    private static final int ROUNDS = Integer.getInteger("dermcap.bench.rounds", 2);
    /** Also measure captions/s with the audit stores on against off (section 4). */
    private static final boolean AUDIT = Boolean.parseBoolean(System.getProperty("dermcap.bench.audit", "true"));
    private static final Duration TIMEOUT = Duration.ofMinutes(Long.getLong("dermcap.bench.timeout.minutes", 30));

    @Test
    void endToEnd() throws Exception {
        assertThat(REQUESTS % (BATCH * ROUNDS)).as("requests must be whole batches in every round").isZero();
        int perRound = REQUESTS / ROUNDS;
        List<byte[]> images = new ArrayList<>();
        for (int i = 0; i < perRound; i++) {
            images.add(Lesions.image(1000 + i));
        }
        StringBuilder report = new StringBuilder();
        report.append(String.format("bundle %s, batch %d, %d requests in %d rounds, batch.max.delay.ms %d, %d processors,"
                        + " load before %s%n", BUNDLE, BATCH, REQUESTS, ROUNDS, DELAY_MS,
                Runtime.getRuntime().availableProcessors(), loadAverage()));

        try (OnnxCaptioner engine = OnnxCaptioner.load(BUNDLE, TestDefaults.ENGINE);
             ServiceScenario s = new ServiceScenario(2)) {
            ImagePreprocessor pre = new ImagePreprocessor(engine.preprocessing(), TestDefaults.IMAGE_LIMITS);
            GenerationSettings settings = engine.settingsFor(Captioner.Overrides.NONE);
            s.startInProcess("bench", Map.of(
                    "bundle.dir", BUNDLE.toAbsolutePath().toString(),
                    "engine.threads", "0",
                    "batch.max.size", Integer.toString(BATCH),
                    "batch.max.delay.ms", Long.toString(DELAY_MS)));
            List<String> keys = new ArrayList<>();
            for (int i = 0; i < perRound; i++) {
                String key = "bench/" + i + ".img";
                s.putImage(key, images.get(i));
                keys.add(key);
            }
            // warm-up of both paths: one full batch each
            engine.caption(preprocess(pre, settings, images.subList(0, BATCH)));
            s.send(requests(s, keys.subList(0, BATCH), "warm"));
            s.awaitOutcomes(o -> o.distinctKeys() >= BATCH, TIMEOUT);

            // Rounds alternate 1. the offline engine and 2. the service with a backlog, so that a
            // change of machine load during the run hits both alike.
            double offlineSeconds = 0;
            double offlineModelSeconds = 0;
            double streamSeconds = 0;
            double streamModelSeconds = 0;
            double streamBatches = 0;
            int expected = BATCH;
            for (int round = 0; round < ROUNDS; round++) {
                double[] offline = offline(engine, pre, settings, images);
                offlineSeconds += offline[0];
                offlineModelSeconds += offline[1];

                expected += perRound;
                Backlog backlog = backlog(s, keys, "tput" + round + "-", expected);
                List<CaptionEvent> tput = backlog.captions();
                streamSeconds += backlog.seconds();
                // each event carries its batch's model time: summed per image it is the engine's busy time
                streamModelSeconds += tput.stream().mapToDouble(e -> (e.getTimings().getEncodeMs()
                        + e.getTimings().getDecodeMs()) / e.getRuntime().getBatchSize()).sum() / 1000;
                streamBatches += tput.stream().mapToDouble(e -> 1.0 / e.getRuntime().getBatchSize()).sum();
            }
            double offlineRate = REQUESTS / offlineSeconds;
            double batchSeconds = offlineModelSeconds / (REQUESTS / (double) BATCH);
            double streamRate = REQUESTS / streamSeconds;
            report.append(String.format("offline engine             %8.3f captions/s  (model %.2f s per batch of %d)%n",
                    offlineRate, batchSeconds, BATCH));
            report.append(String.format("through Kafka+S3+registry  %8.3f captions/s  (mean model batch %.1f, model %.2f s per"
                            + " batch, engine busy %.0f%% of %.1f s)%n", streamRate, REQUESTS / streamBatches,
                    streamModelSeconds / streamBatches, 100 * streamModelSeconds / streamSeconds, streamSeconds));
            report.append(String.format("ratio streaming / offline  %.3f  (target >= 0.95)%n", streamRate / offlineRate));

            // 3. latency at half the sustainable rate
            double rate = streamRate / 2;
            long gapNanos = (long) (1e9 / rate);
            List<CaptionRequest> paced = new ArrayList<>();
            while (paced.size() < LATENCY_REQUESTS) {
                paced.addAll(requests(s, keys.subList(0, Math.min(LATENCY_REQUESTS - paced.size(), keys.size())),
                        "lat" + paced.size()));
            }
            long next = System.nanoTime();
            for (CaptionRequest r : paced) {
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
                r.setRequestedAt(Instant.now().truncatedTo(ChronoUnit.MILLIS));
                s.send(List.of(r));
                next += gapNanos;
            }
            int want = expected + LATENCY_REQUESTS;
            Outcomes out = s.awaitOutcomes(o -> o.distinctKeys() >= want, TIMEOUT);
            long[] latencies = captions(out, "lat").stream()
                    .mapToLong(e -> Duration.between(e.getRequestedAt(), e.getCaptionedAt()).toMillis()).sorted().toArray();
            assertThat(latencies).hasSize(LATENCY_REQUESTS);
            double latBatch = captions(out, "lat").stream().mapToInt(e -> e.getRuntime().getBatchSize()).average().orElse(0);
            long p50 = percentile(latencies, 50);
            long p99 = percentile(latencies, 99);
            double bound = DELAY_MS + 1.5 * batchSeconds * 1000;
            report.append(String.format("latency at %.3f requests/s (half): p50 %d ms, p99 %d ms, max %d ms (mean model batch %.1f)%n",
                    rate, p50, p99, latencies[latencies.length - 1], latBatch));
            report.append(String.format("p99 bound batch.max.delay.ms + 1.5 x batch time = %.0f ms: %s%n",
                    bound, p99 <= bound ? "met" : "MISSED"));
            assertThat(out.failures()).isEmpty();
            if (AUDIT) {
                auditOverhead(s, keys, want, images, report);
            }
            report.append(String.format("load after %s%n", loadAverage()));
        }
        System.out.println("\n=== dermcap end-to-end benchmark ===\n" + report);
        Path file = Path.of("target", "bench-e2e-" + BUNDLE.getFileName() + ".txt");
        Files.writeString(file, report.toString());
    }

    /**
     * The offline engine as {@code dermcap caption} runs it: the next batch is decoded and
     * preprocessed on a second thread while the model runs the current one.
     *
     * @return wall seconds and model seconds
     */
    private static double[] offline(OnnxCaptioner engine, ImagePreprocessor pre, GenerationSettings settings,
                                    List<byte[]> images) throws Exception {
        ExecutorService prefetch = Executors.newSingleThreadExecutor();
        try {
            long t0 = System.nanoTime();
            long modelNanos = 0;
            Future<List<Captioner.Request>> next = prefetch.submit(() -> preprocess(pre, settings, images.subList(0, BATCH)));
            for (int i = 0; i < images.size(); i += BATCH) {
                List<Captioner.Request> batch = next.get();
                int from = i + BATCH;
                if (from < images.size()) {
                    next = prefetch.submit(() -> preprocess(pre, settings, images.subList(from, from + BATCH)));
                }
                long m0 = System.nanoTime();
                engine.caption(batch);
                modelNanos += System.nanoTime() - m0;
            }
            return new double[]{(System.nanoTime() - t0) / 1e9, modelNanos / 1e9};
        } finally {
            prefetch.shutdownNow();
        }
    }

    private static List<Captioner.Request> preprocess(ImagePreprocessor pre, GenerationSettings settings,
                                                     List<byte[]> images) throws ImageException {
        List<Captioner.Request> out = new ArrayList<>();
        for (byte[] img : images) {
            out.add(new Captioner.Request(pre.preprocess(img), settings));
        }
        return out;
    }

    private static List<CaptionRequest> requests(ServiceScenario s, List<String> keys, String prefix) {
        List<CaptionRequest> out = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            out.add(ServiceScenario.request(prefix + "-" + i, s.uri(keys.get(i))));
        }
        return out;
    }

    /** A backlog of requests through a service, and how long it took: sent until the last caption. */
    private record Backlog(double seconds, List<CaptionEvent> captions) {
    }

    /** Sends one request per key and waits until the scenario has {@code expected} outcomes in all. */
    private static Backlog backlog(ServiceScenario s, List<String> keys, String prefix, int expected) {
        Instant sent = Instant.now();
        s.send(requests(s, keys, prefix));
        List<CaptionEvent> done = captions(s.awaitOutcomes(o -> o.distinctKeys() >= expected, TIMEOUT), prefix);
        assertThat(done).hasSize(keys.size());
        Instant last = done.stream().map(CaptionEvent::getCaptionedAt).max(Instant::compareTo).orElseThrow();
        return new Backlog(Duration.between(sent, last).toNanos() / 1e9, done);
    }

    /**
     * 4. The audit stores' cost: the same backlog through the service above (audit off) and a
     * second one with the audit on (stores, index, endpoint), on its own topics, in alternating
     * rounds so that a change of machine load hits both alike; only one of them works at a time.
     */
    private static void auditOverhead(ServiceScenario off, List<String> keys, int offSoFar, List<byte[]> images,
                                      StringBuilder report) throws Exception {
        try (ServiceScenario on = new ServiceScenario(2)) {
            Map<String, String> settings = new java.util.HashMap<>(Map.of(
                    "bundle.dir", BUNDLE.toAbsolutePath().toString(), "engine.threads", "0",
                    "batch.max.size", Integer.toString(BATCH), "batch.max.delay.ms", Long.toString(DELAY_MS),
                    "audit.enabled", "true", "audit.port", "0", "audit.index.passthrough", "correlation.case",
                    "audit.credentials", io.dermcap.audit.Credentials.sha256Entry("bench", "bench-token")));
            on.startInProcess("bench-audit", settings);
            for (int i = 0; i < keys.size(); i++) {
                on.putImage(keys.get(i), images.get(i));
            }
            backlog(on, keys.subList(0, BATCH), "warm", BATCH);
            double offSeconds = 0;
            double onSeconds = 0;
            int onSoFar = BATCH;
            for (int round = 0; round < ROUNDS; round++) {
                offSoFar += keys.size();
                offSeconds += backlog(off, keys, "off" + round + "-", offSoFar).seconds();
                onSoFar += keys.size();
                onSeconds += backlog(on, keys, "on" + round + "-", onSoFar).seconds();
            }
            double offRate = ROUNDS * keys.size() / offSeconds;
            double onRate = ROUNDS * keys.size() / onSeconds;
            report.append(String.format("audit stores off           %8.3f captions/s%n", offRate));
            report.append(String.format("audit stores on            %8.3f captions/s%n", onRate));
            report.append(String.format("ratio audit on / off       %.3f  (target >= 0.97)%n", onRate / offRate));
        }
    }

    private static List<CaptionEvent> captions(Outcomes out, String prefix) {
        return out.captions().stream().filter(e -> e.getRequestId().startsWith(prefix)).toList();
    }

    /** Nearest-rank percentile. */
    private static long percentile(long[] sorted, int p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, rank - 1)];
    }

    private static String loadAverage() {
        try {
            return Arrays.toString(Files.readString(Path.of("/proc/loadavg")).trim().split(" ", 4)).replace(",", "")
                    .substring(0, 20);
        } catch (IOException e) {
            return "unknown";
        }
    }
}
