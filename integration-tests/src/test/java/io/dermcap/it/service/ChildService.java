package io.dermcap.it.service;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** {@code dermcap run} in a child JVM (the test classpath), so a test can kill it like a crash. */
public final class ChildService implements AutoCloseable {

    /**
     * How the child is launched: JVM options added to the defaults (a GC log, say) and the main
     * class, which is called with {@code run --config FILE} (a test main may wire the service
     * with a test decorator).
     */
    public record Launch(List<String> jvmOptions, String mainClass) {
        public static final Launch DEFAULT = new Launch(List.of(), "io.dermcap.cli.Main");

        public Launch {
            jvmOptions = List.copyOf(jvmOptions);
        }

        public Launch withJvmOptions(String... options) {
            List<String> all = new ArrayList<>(jvmOptions);
            all.addAll(List.of(options));
            return new Launch(all, mainClass);
        }
    }

    private final Process process;
    private final int port;
    private final Path log;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private ChildService(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    static ChildService start(Path config, Map<String, String> env, int port, Path log) throws IOException {
        return start(config, env, port, log, Launch.DEFAULT);
    }

    static ChildService start(Path config, Map<String, String> env, int port, Path log, Launch launch) throws IOException {
        List<String> options = new ArrayList<>(List.of("-Xmx768m", "-XX:+UseSerialGC",
                // log exactly as in production (the test classpath's logback-test.xml would win otherwise)
                "-Dlogback.configurationFile=" + Path.of(System.getProperty("dermcap.repo.root", ".."),
                        "streams-app", "src", "main", "resources", "logback.xml").toAbsolutePath()));
        options.addAll(launch.jvmOptions());
        Process process = ChildJvm.start(options, launch.mainClass(), List.of("run", "--config", config.toString()), env, log);
        return new ChildService(process, port, log);
    }

    /** Waits for {@code /health/ready}; fails with the child's log when it exits or times out. */
    public void awaitReady(Duration timeout) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("dermcap exited with " + process.exitValue() + ":\n" + tail());
            }
            if (health("ready").status() == 200) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("dermcap not ready within " + timeout + ":\n" + tail());
    }

    /** An answer of the operations endpoint; status -1 when it does not answer. */
    public record Health(int status, String body) {
    }

    /** {@code GET /health/<which>} ("live" or "ready"). */
    public Health health(String which) throws InterruptedException {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/" + which))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
            return new Health(r.statusCode(), r.body());
        } catch (IOException notListening) {
            return new Health(-1, notListening.toString());
        }
    }

    /** kill -9: no shutdown hook, no leave-group, no commit. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM and wait for the exit; returns the exit status (143 after SIGTERM, as for any JVM). */
    public int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("dermcap did not stop within 60 s after SIGTERM:\n" + tail());
        }
        return process.exitValue();
    }

    public boolean alive() {
        return process.isAlive();
    }

    /** The exit status, or -1 while it runs. */
    public int exitValue() {
        return process.isAlive() ? -1 : process.exitValue();
    }

    public long pid() {
        return process.pid();
    }

    /** The port of its operations endpoint (/metrics, /health/*). */
    public int opsPort() {
        return port;
    }

    /** Everything the child wrote to stdout and stderr. */
    public Path log() {
        return log;
    }

    public String tail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }
}
