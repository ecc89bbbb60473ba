package io.dermcap.it.faults;

import io.dermcap.events.CaptionEvent;
import io.dermcap.events.CaptionRequest;
import io.dermcap.it.service.ChildService;
import io.dermcap.it.service.ServiceScenario;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A burst of ten times the sustainable rate, measured first in the same run: the backlog waits in
 * Kafka (consumer lag rises, then drains to zero), the child JVM's heap stays bounded (its GC
 * log's live heap during the burst stays near the steady-state one), and no outcome is lost.
 */
class LoadBurstIT {

    private static final FaultMode MODE = FaultMode.current();
    private static final Duration TIMEOUT = Duration.ofMinutes(MODE.pick(8, 20));
    private static final int PARTITIONS = 2;

    @Test
    @Tag("full")
    void aBurstOfTenTimesTheSustainableRateDrainsWithBoundedHeap() throws Exception {
        int steady = MODE.pick(96, 320);
        Duration burstFor = Duration.ofSeconds(MODE.pick(4, 15));
        try (ServiceScenario s = new ServiceScenario(PARTITIONS)) {
            Traffic traffic = new Traffic(s, 24, 23);
            Path gc = s.dir.resolve("burst.gclog");
            ChildService child = s.startChild("burst", Map.of("batch.max.size", "8", "batch.max.delay.ms", "100"),
                    ChildService.Launch.DEFAULT.withJvmOptions(GcLog.option(gc)));
            child.awaitReady(TIMEOUT);

            // 1. the sustainable rate: a backlog drained as fast as the service can
            List<CaptionRequest> warm = traffic.requests("steady", 0, steady);
            Instant steadyFrom = Instant.now();
            s.send(warm);
            s.awaitOutcomes(o -> Audit.covered(o, Traffic.keys(warm)), TIMEOUT);
            Instant steadyTo = Instant.now();
            List<Instant> times = s.outcomes().captions().stream().map(CaptionEvent::getCaptionedAt).sorted().toList();
            // from the end of the first batch to the last outcome: the rate of a busy service
            double rate = (times.size() - 8) / (Duration.between(times.get(7), times.get(times.size() - 1)).toMillis() / 1000.0);

            // 2. ten times that rate for a while, paced every 50 ms
            int burst = (int) Math.round(10 * rate * burstFor.toMillis() / 1000.0);
            List<CaptionRequest> flood = traffic.requests("burst", 0, burst);
            AtomicLong peakLag = new AtomicLong();
            Thread sampler = new Thread(() -> sampleLag(s, peakLag), "lag-sampler");
            sampler.setDaemon(true);
            sampler.start();
            Instant burstFrom = Instant.now();
            int perTick = (int) Math.ceil(burst / (burstFor.toMillis() / 50.0));
            for (int i = 0; i < burst; i += perTick) {
                s.send(flood.subList(i, Math.min(burst, i + perTick)));
                long next = burstFrom.toEpochMilli() + (i / perTick + 1) * 50L;
                Thread.sleep(Math.max(0, next - System.currentTimeMillis()));
            }
            Duration sentIn = Duration.between(burstFrom, Instant.now());
            List<String> keys = new ArrayList<>(Traffic.keys(warm));
            keys.addAll(Traffic.keys(flood));
            Audit audit = Audit.await(s, "10x burst", false, keys, TIMEOUT, Duration.ofSeconds(2));
            Instant drained = Instant.now();
            long lagAfter = awaitLag(s, 0, Duration.ofSeconds(30));
            sampler.interrupt();

            List<GcLog.Pause> pauses = GcLog.read(gc);
            List<GcLog.Pause> steadyPauses = GcLog.between(pauses, steadyFrom, steadyTo);
            List<GcLog.Pause> burstPauses = GcLog.between(pauses, burstFrom, drained);
            long steadyLive = GcLog.peakLive(steadyPauses);
            long burstLive = GcLog.peakLive(burstPauses);
            long burstUsed = GcLog.peakUsed(burstPauses);
            double drainSeconds = Duration.between(burstFrom, drained).toMillis() / 1000.0;
            ReliabilityReport.record(new ReliabilityReport.Row(audit, String.format("%d requests in %.1f s (%.0f/s, 10x the "
                            + "sustainable %.1f/s)", burst, sentIn.toMillis() / 1000.0, burst / (sentIn.toMillis() / 1000.0), rate),
                    String.format("backlog drained %.0f s after the burst began", drainSeconds),
                    String.format("peak lag %d; heap peak %s used, %s live after GC (steady state: %s live); -Xmx768m",
                            peakLag.get(), GcLog.mb(burstUsed), GcLog.mb(burstLive), GcLog.mb(steadyLive))));
            audit.assertHolds();
            assertThat(s.outcomes().failures()).isEmpty();
            assertThat(lagAfter).as("consumer lag after the burst").isZero();
            assertThat(peakLag.get()).as("the backlog waited in Kafka").isGreaterThan(burst / 4);
            assertThat(burstPauses).as("GC pauses during the burst").isNotEmpty();
            assertThat(steadyPauses).as("GC pauses in steady state").isNotEmpty();
            assertThat(burstLive).as("live heap during a 10x burst vs steady state (%s)", GcLog.mb(steadyLive))
                    .isLessThan(Math.max(2 * steadyLive, steadyLive + (64L << 20)));
            assertThat(child.alive()).isTrue();
            LogCheck.assertNoPrivateData(s, traffic, s.outcomes());
            child.stop();
        }
    }

    /** The service's consumer lag on the request topic, sampled every 500 ms; the peak goes to {@code peak}. */
    private static void sampleLag(ServiceScenario s, AtomicLong peak) {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                peak.accumulateAndGet(lag(s), Math::max);
                Thread.sleep(500);
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                // the group may not have committed yet
            }
        }
    }

    private static long awaitLag(ServiceScenario s, long wanted, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        long lag = lag(s);
        while (lag != wanted && System.nanoTime() < deadline) {
            Thread.sleep(500);
            lag = lag(s);
        }
        return lag;
    }

    /** End offsets of the request topic minus the service group's committed offsets. */
    static long lag(ServiceScenario s) throws Exception {
        try (Admin admin = Admin.create(s.cluster.kafkaClient(Map.of()))) {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(
                    s.config().get("kafka.application.id")).partitionsToOffsetAndMetadata().get();
            List<TopicPartition> parts = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                parts.add(new TopicPartition(s.requests, p));
            }
            Map<TopicPartition, Long> ends = admin.listOffsets(parts.stream().collect(Collectors.toMap(p -> p,
                    p -> OffsetSpec.latest()))).all().get().entrySet().stream()
                    .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
            long lag = 0;
            for (TopicPartition p : parts) {
                OffsetAndMetadata c = committed.get(p);
                lag += ends.get(p) - (c == null ? 0 : c.offset());
            }
            return lag;
        }
    }
}
