package io.dermcap.audit;

import io.dermcap.image.ImageLimits;
import io.dermcap.testing.TestDefaults;
import io.dermcap.storage.FetchException;
import io.dermcap.storage.ObjectFetcher;
import io.dermcap.testing.SampleOutcomes;
import io.dermcap.topology.OutcomeStores;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Lookup latency on a large audit store (not part of the test suite: run it by name,
 * {@code mvn -B -pl streams-app -am test -Dtest=AuditLookupBenchmark -Dsurefire.failIfNoSpecifiedTests=false
 * -Ddermcap.bench.outcomes=100000}). The outcomes go through the real indexer into RocksDB
 * window stores (one partition, TopologyTestDriver); the lookups go over HTTP through the audit
 * endpoint with a bearer token, JSON rendering included. Prints p50/p99/max per kind of lookup.
 */
class AuditLookupBenchmark {

    private static final int OUTCOMES = Integer.getInteger("dermcap.bench.outcomes", 100_000);
    private static final int LOOKUPS = Integer.getInteger("dermcap.bench.lookups", 2_000);
    private static final String TOKEN = "benchmark-token";

    @Test
    void lookupLatency() throws Exception {
        OutcomeStores.Options options = new OutcomeStores.Options(Duration.ofDays(30),
                new OutcomeStores.PassthroughField("correlation.accession"));
        Instant t0 = Instant.now().minus(Duration.ofDays(1));
        StringBuilder report = new StringBuilder();
        try (SampleOutcomes stores = new SampleOutcomes(options)) {
            long fill = System.nanoTime();
            for (int i = 0; i < OUTCOMES; i++) {
                // 1 000 images seen 100 times each (at 100 000), 10 000 accession numbers 10 times each
                stores.add(SampleOutcomes.caption("req-" + i, "caption " + i, sha(i % 1000), "ACC-" + (i % 10_000),
                        t0.plusMillis(i * 500L), 0, i));
            }
            report.append(String.format("%d outcomes stored through the indexer in %.1f s%n", OUTCOMES,
                    (System.nanoTime() - fill) / 1e9));
            LocalOutcomes local = new LocalOutcomes(stores.localStores());
            AuditOptions audit = new AuditOptions("127.0.0.1", 0, "127.0.0.1",
                    Credentials.parse(Credentials.sha256Entry("bench", TOKEN)), null, Duration.ofSeconds(5),
                    1_000_000, Files.createTempFile("audit-bench-access", ".log"), options);
            try (AuditServer server = AuditServer.start(audit, new NoImages(), TestDefaults.IMAGE_LIMITS, "bench")) {
                server.attach(AuditServer.Backend.of(local));
                HttpClient http = HttpClient.newHttpClient();
                Random random = new Random(42);
                String base = "http://127.0.0.1:" + server.port();
                measure(report, "by request id", http, base, n -> "/v1/outcomes/req-" + random.nextInt(OUTCOMES), 1);
                measure(report, "by image sha256, limit 20", http, base,
                        n -> "/v1/outcomes?image_sha256=" + sha(random.nextInt(1000)) + "&limit=20", 20);
                measure(report, "by passthrough, limit 20", http, base,
                        n -> "/v1/outcomes?passthrough.correlation.accession=ACC-" + random.nextInt(Math.min(OUTCOMES, 10_000))
                                + "&limit=20", Math.min(10, OUTCOMES / 10_000));
                measure(report, "latest, limit 20", http, base, n -> "/v1/latest?limit=20", 20);
            }
        }
        System.out.println("\n=== dermcap audit lookup benchmark ===\n" + report);
        Files.writeString(Path.of("target", "bench-audit-lookup.txt"), report.toString());
    }

    private static void measure(StringBuilder report, String what, HttpClient http, String base,
                                java.util.function.IntFunction<String> path, int minOutcomes) throws Exception {
        int warm = LOOKUPS / 10;
        long[] micros = new long[LOOKUPS];
        for (int i = -warm; i < LOOKUPS; i++) {
            long t = System.nanoTime();
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + path.apply(i)))
                    .header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString());
            long us = (System.nanoTime() - t) / 1000;
            assertThat(r.statusCode()).as(what).isEqualTo(200);
            if (i >= 0) {
                micros[i] = us;
            }
            if (i == 0) {
                assertThat(r.body().split("\"position\"", -1).length - 1).as(what).isGreaterThanOrEqualTo(minOutcomes);
            }
        }
        Arrays.sort(micros);
        report.append(String.format("%-28s p50 %6.2f ms  p99 %6.2f ms  max %6.2f ms  (%d lookups)%n", what,
                percentile(micros, 50) / 1000.0, percentile(micros, 99) / 1000.0, micros[micros.length - 1] / 1000.0, LOOKUPS));
    }

    private static long percentile(long[] sorted, int p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, rank - 1)];
    }

    private static String sha(int i) {
        return String.format("%064x", i);
    }

    private static final class NoImages implements ObjectFetcher {
        @Override
        public io.dermcap.storage.FetchedObject fetch(String uri, String expectedSha256) throws FetchException {
            throw new FetchException(FetchException.Reason.OBJECT_MISSING, false, 0, "not in the benchmark", null);
        }

        @Override
        public void close() {
        }
    }
}
