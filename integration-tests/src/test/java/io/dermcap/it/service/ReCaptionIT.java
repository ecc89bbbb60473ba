package io.dermcap.it.service;

import io.dermcap.Sha256;
import io.dermcap.events.CaptionEvent;
import io.dermcap.events.CaptionRequest;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The re-captioning recipe of docs/recaptioning.md, as an operator runs it after a model upgrade:
 * a second application id, its group's offsets set to a point in time on the request topic, a new
 * bundle, its own output topics. The old service keeps running; the new one captions exactly the
 * requests from that time on, and the two sets of outcomes are told apart by their lineage.
 */
class ReCaptionIT {

    private static final Duration TIMEOUT = Duration.ofMinutes(3);

    @Test
    void aSecondApplicationIdReplaysTheRequestsFromATimeWithANewBundle() throws Exception {
        try (ServiceScenario live = new ServiceScenario(2); ServiceScenario replay = new ServiceScenario(2)) {
            live.startInProcess("live", Map.of());
            List<CaptionRequest> before = live.lesionRequests("before", 4);
            live.send(before);
            live.awaitOutcomes(o -> o.distinctKeys() >= 4, TIMEOUT);
            Instant from = Instant.now();
            Thread.sleep(20);
            List<CaptionRequest> after = live.lesionRequests("after", 6);
            live.send(after);
            Outcomes old = live.awaitOutcomes(o -> o.distinctKeys() >= 10, TIMEOUT);

            // the upgrade: a new bundle (here the tiny one under a new version)
            Path bundle = newVersion(replay.dir.resolve("bundle-v2"), "0.0.2-tiny");
            // 1. the replay's group starts at the first request written at or after `from`
            String group = replay.config().get("kafka.application.id");
            try (Admin admin = Admin.create(replay.cluster.kafkaClient(Map.of()))) {
                Map<TopicPartition, OffsetSpec> at = new HashMap<>();
                for (int p = 0; p < 2; p++) {
                    at.put(new TopicPartition(live.requests, p), OffsetSpec.forTimestamp(from.toEpochMilli()));
                }
                Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                for (var e : admin.listOffsets(at).all().get().entrySet()) {
                    // no request at or after that time in a partition (-1): start at its end
                    long offset = e.getValue().offset() >= 0 ? e.getValue().offset()
                            : admin.listOffsets(Map.of(e.getKey(), OffsetSpec.latest())).all().get().get(e.getKey()).offset();
                    offsets.put(e.getKey(), new OffsetAndMetadata(offset));
                }
                admin.alterConsumerGroupOffsets(group, offsets).all().get();
            }
            // 2. the second service: same requests, new bundle, its own application id and output topics
            replay.startInProcess("replay", Map.of(
                    "topic.requests", live.requests,
                    "storage.s3.buckets", live.bucket,
                    "bundle.dir", bundle.toString()));
            Outcomes replayed = replay.awaitOutcomes(o -> o.distinctKeys() >= after.size(), TIMEOUT);
            replay.settle(Duration.ofSeconds(3));

            Set<String> afterIds = after.stream().map(CaptionRequest::getRequestId).collect(Collectors.toSet());
            assertThat(replayed.byKey().keySet()).as("exactly the requests from that time on").isEqualTo(afterIds);
            assertThat(replayed.failures()).isEmpty();
            String newDigest = Sha256.of(bundle.resolve("manifest.json"));
            String oldDigest = Sha256.of(ServiceScenario.TINY_BUNDLE.resolve("manifest.json"));
            assertThat(newDigest).isNotEqualTo(oldDigest);
            for (CaptionEvent e : replayed.captions()) {
                assertThat(e.getBundle().getManifestSha256()).isEqualTo(newDigest);
                assertThat(e.getBundle().getVersion()).isEqualTo("0.0.2-tiny");
                assertThat(e.getRuntime().getInstanceId()).isEqualTo("replay");
            }
            for (CaptionEvent e : old.captions()) {
                assertThat(e.getBundle().getManifestSha256()).isEqualTo(oldDigest);
            }
            // the same request, told apart by lineage: same image, two bundles
            CaptionEvent first = old.byKey().get(after.get(0).getRequestId()).get(0).caption();
            CaptionEvent second = replayed.byKey().get(after.get(0).getRequestId()).get(0).caption();
            assertThat(second.getImageSha256()).isEqualTo(first.getImageSha256());
            assertThat(second.getBundle().getManifestSha256()).isNotEqualTo(first.getBundle().getManifestSha256());
            System.out.printf("[recaption] live: %d outcomes (bundle %s); replay from %s: %d outcomes (bundle %s)%n",
                    old.all().size(), oldDigest.substring(0, 12), from, replayed.all().size(), newDigest.substring(0, 12));
        }
    }

    /** A copy of the tiny bundle whose manifest names another version (the graphs are the same files). */
    private static Path newVersion(Path dir, String version) throws Exception {
        Files.createDirectories(dir);
        try (var files = Files.list(ServiceScenario.TINY_BUNDLE)) {
            for (Path f : files.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        Path manifest = dir.resolve("manifest.json");
        String text = Files.readString(manifest);
        assertThat(text).contains("\"version\": \"0.0.1-tiny\"");
        Files.writeString(manifest, text.replace("\"version\": \"0.0.1-tiny\"", "\"version\": \"" + version + "\""));
        return dir;
    }
}
