package io.dermcap.demo;

import io.dermcap.events.CaptionEvent;
import io.dermcap.events.ErrorCode;
import io.dermcap.events.FailureEvent;
import io.dermcap.events.Generation;
import io.dermcap.events.ModelLineage;
import io.dermcap.events.RuntimeInfo;
import io.dermcap.events.SourceFile;
import io.dermcap.events.SourcePosition;
import io.dermcap.events.Timings;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DemoLedgerTest {

    private static final long SECOND = 1_000_000_000L;

    static {
        // the builders resolve record defaults, which Avro allows for trusted classes only
        io.dermcap.schemas.TrustedEvents.trust();
    }

    @Test
    void scoresCaptionsOfImagesWithKnownAttributesAndSumsThemUp() {
        DemoLedger ledger = new DemoLedger(HeldOutLesions.builtIn().scorer());
        Map<String, String> truth = Map.of("size", "small", "colour", "red", "skin", "fair", "hair", "no");
        ledger.sent("r-0", "lesion-0.jpg", truth, 0);
        ledger.sent("r-1", "lesion-1.jpg", truth, 0);
        List<String> right = ledger.caption(caption("r-0", 2, false, null,
                "A small red lesion on fair skin, no hair."), SECOND);
        assertThat(right).hasSize(3);
        assertThat(right.get(2)).isEqualTo("        truth  colour=red hair=no size=small skin=fair"
                + "  -> 4/4 attributes");
        List<String> wrong = ledger.caption(caption("r-1", 2, false, null,
                "A large red lesion on fair skin, hairs present."), SECOND);
        assertThat(wrong.get(2)).endsWith("-> 2/4 attributes (missed size=small read large, hair=no read yes)");
        DemoLedger.Summary s = ledger.summary();
        assertThat(s.attributesMatched()).isEqualTo(6);
        assertThat(s.attributesTotal()).isEqualTo(8);
        assertThat(s.lines()).anyMatch(l -> l.startsWith("attributes matched 6/8 (75.0 %"));
        assertThat(new DemoLedger().summary().attributeAccuracy()).isNaN();
        assertThatThrownBy(() -> new DemoLedger().sent("r", "x", truth, 0)).hasMessageContaining("no scorer");
    }

    @Test
    void printsEachOutcomeWithItsLineageAndCountsItOnce() {
        DemoLedger ledger = new DemoLedger();
        ledger.sent("r-0", "png 300x200", 0);
        ledger.sent("r-1", "jpg 640x480", 0);

        List<String> lines = ledger.caption(caption("r-1", 4, true, null, "a pigmented macule " + "x".repeat(200)), 2 * SECOND);
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).startsWith("[1/2] r-1  jpg 640x480  2.00 s  batch 4  tiny 0.0.1  random weights");
        assertThat(lines.get(1)).startsWith("        \"a pigmented macule xxx").endsWith("…\" (9 tokens)");
        assertThat(ledger.caption(caption("r-1", 4, true, null, "again"), 3 * SECOND)).singleElement()
                .satisfies(l -> assertThat(l).contains("second outcome for r-1"));
        assertThat(ledger.caption(caption("someone-else", 1, true, null, "x"), 3 * SECOND)).isEmpty();
        assertThat(ledger.complete()).isFalse();

        assertThat(ledger.failure(failure("r-0", ErrorCode.OBJECT_MISSING), 4 * SECOND)).singleElement()
                .satisfies(l -> assertThat(l).isEqualTo("[2/2] r-0  png 300x200  FAILED OBJECT_MISSING (retryable no, 1 attempts): "
                        + "s3://b/k: no such key"));
        assertThat(ledger.complete()).isTrue();

        DemoLedger.Summary s = ledger.summary();
        assertThat(s.answered()).isEqualTo(2);
        assertThat(s.captions()).isEqualTo(1);
        assertThat(s.failuresByCode()).isEqualTo(Map.of("OBJECT_MISSING", 1));
        assertThat(s.duplicates()).isEqualTo(1);
        assertThat(s.missing()).isEmpty();
        assertThat(s.seconds()).isEqualTo(4.0);
        assertThat(s.throughput()).isEqualTo(0.5);
        assertThat(s.success()).as("a failure is not success: every demo request is valid").isFalse();
        assertThat(s.lines()).contains("failures    {OBJECT_MISSING=1}");
    }

    @Test
    void aRealCheckpointIsNamedByItsHash() {
        String sha = "536ae07811c9" + "0".repeat(52);
        assertThat(DemoLedger.weights(lineage(false, new SourceFile("final_captioner.pt", sha))))
                .isEqualTo("checkpoint final_captioner.pt sha256 536ae07811c9…");
        assertThat(DemoLedger.weights(lineage(false, null))).isEqualTo("checkpoint sha256 unknown");
        assertThat(DemoLedger.weights(lineage(true, null))).isEqualTo("random weights");
    }

    @Test
    void successNeedsACaptionForEveryRequestAndUnansweredOnesAreListed() {
        DemoLedger ledger = new DemoLedger();
        for (int i = 0; i < 3; i++) {
            ledger.sent("r-" + i, "png", i * SECOND);
        }
        ledger.caption(caption("r-0", 2, true, null, "x"), 3 * SECOND);
        ledger.caption(caption("r-1", 2, true, null, "x"), 5 * SECOND);
        DemoLedger.Summary partial = ledger.summary();
        assertThat(partial.success()).isFalse();
        assertThat(partial.missing()).containsExactly("r-2");
        assertThat(partial.lines()).anyMatch(l -> l.startsWith("unanswered  r-2"));

        ledger.caption(caption("r-2", 1, true, null, "x"), 6 * SECOND);
        DemoLedger.Summary done = ledger.summary();
        assertThat(done.success()).isTrue();
        // latencies 3, 4, 4 s: nearest-rank p50 is 4, p99 is 4
        assertThat(done.p50()).isEqualTo(4.0);
        assertThat(done.p99()).isEqualTo(4.0);
        assertThat(done.meanBatch()).isEqualTo(5.0 / 3);
        assertThat(done.maxBatch()).isEqualTo(2);
    }

    @Test
    void nearestRankPercentiles() {
        List<Double> values = List.of(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0);
        assertThat(DemoLedger.percentile(values, 0.5)).isEqualTo(5.0);
        assertThat(DemoLedger.percentile(values, 0.99)).isEqualTo(10.0);
        assertThat(DemoLedger.percentile(List.of(), 0.5)).isNaN();
    }

    private static CaptionEvent caption(String id, int batch, boolean random, SourceFile checkpoint, String text) {
        return CaptionEvent.newBuilder()
                .setRequestId(id)
                .setImageUri("s3://b/" + id)
                .setImageSha256("0".repeat(64))
                .setImageBytes(10)
                .setCaption(text)
                .setTokenCount(9)
                .setGeneration(Generation.newBuilder().setPrompt("p").setNumBeams(4).setMaxNewTokens(60).setMinNewTokens(24)
                        .setNoRepeatNgramSize(4).setRepetitionPenalty(1.15).setLengthPenalty(0.6).setEarlyStopping(true).build())
                .setModel(lineage(random, checkpoint))
                .setRuntime(RuntimeInfo.newBuilder().setEngine("onnxruntime").setEngineVersion("1.29.0").setExecutionProvider("CPU")
                        .setBatchSize(batch).setInstanceId("demo").setServiceVersion("0").build())
                .setTimings(Timings.newBuilder().setQueuedMs(0).setFetchMs(0).setPreprocessMs(0).setEncodeMs(0).setDecodeMs(0).build())
                .setSource(new SourcePosition("t", 0, 0L))
                .setRequestedAt(Instant.EPOCH)
                .setCaptionedAt(Instant.EPOCH)
                .build();
    }

    private static ModelLineage lineage(boolean random, SourceFile checkpoint) {
        return ModelLineage.newBuilder().setBundleName("tiny").setBundleVersion("0.0.1").setRandomWeights(random)
                .setCheckpoint(checkpoint).setOpset(17).build();
    }

    private static FailureEvent failure(String id, ErrorCode code) {
        return FailureEvent.newBuilder().setRequestId(id).setCode(code).setMessage("s3://b/k: no such key").setRetryable(false)
                .setAttempts(1).setSource(new SourcePosition("t", 0, 0L)).setInstanceId("demo").setServiceVersion("0")
                .setFailedAt(Instant.EPOCH).build();
    }
}
