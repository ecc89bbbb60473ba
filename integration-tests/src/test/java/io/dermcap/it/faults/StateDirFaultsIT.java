package io.dermcap.it.faults;

import io.dermcap.embedded.ServerSupport;
import io.dermcap.events.CaptionRequest;
import io.dermcap.it.servers.KafkaCluster;
import io.dermcap.it.service.ChildService;
import io.dermcap.it.service.ServiceScenario;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The service's local state on the three-node cluster: its state directory deleted while it is
 * stopped (the buffer store is restored from its changelog), unwritable at start (a clear error,
 * a non-zero exit, nothing consumed), and full mid-run (where this machine lets the test mount a
 * small file system).
 */
class StateDirFaultsIT {

    @Test
    void aDeletedStateDirectoryIsRestoredFromTheChangelog() throws Exception {
        KafkaCluster cluster = KafkaCluster.shared();
        try (ClusterRun run = ClusterRun.begin(cluster, "state")) {
            run.faultStarts();
            run.child.stop();
            int buffered = 0;
            for (int p = 0; p < 3; p++) {
                buffered += run.scenario.liveBufferEntries(p).size();
            }
            Path state = run.scenario.dir.resolve("state-" + run.instance);
            long files = count(state);
            assertThat(files).as("the stopped service left its state in " + state).isPositive();
            ServerSupport.deleteRecursively(state);
            run.child = run.scenario.startChild(run.instance, run.config);
            Instant restarted = run.faultEnds();
            run.child.awaitReady(ClusterFaultsIT.TIMEOUT);
            run.recoverFrom(restarted);
            run.finish("state directory deleted", "the service stopped (SIGTERM), its state directory deleted ("
                            + files + " files), started again",
                    "start",
                    buffered + " requests live in the buffer's changelog at the stop");
        }
    }

    @Test
    void anUnwritableStateDirectoryIsAClearErrorAndNothingIsConsumed() throws Exception {
        KafkaCluster cluster = KafkaCluster.shared();
        try (ServiceScenario s = ClusterRun.newScenario(cluster)) {
            Traffic traffic = new Traffic(s, 4, 17);
            List<CaptionRequest> requests = traffic.requests("unwritable", 0, 8);
            s.send(requests);
            Path state = s.dir.resolve("state-readonly");
            String how = makeUnwritable(state);
            Map<String, String> config = ClusterRun.serviceConfig(s, "unwritable", Map.of("kafka.state.dir", state.toString()));
            int exit;
            Duration exitAfter;
            String log;
            try {
                ChildService child = s.startChild("unwritable", config);
                Instant start = Instant.now();
                long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
                while (child.alive() && System.nanoTime() < deadline) {
                    Thread.sleep(200);
                }
                exitAfter = Duration.between(start, Instant.now());
                log = Files.readString(child.log(), StandardCharsets.UTF_8);
                assertThat(child.alive()).as("the service exits:\n" + child.tail()).isFalse();
                exit = child.exitValue();
                s.settle(Duration.ofSeconds(3));
                try (Admin admin = Admin.create(s.cluster.kafkaClient(Map.of()))) {
                    assertThat(admin.listConsumerGroupOffsets(s.config().get("kafka.application.id"))
                            .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS)).as("no offset committed").isEmpty();
                }
                assertThat(s.outcomes().all()).as("nothing consumed").isEmpty();
            } finally {
                restoreWritable(state);
            }
            String error = log.lines().filter(l -> l.startsWith("dermcap: ")).findFirst().orElse("(no error line)");
            ChildService child = s.startChild("unwritable", config);
            Instant restarted = Instant.now();
            child.awaitReady(ClusterFaultsIT.TIMEOUT);
            Audit audit = Audit.await(s, "state directory unwritable", true, Traffic.keys(requests),
                    ClusterFaultsIT.TIMEOUT, Duration.ofSeconds(3));
            Recovery recovery = new Recovery();
            recovery.add(s.outcomes(), restarted);
            ReliabilityReport.record(new ReliabilityReport.Row(audit, "the state directory cannot be written (" + how
                    + ") when the service starts", "writable again, start to first outcome: " + recovery.summary(),
                    "exit status " + exit + " after " + Recovery.seconds(exitAfter) + ", nothing consumed; it said: " + error));
            audit.assertHolds();
            assertThat(exit).as("a non-zero exit").isNotZero();
            assertThat(error).as("one clear line naming the directory").contains(state.toString());
            assertThat(log).as("no stack trace for an operator's mistake").doesNotContain("\tat ");
            LogCheck.assertNoPrivateData(s, traffic, s.outcomes());
            child.stop();
        }
    }

    @Test
    @Tag("full")
    void aFullStateFileSystem() throws Exception {
        KafkaCluster cluster = KafkaCluster.shared();
        Path mount = Files.createTempDirectory("dermcap-small-fs-");
        String mounted = run("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mount.toString());
        Assumptions.assumeTrue(mounted.isEmpty(), "not run: this machine does not let the test mount a small file system ("
                + mounted + ")");
        try (ClusterRun run = ClusterRun.begin(cluster, "diskfull", Map.of("kafka.state.dir", mount.resolve("state").toString()))) {
            run.faultStarts();
            Path filler = mount.resolve("filler");
            long filled = fill(filler);
            String said = awaitLine(run.child, Duration.ofSeconds(60), "No space left", "stream_thread_failed", "ERROR");
            boolean diedByItself = !run.child.alive();
            Files.delete(filler);
            if (run.child.alive()) {
                run.child.stop();
            }
            run.child = run.scenario.startChild(run.instance, run.config);
            Instant restarted = run.faultEnds();
            run.child.awaitReady(ClusterFaultsIT.TIMEOUT);
            run.recoverFrom(restarted);
            run.finish("state file system full", "the state directory's 16 MB tmpfs filled (" + filled / 1024
                            + " KiB written to fill it), space freed, the service restarted",
                    "restart",
                    (diedByItself ? "the service exited by itself; " : "the service kept running; ") + "it said: " + said);
        } finally {
            unmount(mount);
        }
    }

    /** Writes until the file system is full; returns the bytes written. */
    private static long fill(Path file) throws IOException {
        byte[] chunk = new byte[64 * 1024];
        long written = 0;
        try (OutputStream out = Files.newOutputStream(file)) {
            while (true) {
                out.write(chunk);
                written += chunk.length;
            }
        } catch (IOException full) {
            return written;
        }
    }

    /** The first log line (of the current child) holding one of {@code words}, waiting up to {@code timeout}. */
    private static String awaitLine(ChildService child, Duration timeout, String... words) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try (Stream<String> lines = Files.lines(child.log(), StandardCharsets.UTF_8)) {
                var line = lines.filter(l -> Stream.of(words).anyMatch(l::contains)).findFirst();
                if (line.isPresent()) {
                    return line.get().strip();
                }
            }
            if (!child.alive()) {
                return "(exit " + child.exitValue() + ")";
            }
            Thread.sleep(500);
        }
        return "nothing within " + timeout.toSeconds() + " s";
    }

    /**
     * Makes {@code dir} a directory nobody can write: its permissions where the test does not run
     * as root, else a read-only tmpfs mounted on it (root writes through permissions), else (root
     * without the right to mount) a regular file where the directory should be.
     */
    private static String makeUnwritable(Path dir) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("r-xr-xr-x"));
        if (!writable(dir)) {
            return "mode r-xr-xr-x";
        }
        if (run("mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", dir.toString()).isEmpty()) {
            assertThat(writable(dir)).isFalse();
            return "a read-only file system";
        }
        Files.delete(dir);
        Files.writeString(dir, "not a directory");
        return "a regular file in its place";
    }

    private static void restoreWritable(Path dir) throws IOException, InterruptedException {
        unmount(dir);
        if (Files.isRegularFile(dir)) {
            Files.delete(dir);
            Files.createDirectory(dir);
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private static boolean writable(Path dir) {
        try {
            Files.delete(Files.createTempFile(dir, "probe", ""));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void unmount(Path dir) throws IOException, InterruptedException {
        if (Files.readString(Path.of("/proc/mounts")).contains(" " + dir + " ")) {
            run("umount", dir.toString());
        }
    }

    /** Runs a command; returns "" on success, else its exit status and output. */
    private static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        int rc = p.waitFor();
        return rc == 0 ? "" : "exit " + rc + ": " + out;
    }

    private static long count(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).count();
        }
    }
}
