package io.dermcap.topology;

import io.dermcap.Sha256;
import io.dermcap.events.CaptionEvent;
import io.dermcap.events.CaptionRequest;
import io.dermcap.events.ErrorCode;
import io.dermcap.events.FailureEvent;
import io.dermcap.events.FinishReason;
import io.dermcap.events.RequestedAtSource;
import io.dermcap.events.GenerationOverrides;
import io.dermcap.events.Passthrough;
import io.dermcap.storage.FetchException;
import io.dermcap.testing.FakeCaptioner;
import io.dermcap.testing.FakeFetcher;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class CaptionTopologyTest {

    private TopologyHarness h = new TopologyHarness();

    @AfterEach
    void close() {
        h.close();
    }

    @Test
    void everyRequestGetsOneCaptionWithFullLineage() {
        int n = 10;
        for (int i = 0; i < n; i++) {
            String sha = h.fetcher.put("s3://images/lesion-" + i + ".jpg", i);
            CaptionRequest r = TopologyHarness.request("req-" + i, "s3://images/lesion-" + i + ".jpg");
            r.setExpectedSha256(sha);
            h.requests.pipeInput("req-" + i, r);
        }
        h.awaitOutcomes(n);
        h.tick(Duration.ofSeconds(1));
        assertThat(h.failuresSeen).isEmpty();
        assertThat(h.captionsSeen).hasSize(n);
        for (KeyValue<String, CaptionEvent> kv : h.captionsSeen) {
            CaptionEvent e = kv.value;
            int i = Integer.parseInt(kv.key.substring(4));
            assertThat(e.getRequestId()).isEqualTo(kv.key);
            assertThat(e.getCaption()).isEqualTo(FakeCaptioner.captionFor(i));
            assertThat(e.getTokenIds()).containsExactly(i, 11, 12);
            assertThat(e.getTokenCount()).isEqualTo(3);
            assertThat(e.getFinishReason()).isEqualTo(FinishReason.EOS);
            assertThat(e.getImageSha256()).isEqualTo(Sha256.of(("img:" + i).getBytes(StandardCharsets.US_ASCII)));
            assertThat(e.getIds().getStudyInstanceUid()).endsWith("." + kv.key);
            assertThat(e.getIds().getCorrelation()).containsEntry("order", "ORD-" + kv.key);
            assertThat(e.getModel().getBundleVersion()).isEqualTo("2025.08.30-test");
            assertThat(e.getModel().getRandomWeights()).isTrue();
            assertThat(e.getModel().getCheckpoint().getSha256()).isEqualTo("ab".repeat(32));
            assertThat(e.getModel().getStages()).extracting(s -> s.getDataset()).containsExactly("META", "SkinCAP");
            assertThat(e.getModel().getGraphSha256()).containsKeys("vision_encoder", "embed_tokens", "decoder_model_merged");
            assertThat(e.getGeneration().getNumBeams()).isEqualTo(4);
            assertThat(e.getGeneration().getPrompt()).isEqualTo(FakeCaptioner.DEFAULTS.prompt());
            assertThat(e.getGeneration().getOverridden()).isEmpty();
            assertThat(e.getRuntime().getInstanceId()).isEqualTo("test-instance");
            assertThat(e.getRuntime().getExecutionProvider()).isEqualTo("CPU");
            assertThat(e.getRuntime().getBatchSize()).isBetween(1, 4);
            assertThat(e.getTimings().getFetchMs()).isEqualTo(3.0);
            assertThat(e.getTimings().getEncodeMs()).isEqualTo(1.0);
            assertThat(e.getTimings().getDecodeMs()).isEqualTo(2.0);
            assertThat(e.getSource().getTopic()).isEqualTo(TopologyHarness.REQUESTS);
            assertThat(e.getSource().getOffset()).isEqualTo(i);
            assertThat(e.getRequestedAt()).isEqualTo(java.time.Instant.parse("2025-12-31T23:59:00Z"));
            assertThat(e.getRequestedAtSource()).isEqualTo(RequestedAtSource.REQUEST);
            assertThat(e.getBundle().getManifestSha256()).isEqualTo("9a".repeat(32));
            assertThat(e.getBundle().getCreated()).isEqualTo("2025-08-30T00:00:00Z");
            assertThat(e.getBundle().getExporterVersion()).isEqualTo("0.1.0");
            assertThat(e.getBundle().getName()).isEqualTo(e.getModel().getBundleName());
            assertThat(e.getBundle().getPreprocessing().getMean()).containsExactly(0.48145466, 0.4578275, 0.40821073);
            assertThat(e.getTimings().getBatch().getSize()).isEqualTo(e.getRuntime().getBatchSize());
            assertThat(e.getTimings().getBatch().getEncodeMs()).isEqualTo(1.0);
            assertThat(e.getTimings().getBatch().getDecodeMs()).isEqualTo(2.0);
            assertThat(e.getTimings().getInServiceMs()).isNotNull().isGreaterThanOrEqualTo(0.0);
        }
        assertThat(h.captioner.batchSizes).allSatisfy(s -> assertThat(s).isBetween(1, 4));
        assertThat(h.captioner.batchSizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo(n);
        assertThat(h.buffered()).as("entries leave the store once forwarded").isZero();
    }

    @Test
    void fullBatchIsSubmittedAtOnceAndPartialOneOnlyAfterTheDelay() {
        for (int i = 0; i < 3; i++) {
            h.fetcher.put("s3://b/" + i, i);
            h.requests.pipeInput("r" + i, TopologyHarness.request("r" + i, "s3://b/" + i));
        }
        // 3 < batch.max.size and younger than 200 ms: nothing runs
        h.tick(Duration.ofMillis(150));
        sleep(100);
        h.tick(Duration.ofMillis(0));
        assertThat(h.captioner.batchSizes).isEmpty();
        assertThat(h.outcomes()).isZero();
        assertThat(h.buffered()).isEqualTo(3);
        // the 4th fills the batch: submitted from process(), without waiting for the delay
        h.fetcher.put("s3://b/3", 3);
        h.requests.pipeInput("r3", TopologyHarness.request("r3", "s3://b/3"));
        sleep(300);
        assertThat(h.captioner.batchSizes).containsExactly(4);
        h.awaitOutcomes(4);
        // a lone request waits for the delay, then goes alone
        h.fetcher.put("s3://b/4", 4);
        h.requests.pipeInput("r4", TopologyHarness.request("r4", "s3://b/4"));
        h.tick(Duration.ofMillis(100));
        sleep(100);
        assertThat(h.captioner.batchSizes).containsExactly(4);
        h.tick(Duration.ofMillis(150));
        h.awaitOutcomes(5);
        assertThat(h.captioner.batchSizes).containsExactly(4, 1);
    }

    @Test
    void overridesAreAppliedAndRecorded() {
        h.fetcher.put("s3://b/x", 7);
        CaptionRequest r = TopologyHarness.request("r", "s3://b/x");
        r.setOverrides(GenerationOverrides.newBuilder().setNumBeams(1).setPrompt("Short:").build());
        h.requests.pipeInput("r", r);
        h.awaitOutcomes(1);
        CaptionEvent e = h.captionsSeen.get(0).value;
        assertThat(e.getGeneration().getNumBeams()).isEqualTo(1);
        assertThat(e.getGeneration().getPrompt()).isEqualTo("Short:");
        assertThat(e.getGeneration().getMaxNewTokens()).isEqualTo(80);
        assertThat(e.getGeneration().getOverridden()).containsExactly("prompt", "num_beams");
        assertThat(e.getGeneration().getProfile()).isEqualTo("published");
        assertThat(e.getGeneration().getBadWordsSequences()).isEqualTo(2);
        assertThat(e.getGeneration().getCollapseWhitespace()).isTrue();
    }

    @Test
    void aRequestedProfileIsUsedAndRecorded() {
        h.fetcher.put("s3://b/x", 7);
        CaptionRequest r = TopologyHarness.request("r", "s3://b/x");
        r.setOverrides(GenerationOverrides.newBuilder().setProfile("card").build());
        h.requests.pipeInput("r", r);
        h.awaitOutcomes(1);
        CaptionEvent e = h.captionsSeen.get(0).value;
        assertThat(e.getGeneration().getProfile()).isEqualTo("card");
        assertThat(e.getGeneration().getMaxNewTokens()).isEqualTo(60);
        assertThat(e.getGeneration().getBadWordsSequences()).isZero();
        assertThat(e.getGeneration().getCollapseWhitespace()).isFalse();
    }

    @Test
    void tombstoneIsAnInvalidRequest() {
        h.requests.pipeInput(new TestRecord<>("some-key", (CaptionRequest) null));
        h.awaitOutcomes(1);
        FailureEvent f = h.onlyFailure();
        assertThat(h.failuresSeen.get(0).key).isEqualTo("some-key");
        assertThat(f.getCode()).isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThat(f.getMessage()).contains("no value");
        assertThat(f.getRequestId()).isNull();
        assertThat(f.getRetryable()).isFalse();
        assertThat(f.getAttempts()).isZero();
        assertThat(f.getSource().getOffset()).isZero();
        assertThat(f.getInstanceId()).isEqualTo("test-instance");
        assertThat(f.getRequestedAtSource()).isEqualTo(RequestedAtSource.RECORD_TIMESTAMP);
        assertThat(f.getBundle().getManifestSha256()).isEqualTo("9a".repeat(32));
    }

    @Test
    void aRequestWithoutRequestedAtSaysItsTimeIsTheRecordTimestamp() {
        h.fetcher.put("s3://b/t", 1);
        CaptionRequest r = TopologyHarness.request("t", "s3://b/t");
        r.setRequestedAt(null);
        java.time.Instant recordTime = java.time.Instant.parse("2026-01-02T03:04:05.678Z");
        h.requests.pipeInput(new TestRecord<>("t", r, recordTime));
        h.awaitOutcomes(1);
        CaptionEvent e = h.captionsSeen.get(0).value;
        assertThat(e.getRequestedAt()).isEqualTo(recordTime);
        assertThat(e.getRequestedAtSource()).isEqualTo(RequestedAtSource.RECORD_TIMESTAMP);
    }

    @Test
    void timingsAreWholeMicroseconds() {
        assertThat(EventLineage.millis(130_930_773L)).hasToString("130.931");
        assertThat(EventLineage.millis(999L)).hasToString("0.001");
        assertThat(EventLineage.millis(3_000_000L)).isEqualTo(3.0);
    }

    @Test
    void invalidFieldsAreNamed() {
        record Case(CaptionRequest request, String message) {
        }
        CaptionRequest badSha = TopologyHarness.request("c", "s3://b/k");
        badSha.setExpectedSha256("xyz");
        CaptionRequest badBeams = TopologyHarness.request("e", "s3://b/k");
        badBeams.setOverrides(GenerationOverrides.newBuilder().setNumBeams(99).build());
        CaptionRequest badProfile = TopologyHarness.request("p", "s3://b/k");
        badProfile.setOverrides(GenerationOverrides.newBuilder().setProfile("fancy").build());
        List<Case> cases = List.of(
                new Case(TopologyHarness.request(" ", "s3://b/k"), "request_id is empty"),
                new Case(TopologyHarness.request("a", ""), "image_uri is empty"),
                new Case(TopologyHarness.request("b", "s3://b/a b"), "image_uri is not a valid URI"),
                new Case(TopologyHarness.request("d", "bucket/key.jpg"), "image_uri has no scheme"),
                new Case(badSha, "expected_sha256 must be 64 hexadecimal characters"),
                new Case(badBeams, "num_beams must be between 1 and 8"),
                new Case(badProfile, "invalid generation overrides: unknown generation profile 'fancy'; the bundle has published, card"),
                new Case(TopologyHarness.request("x".repeat(300), "s3://b/k"), "request_id is longer than 256"));
        for (Case c : cases) {
            h.requests.pipeInput("k", c.request());
        }
        h.awaitOutcomes(cases.size());
        assertThat(h.captionsSeen).isEmpty();
        assertThat(h.failuresSeen).hasSize(cases.size());
        for (int i = 0; i < cases.size(); i++) {
            FailureEvent f = h.failuresSeen.get(i).value;
            assertThat(f.getCode()).isEqualTo(ErrorCode.INVALID_REQUEST);
            assertThat(f.getMessage()).contains(cases.get(i).message());
            assertThat(f.getSource().getOffset()).isEqualTo(i);
            assertThat(f.getIds()).isEqualTo(cases.get(i).request().getIds());
        }
        assertThat(h.buffered()).isZero();
    }

    @ParameterizedTest
    @EnumSource(FetchException.Reason.class)
    void everyFetchFailureBecomesItsCode(FetchException.Reason reason) {
        boolean retryable = reason == FetchException.Reason.FETCH_FAILED;
        h.fetcher.fail("s3://b/k", new FetchException(reason, retryable, retryable ? 5 : 1, "simulated " + reason, null));
        h.requests.pipeInput("r", TopologyHarness.request("r", "s3://b/k"));
        h.awaitOutcomes(1);
        FailureEvent f = h.onlyFailure();
        ErrorCode expected = reason == FetchException.Reason.INVALID_URI ? ErrorCode.INVALID_REQUEST : ErrorCode.valueOf(reason.name());
        assertThat(f.getCode()).isEqualTo(expected);
        assertThat(f.getMessage()).isEqualTo("simulated " + reason);
        assertThat(f.getRetryable()).isEqualTo(retryable);
        assertThat(f.getAttempts()).isEqualTo(retryable ? 5 : 1);
        assertThat(f.getRequestId()).isEqualTo("r");
        assertThat(f.getImageUri()).isEqualTo("s3://b/k");
        assertThat(f.getBundleVersion()).isEqualTo("2025.08.30-test");
    }

    @Test
    void integrityMismatchAndBadImagesAreTyped() {
        h.fetcher.put("s3://b/ok", 1);
        CaptionRequest wrongSha = TopologyHarness.request("sha", "s3://b/ok");
        wrongSha.setExpectedSha256("0".repeat(64));
        h.fetcher.putRaw("s3://b/pdf.jpg", "%PDF-1.7".getBytes(StandardCharsets.US_ASCII));
        h.fetcher.putRaw("s3://b/bomb.png", "huge".getBytes(StandardCharsets.US_ASCII));
        h.requests.pipeInput("sha", wrongSha);
        h.requests.pipeInput("pdf", TopologyHarness.request("pdf", "s3://b/pdf.jpg"));
        h.requests.pipeInput("bomb", TopologyHarness.request("bomb", "s3://b/bomb.png"));
        h.awaitOutcomes(3);
        Map<String, ErrorCode> codes = new java.util.HashMap<>();
        h.failuresSeen.forEach(kv -> codes.put(kv.key, kv.value.getCode()));
        assertThat(codes).containsExactlyInAnyOrderEntriesOf(Map.of(
                "sha", ErrorCode.INTEGRITY_MISMATCH,
                "pdf", ErrorCode.UNDECODABLE_IMAGE,
                "bomb", ErrorCode.TOO_LARGE));
    }

    @Test
    void modelErrorFailsItsBatchOnlyAndTheServiceCarriesOn() {
        h.captioner.failingBatches.add(1);
        for (int i = 0; i < 8; i++) {
            h.fetcher.put("s3://b/" + i, i);
            h.requests.pipeInput("r" + i, TopologyHarness.request("r" + i, "s3://b/" + i));
            if (i == 3) {
                h.awaitOutcomes(4);
            }
        }
        h.awaitOutcomes(8);
        assertThat(h.failuresSeen).hasSize(4).allSatisfy(kv -> {
            assertThat(kv.value.getCode()).isEqualTo(ErrorCode.MODEL_ERROR);
            assertThat(kv.value.getRetryable()).isTrue();
            assertThat(kv.value.getMessage()).contains("simulated runtime failure");
        });
        assertThat(h.captionsSeen).hasSize(4);
        assertThat(h.buffered()).isZero();
    }

    /** Regression: an outcome copying them would pass Kafka's 1 MiB limit and fail the stream thread on every retry. */
    @Test
    void oversizedFieldsAreRefusedAndNotCopiedIntoTheFailureEvent() {
        CaptionRequest bigIds = TopologyHarness.request("big-ids", "s3://b/k");
        bigIds.setIds(Passthrough.newBuilder(bigIds.getIds()).setCorrelation(Map.of("note", "y".repeat(100_000))).build());
        String hugeId = "z".repeat(200_000);
        h.requests.pipeInput("big-ids", bigIds);
        h.requests.pipeInput("huge-id", TopologyHarness.request(hugeId, "s3://b/k" + "u".repeat(200_000)));
        h.awaitOutcomes(2);
        FailureEvent ids = h.failuresSeen.get(0).value;
        assertThat(ids.getCode()).isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThat(ids.getMessage()).matches("the passthrough identifiers are 1000\\d\\d bytes, over the limit of 65536 "
                + "\\(left out of this event\\)");
        assertThat(ids.getIds().getCorrelation()).isEmpty();
        assertThat(ids.getIds().getStudyInstanceUid()).isNull();
        assertThat(ids.getRequestId()).isEqualTo("big-ids");
        FailureEvent id = h.failuresSeen.get(1).value;
        assertThat(id.getMessage()).isEqualTo("request_id is longer than 256 characters");
        assertThat(h.failuresSeen.get(1).key).isEqualTo(hugeId.substring(0, 8192));
        assertThat(id.getRequestId()).isEqualTo(hugeId.substring(0, 8192));
        assertThat(id.getImageUri()).hasSize(8192);
        for (var kv : h.failuresSeen) {
            assertThat(h.serdes.failures().serializer().serialize("caption-failures", kv.value).length).isLessThan(40_000);
        }
    }

    @Test
    void anOversizedUndeserializableRecordIsDeadLetteredWithItsBytesCut() {
        byte[] garbage = new byte[1_000_000];
        java.util.Arrays.fill(garbage, (byte) 'x');
        h.rawRequests.pipeInput("raw-key".getBytes(StandardCharsets.UTF_8), garbage);
        h.awaitOutcomes(1);
        FailureEvent f = h.onlyFailure();
        assertThat(f.getCode()).isEqualTo(ErrorCode.UNDESERIALIZABLE_RECORD);
        assertThat(f.getRawValue().remaining()).isEqualTo(65_536);
        assertThat(f.getRawValue().get(0)).isEqualTo((byte) 'x');
        assertThat(f.getMessage()).startsWith("the record could not be deserialized")
                .endsWith("; raw value cut to its first 65536 of 1000000 bytes");
    }

    @Test
    void undeserializableRecordBecomesAFailureWithItsBytesAndProcessingGoesOn() {
        byte[] garbage = {(byte) 0xff, (byte) 0xfe, 0x01};
        h.rawRequests.pipeInput("raw-key".getBytes(StandardCharsets.UTF_8), garbage);
        h.fetcher.put("s3://b/ok", 5);
        h.requests.pipeInput("ok", TopologyHarness.request("ok", "s3://b/ok"));
        h.awaitOutcomes(2);
        FailureEvent f = h.onlyFailure();
        assertThat(h.failuresSeen.get(0).key).isEqualTo("raw-key");
        assertThat(f.getCode()).isEqualTo(ErrorCode.UNDESERIALIZABLE_RECORD);
        assertThat(f.getRawValue().array()).containsExactly(garbage);
        assertThat(new String(f.getRawKey().array(), StandardCharsets.UTF_8)).isEqualTo("raw-key");
        assertThat(f.getSource().getOffset()).isZero();
        assertThat(f.getMessage()).startsWith("the record could not be deserialized");
        assertThat(h.captionsSeen).hasSize(1);
        assertThat(h.captionsSeen.get(0).value.getSource().getOffset()).isEqualTo(1);
    }

    @Test
    void underAtLeastOnceTheTombstoneWaitsForACommitAfterTheOutcome() {
        h.close();
        AtomicLong commits = new AtomicLong();
        h = new TopologyHarness(new BatchOptions(4, Duration.ofMillis(200), 12, 8, Duration.ofMillis(200), 2),
                context -> commits::get);
        h.fetcher.put("s3://b/0", 0);
        h.requests.pipeInput("r0", TopologyHarness.request("r0", "s3://b/0"));
        h.awaitOutcomes(1);
        h.tick(Duration.ofSeconds(1));
        assertThat(h.buffered()).as("outcome sent, not yet known to be acknowledged").isEqualTo(1);
        commits.incrementAndGet();
        h.tick(Duration.ofMillis(100));
        assertThat(h.buffered()).isZero();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
