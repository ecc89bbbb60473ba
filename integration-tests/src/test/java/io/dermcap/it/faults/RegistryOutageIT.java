package io.dermcap.it.faults;

import io.dermcap.events.CaptionRequest;
import io.dermcap.it.service.ChildService;
import io.dermcap.it.service.Outcomes;
import io.dermcap.it.service.ServiceScenario;
import io.dermcap.registry.SchemaRegistryClient;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The schema registry stops, twice. Requests written with a schema the service already resolved
 * flow on (ids are cached). A request written with a schema version the service has never seen
 * cannot be read: the stream thread waits for the registry in place (no dead letter for a record
 * that is not at fault, no thread replacement, no exit) and goes on once it is back. A service
 * started during an outage waits for the registry before it consumes. Nothing is lost or doubled.
 */
class RegistryOutageIT {

    private static final FaultMode MODE = FaultMode.current();
    private static final Duration TIMEOUT = Duration.ofMinutes(6);

    @Test
    void registryOutagesDelayOnlyUnknownSchemasAndLoseNothing() throws Exception {
        Duration outage = Duration.ofSeconds(MODE.pick(12, 30));
        try (ServiceScenario s = new ServiceScenario(1)) {
            Traffic traffic = new Traffic(s, 8, 7);
            Map<String, String> config = Map.of("kafka.processing.guarantee", "exactly_once_v2",
                    "kafka.group.instance.id", "registry-" + s.id, "batch.max.size", "4", "batch.max.delay.ms", "100",
                    "serde.max.retries", "1", "serde.retries.wait.ms", "500");
            ChildService child = s.startChild("registry", config);
            child.awaitReady(TIMEOUT);
            List<String> keys = new ArrayList<>();
            List<CaptionRequest> before = traffic.requests("before", 0, 8);
            s.send(before);
            keys.addAll(Traffic.keys(before));
            s.awaitOutcomes(o -> Audit.covered(o, keys), TIMEOUT);
            SchemaRegistryClient registry = s.registry();

            // outage 1: known schemas flow on, an unseen one waits on the stream thread
            Schema v2 = RawRecords.requestWithExtraField("priority");
            int v2Id = registry.register(s.requests + "-value", v2);
            ServiceScenario.SERVERS.stopRegistry();
            Instant down = Instant.now();
            List<CaptionRequest> known = traffic.requests("known-schema", 0, 8);
            s.send(known);
            keys.addAll(Traffic.keys(known));
            s.awaitOutcomes(o -> Audit.covered(o, Traffic.keys(known)), TIMEOUT);
            Duration knownWithin = Duration.between(down, Instant.now());
            List<CaptionRequest> unseen = traffic.requests("unseen-schema", 0, 8);
            sendFramed(s, unseen, v2Id, v2);
            keys.addAll(Traffic.keys(unseen));
            sleepUntil(down.plus(outage));
            assertThat(child.alive()).isTrue();
            assertThat(s.outcomes().byKey().keySet()).as("nothing with an unseen schema is read while the registry is down")
                    .doesNotContainAnyElementsOf(Traffic.keys(unseen));
            ServiceScenario.SERVERS.startRegistry();
            Instant up = Instant.now();
            s.awaitOutcomes(o -> Audit.covered(o, Traffic.keys(unseen)), TIMEOUT);
            Recovery recovery = new Recovery();
            recovery.add(s.outcomes(), up);

            // outage 2: the service restarts in the middle of it and waits before consuming
            Schema v3 = RawRecords.requestWithExtraField("ward");
            int v3Id = registry.register(s.requests + "-value", v3);
            ServiceScenario.SERVERS.stopRegistry();
            down = Instant.now();
            List<CaptionRequest> later = traffic.requests("restart-schema", 0, 8);
            sendFramed(s, later, v3Id, v3);
            keys.addAll(Traffic.keys(later));
            sleepUntil(down.plus(outage.dividedBy(2)));
            Path firstLog = child.log();
            child.stop();
            child = s.startChild("registry", config);
            sleepUntil(down.plus(outage));
            assertThat(child.alive()).as("no exit while the registry is down:\n" + child.tail()).isTrue();
            assertThat(s.outcomes().byKey().keySet()).doesNotContainAnyElementsOf(Traffic.keys(later));
            ServiceScenario.SERVERS.startRegistry();
            up = Instant.now();

            Audit audit = Audit.await(s, "registry outages", true, keys, TIMEOUT, Duration.ofSeconds(3));
            Outcomes out = s.outcomes();
            recovery.add(out, up);
            String first = Files.readString(firstLog);
            String second = Files.readString(child.log());
            int failedThreads = count(first + second, "event=stream_thread_failed");
            ReliabilityReport.record(new ReliabilityReport.Row(audit, "registry stopped twice for " + outage.toSeconds()
                    + " s; the service restarted during the second outage",
                    "registry back to first outcome: " + recovery.times().stream().map(Recovery::seconds).toList()
                            + " (waiting thread, restarted service)",
                    "known-schema requests captioned during the outage (all within " + Recovery.seconds(knownWithin)
                            + "); " + failedThreads + " stream threads failed"));
            audit.assertHolds();
            assertThat(out.failures()).as("a registry outage is nobody's fault: no failure events").isEmpty();
            assertThat(first).as("the stream thread waits for the registry").contains("action=wait")
                    .contains("event=registry_back");
            assertThat(second).as("a service started during the outage waits before consuming")
                    .contains("event=registry_unavailable subject=");
            assertThat(failedThreads).as("no stream thread fails for an outage shorter than half max.poll.interval.ms")
                    .isZero();
            assertThat(child.alive()).isTrue();
            LogCheck.assertNoPrivateData(s, traffic, out);
            child.stop();
        } finally {
            ServiceScenario.SERVERS.startRegistry();
        }
    }

    /** Requests written with a schema version the service has not seen (framed by hand: the registry may be down). */
    private static void sendFramed(ServiceScenario s, List<CaptionRequest> requests, int schemaId, Schema schema) {
        for (CaptionRequest r : requests) {
            s.sendRaw(r.getRequestId(), RawRecords.framed(schemaId, schema, r));
        }
    }

    private static void sleepUntil(Instant t) throws InterruptedException {
        Thread.sleep(Math.max(0, Duration.between(Instant.now(), t).toMillis()));
    }

    private static int count(String text, String what) {
        return (int) Pattern.compile(Pattern.quote(what)).matcher(text).results().count();
    }
}
