package io.dermcap.it.faults;

import io.dermcap.events.CaptionRequest;
import io.dermcap.events.ErrorCode;
import io.dermcap.events.FailureEvent;
import io.dermcap.it.service.ChildService;
import io.dermcap.it.service.Outcomes;
import io.dermcap.it.service.ServiceScenario;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The S3 server stops for a while (30 s in the full run). Fetches retry with backoff within
 * {@code storage.retry.budget.ms}, counted from a request's first attempt: requests fetched at the
 * start of the outage run out of budget and fail as FETCH_FAILED (retryable), requests fetched
 * late enough that their budget outlasts the outage wait and are captioned once the server is back.
 */
class StorageOutageIT {

    private static final FaultMode MODE = FaultMode.current();
    private static final Duration TIMEOUT = Duration.ofMinutes(5);

    @Test
    void requestsWaitOutAnOutageWithinTheirRetryBudgetAndFailPastIt() throws Exception {
        Duration outage = Duration.ofSeconds(MODE.pick(10, 30));
        Duration budget = Duration.ofSeconds(MODE.pick(6, 20));
        Duration maxBackoff = Duration.ofMillis(MODE.pick(1000, 2000));
        // late requests start fetching when what is left of the outage is well inside their budget
        Duration lateAt = outage.minus(budget).plus(maxBackoff).plusSeconds(2);
        try (ServiceScenario s = new ServiceScenario(1)) {
            Traffic traffic = new Traffic(s, 8, 3);
            ChildService child = s.startChild("s3", Map.of("kafka.processing.guarantee", "exactly_once_v2",
                    "batch.max.size", "4", "batch.max.delay.ms", "100", "batch.fetch.threads", "8",
                    "storage.retry.max.attempts", "100", "storage.retry.initial.backoff.ms", "100",
                    "storage.retry.max.backoff.ms", Long.toString(maxBackoff.toMillis()),
                    "storage.retry.budget.ms", Long.toString(budget.toMillis())));
            child.awaitReady(TIMEOUT);
            List<CaptionRequest> before = traffic.requests("before", 0, 8);
            s.send(before);
            s.awaitOutcomes(o -> Audit.covered(o, Traffic.keys(before)), TIMEOUT);

            ServiceScenario.SERVERS.stopS3();
            Instant down = Instant.now();
            List<CaptionRequest> early = traffic.requests("early", 0, 4);
            s.send(early);
            Thread.sleep(lateAt.toMillis());
            List<CaptionRequest> late = traffic.requests("late", 0, 4);
            s.send(late);
            Thread.sleep(Math.max(0, outage.toMillis() - Duration.between(down, Instant.now()).toMillis()));
            ServiceScenario.SERVERS.startS3();
            Instant up = Instant.now();
            List<CaptionRequest> after = traffic.requests("after", 0, 8);
            s.send(after);

            List<String> keys = new ArrayList<>();
            for (List<CaptionRequest> group : List.of(before, early, late, after)) {
                keys.addAll(Traffic.keys(group));
            }
            Audit audit = Audit.await(s, "S3 outage", true, keys, TIMEOUT, Duration.ofSeconds(3));
            Outcomes out = s.outcomes();
            Recovery recovery = new Recovery();
            recovery.add(out, up);
            ReliabilityReport.record(new ReliabilityReport.Row(audit, "S3 server stopped for " + outage.toSeconds()
                    + " s (retry budget " + budget.toSeconds() + " s)", "S3 back to first outcome: " + recovery.summary(),
                    "4 fetched at the outage's start: FETCH_FAILED; 4 fetched " + lateAt.toSeconds()
                            + " s in: captioned"));
            audit.assertHolds();

            Set<String> failed = out.failures().stream().map(FailureEvent::getRequestId).collect(Collectors.toSet());
            assertThat(failed).as("exactly the requests whose budget ended inside the outage")
                    .containsExactlyInAnyOrderElementsOf(Traffic.keys(early));
            assertThat(out.failures()).allSatisfy(f -> {
                assertThat(f.getCode()).isEqualTo(ErrorCode.FETCH_FAILED);
                assertThat(f.getRetryable()).isTrue();
                assertThat(f.getAttempts()).isGreaterThan(1);
                assertThat(f.getMessage()).startsWith("gave up after ").contains(s.bucket);
                assertThat(Duration.between(down, f.getFailedAt())).isLessThan(outage);
            });
            assertThat(out.captions()).filteredOn(c -> Traffic.keys(late).contains(c.getRequestId()))
                    .hasSize(4)
                    .allSatisfy(c -> {
                        assertThat(c.getTimings().getFetchAttempts()).isGreaterThan(1);
                        assertThat(c.getCaptionedAt()).isAfter(up);
                    });
            assertThat(child.alive()).isTrue();
            LogCheck.assertNoPrivateData(s, traffic, out);
            child.stop();
        } finally {
            ServiceScenario.SERVERS.startS3();
        }
    }
}
