package io.dermcap.it.faults;

import io.dermcap.events.CaptionRequest;
import io.dermcap.it.service.ChildService;
import io.dermcap.it.service.Outcomes;
import io.dermcap.it.service.ServiceScenario;
import io.dermcap.registry.SchemaRegistryClient;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The schema registry stops. Requests written with a schema the service already resolved flow on
 * (ids are cached); requests written with a schema version it has never seen cannot be read, so
 * the stream thread gives up without committing them and is replaced after a growing pause (no
 * tight loop, no exit, no dead letter for a record that is not at fault). A service started
 * during the outage waits for the registry instead of failing. When the registry is back,
 * everything gets its outcome, once.
 */
class RegistryOutageIT {

    private static final FaultMode MODE = FaultMode.current();
    private static final Duration TIMEOUT = Duration.ofMinutes(6);

    @Test
    void aRegistryOutageDelaysOnlyUnknownSchemasAndLosesNothing() throws Exception {
        Duration outage = Duration.ofSeconds(MODE.pick(20, 45));
        try (ServiceScenario s = new ServiceScenario(1)) {
            Traffic traffic = new Traffic(s, 8, 7);
            Map<String, String> config = Map.of("kafka.processing.guarantee", "exactly_once_v2",
                    "kafka.group.instance.id", "registry-" + s.id, "batch.max.size", "4", "batch.max.delay.ms", "100",
                    // the serde's own retries: a second and then two, as a unit of the replacement backoff
                    "serde.max.retries", "1", "serde.retries.wait.ms", "500");
            ChildService child = s.startChild("registry", config);
            child.awaitReady(TIMEOUT);
            List<CaptionRequest> before = traffic.requests("before", 0, 8);
            s.send(before);
            s.awaitOutcomes(o -> Audit.covered(o, Traffic.keys(before)), TIMEOUT);

            // a newer request schema, registered while the registry is up; the service has never seen its id
            SchemaRegistryClient registry = s.registry();
            Schema newer = RawRecords.requestWithExtraField();
            int newerId = registry.register(s.requests + "-value", newer);
            List<CaptionRequest> unseen = traffic.requests("newer-schema", 0, 8);

            ServiceScenario.SERVERS.stopRegistry();
            Instant down = Instant.now();
            List<CaptionRequest> known = traffic.requests("known-schema", 0, 8);
            s.send(known);
            s.awaitOutcomes(o -> Audit.covered(o, Traffic.keys(known)), TIMEOUT);
            Duration knownDuringOutage = Duration.between(down, Instant.now());
            for (CaptionRequest r : unseen) {
                s.sendRaw(r.getRequestId(), RawRecords.framed(newerId, newer, r));
            }
            // a restart in the middle of the outage: the new process waits for the registry
            Thread.sleep(outage.dividedBy(2).toMillis());
            assertThat(child.alive()).isTrue();
            child.stop();
            child = s.startChild("registry", config);
            Thread.sleep(Math.max(0, outage.toMillis() - Duration.between(down, Instant.now()).toMillis()));
            assertThat(child.alive()).as("no exit while the registry is down:\n" + child.tail()).isTrue();
            assertThat(s.outcomes().byKey().keySet()).as("nothing read with an unknown schema while the registry is down")
                    .doesNotContainAnyElementsOf(Traffic.keys(unseen));

            ServiceScenario.SERVERS.startRegistry();
            Instant up = Instant.now();
            List<String> keys = new ArrayList<>();
            for (List<CaptionRequest> group : List.of(before, known, unseen)) {
                keys.addAll(Traffic.keys(group));
            }
            Audit audit = Audit.await(s, "registry outage", true, keys, TIMEOUT, Duration.ofSeconds(3));
            Outcomes out = s.outcomes();
            Recovery recovery = new Recovery();
            recovery.add(out, up);
            String first = Files.readString(s.dir.resolve(firstLog(s)));
            String second = Files.readString(child.log());
            int replaced = count(first, "event=stream_thread_failed") + count(second, "event=stream_thread_failed");
            ReliabilityReport.record(new ReliabilityReport.Row(audit, "registry stopped for " + outage.toSeconds()
                    + " s; service restarted during it", "registry back to first outcome: " + recovery.summary(),
                    "known-schema requests captioned during the outage (within " + Recovery.seconds(knownDuringOutage)
                            + "); " + replaced + " stream-thread replacements"));
            audit.assertHolds();
            assertThat(out.failures()).as("a registry outage is nobody's fault: no failure events").isEmpty();
            assertThat(first).contains("event=registry_unavailable");
            assertThat(second).contains("event=registry_unavailable");
            assertThat(replaced).as("the thread is replaced with a growing pause, not in a tight loop")
                    .isLessThanOrEqualTo((int) (outage.toSeconds() / 2));
            assertThat(child.alive()).isTrue();
            LogCheck.assertNoPrivateData(s, traffic, out);
            child.stop();
        } finally {
            ServiceScenario.SERVERS.startRegistry();
        }
    }

    private static String firstLog(ServiceScenario s) throws java.io.IOException {
        try (var files = Files.list(s.dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("registry-") && n.endsWith(".log"))
                    .sorted().findFirst().orElseThrow();
        }
    }

    private static int count(String text, String what) {
        return (int) Pattern.compile(Pattern.quote(what)).matcher(text).results().count();
    }
}
