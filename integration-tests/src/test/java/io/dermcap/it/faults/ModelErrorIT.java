package io.dermcap.it.faults;

import io.dermcap.events.CaptionRequest;
import io.dermcap.events.ErrorCode;
import io.dermcap.events.FailureEvent;
import io.dermcap.events.GenerationOverrides;
import io.dermcap.it.service.ChildService;
import io.dermcap.it.service.Outcomes;
import io.dermcap.it.service.ServiceScenario;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The model fails on one batch (injected by {@link FaultInjectingMain}: the batch holding a marker
 * request throws as ONNX Runtime would): that batch's requests fail as MODEL_ERROR (retryable),
 * every other request is captioned, and the service carries on without restarting anything.
 */
class ModelErrorIT {

    private static final Duration TIMEOUT = Duration.ofMinutes(4);

    @Test
    void aFailedModelBatchFailsItsRequestsAndTheServiceCarriesOn() throws Exception {
        try (ServiceScenario s = new ServiceScenario(1)) {
            Traffic traffic = new Traffic(s, 6, 11);
            ChildService child = s.startChild("model", Map.of("batch.max.size", "4", "batch.max.delay.ms", "300"),
                    new ChildService.Launch(List.of("-D" + FaultInjectingMain.FAULT + "=model-error"),
                            FaultInjectingMain.class.getName()));
            child.awaitReady(TIMEOUT);

            List<CaptionRequest> before = traffic.requests("before", 0, 8);
            s.send(before);
            s.awaitOutcomes(o -> Audit.covered(o, Traffic.keys(before)), TIMEOUT);

            List<CaptionRequest> batch = batchWithMarker(traffic);
            CaptionRequest marker = batch.get(batch.size() - 1);
            Instant fault = Instant.now();
            s.send(batch);
            s.awaitOutcomes(o -> Audit.covered(o, Traffic.keys(batch)), TIMEOUT);

            List<CaptionRequest> after = traffic.requests("after", 0, 8);
            s.send(after);
            List<String> keys = new ArrayList<>(Traffic.keys(before));
            keys.addAll(Traffic.keys(batch));
            keys.addAll(Traffic.keys(after));
            s.awaitOutcomes(o -> Audit.covered(o, keys), TIMEOUT);
            Outcomes out = s.settle(Duration.ofSeconds(2));

            Audit audit = Audit.of("model error on one batch", false, keys, out);
            List<FailureEvent> failures = out.failures();
            Recovery recovery = new Recovery();
            recovery.add(out, failures.isEmpty() ? fault : failures.get(0).getFailedAt());
            ReliabilityReport.record(new ReliabilityReport.Row(audit, "the model throws on the batch holding a marker request",
                    "failed batch to next outcome: " + recovery.summary(),
                    failures.size() + " MODEL_ERROR (the failed batch), " + out.captions().size() + " captions"));
            audit.assertHolds();
            assertThat(out.duplicated()).isEmpty();

            assertThat(failures).isNotEmpty().allSatisfy(f -> {
                assertThat(f.getCode()).isEqualTo(ErrorCode.MODEL_ERROR);
                assertThat(f.getRetryable()).isTrue();
                assertThat(f.getMessage()).contains("the model failed on a batch of").contains("injected fault");
                assertThat(Traffic.keys(batch)).contains(f.getRequestId());
            });
            assertThat(failures).extracting(FailureEvent::getRequestId).contains(marker.getRequestId());
            Matcher m = Pattern.compile("a batch of (\\d+)").matcher(failures.get(0).getMessage());
            assertThat(m.find()).isTrue();
            assertThat(failures).as("exactly the requests of the failed model batch").hasSize(Integer.parseInt(m.group(1)));
            assertThat(out.captions()).hasSize(keys.size() - failures.size());

            assertThat(child.alive()).isTrue();
            String log = Files.readString(child.log());
            assertThat(log).contains("event=model_batch_failed").doesNotContain("event=stream_thread_failed")
                    .doesNotContain("inference_thread_died");
            LogCheck.assertNoPrivateData(s, traffic, out);
            child.stop();
        }
    }

    /** Three ordinary requests and the marker last, to be sent together: one flush of batch.max.size 4. */
    private static List<CaptionRequest> batchWithMarker(Traffic traffic) {
        List<CaptionRequest> batch = new ArrayList<>(traffic.requests("batch", 0, 3));
        CaptionRequest marker = traffic.requests("marker", 0, 1).get(0);
        marker.setOverrides(GenerationOverrides.newBuilder().setPrompt(FaultInjectingMain.MARKER_PROMPT).build());
        batch.add(marker);
        return batch;
    }

    /**
     * An Error in a model run (here an out-of-memory) ends the engine's thread: the service stops
     * with status 1 instead of hanging with nobody to finish its requests, and after a restart
     * every request has exactly one outcome. Regression: the process used to stay up, live
     * probe failing, with every later request stuck.
     */
    @Test
    void anErrorThatKillsTheEngineStopsTheServiceAndARestartLosesNothing() throws Exception {
        try (ServiceScenario s = new ServiceScenario(1)) {
            Traffic traffic = new Traffic(s, 6, 13);
            Map<String, String> config = Map.of("kafka.processing.guarantee", "exactly_once_v2",
                    "kafka.group.instance.id", "engine-" + s.id, "batch.max.size", "4", "batch.max.delay.ms", "300");
            ChildService child = s.startChild("engine", config, new ChildService.Launch(
                    List.of("-D" + FaultInjectingMain.FAULT + "=engine-dies"), FaultInjectingMain.class.getName()));
            child.awaitReady(TIMEOUT);
            List<CaptionRequest> before = traffic.requests("before", 0, 8);
            s.send(before);
            s.awaitOutcomes(o -> Audit.covered(o, Traffic.keys(before)), TIMEOUT);

            List<CaptionRequest> batch = batchWithMarker(traffic);
            s.send(batch);
            List<CaptionRequest> after = traffic.requests("after", 0, 8);
            s.send(after);
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (child.alive() && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            Instant stopped = Instant.now();
            assertThat(child.alive()).as("the service stops once its engine is dead:\n" + child.tail()).isFalse();
            assertThat(child.exitValue()).isEqualTo(1);
            assertThat(Files.readString(child.log())).contains("event=inference_thread_died").contains("event=engine_failed")
                    .contains("event=stopped");

            ChildService restarted = s.startChild("engine", config); // production main: the fault is gone
            List<String> keys = new ArrayList<>(Traffic.keys(before));
            keys.addAll(Traffic.keys(batch));
            keys.addAll(Traffic.keys(after));
            Audit audit = Audit.await(s, "engine thread dies (an Error in a model run)", true, keys, TIMEOUT,
                    Duration.ofSeconds(3));
            Outcomes out = s.outcomes();
            Recovery recovery = new Recovery();
            recovery.add(out, stopped);
            ReliabilityReport.record(new ReliabilityReport.Row(audit, "an OutOfMemoryError in the model run of one batch",
                    "exit to first outcome after a restart: " + recovery.summary(),
                    "the service exits with status 1 instead of hanging; " + out.failures().size() + " MODEL_ERROR"));
            audit.assertHolds();
            assertThat(out.failures()).allSatisfy(f -> {
                assertThat(f.getCode()).isEqualTo(ErrorCode.MODEL_ERROR);
                assertThat(Traffic.keys(batch)).contains(f.getRequestId());
            });
            LogCheck.assertNoPrivateData(s, traffic, out);
            restarted.stop();
        }
    }
}
