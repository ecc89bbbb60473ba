package io.dermcap.it.servers;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.dermcap.embedded.ServerSupport;

/**
 * A real Apicurio Registry 3.x, run as a child process on a Java 21+ runtime, bound to 127.0.0.1
 * (HTTP and management ports), storing into an H2 file database so that a {@link #stop()} /
 * {@link #start()} (a registry outage) keeps every schema and id. Its Confluent-compatible API is
 * {@link #confluentUrl()}. With {@code users}, HTTP basic authentication is enforced by
 * Apicurio itself ({@code apicurio.authn.enabled}, {@code quarkus.http.auth.basic},
 * {@code apicurio.authn.mechanism.priority=basic}, users from Quarkus' embedded realm); no OIDC
 * server is needed.
 */
public final class ApicurioRegistry implements AutoCloseable {

    private final Path home;
    private final Path java;
    private final Path dataDir;
    private final Map<String, String> users;
    private final int port;
    private final int managementPort;
    private final Path log;
    private Process process;

    private ApicurioRegistry(Path home, Path java, Map<String, String> users) throws IOException {
        this.home = home;
        this.java = java;
        this.users = Map.copyOf(users);
        this.dataDir = Files.createTempDirectory("dermcap-apicurio-");
        this.log = dataDir.resolve("apicurio.log");
        this.port = ServerSupport.freePort();
        this.managementPort = ServerSupport.freePort();
    }

    /** Starts a registry; {@code users} (name → password) turns on basic auth. */
    public static ApicurioRegistry launch(Map<String, String> users) throws IOException {
        ApicurioRegistry registry = new ApicurioRegistry(home(), java(), users);
        registry.start();
        return registry;
    }

    public URI confluentUrl() {
        return URI.create("http://127.0.0.1:" + port + "/apis/ccompat/v7");
    }

    public synchronized void start() throws IOException {
        if (process != null) {
            return;
        }
        List<String> command = new ArrayList<>(List.of(java.toString(),
                "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Dquarkus.http.host=127.0.0.1", "-Dquarkus.http.port=" + port,
                "-Dquarkus.management.host=127.0.0.1", "-Dquarkus.management.port=" + managementPort,
                "-Dapicurio.datasource.url=jdbc:h2:file:" + dataDir.resolve("registry") + ";DB_CLOSE_ON_EXIT=FALSE",
                "-Dapicurio.datasource.jdbc.initial-size=2", "-Dapicurio.datasource.jdbc.min-size=2",
                "-Dquarkus.log.level=WARN"));
        if (!users.isEmpty()) {
            // Apicurio reads quarkus.http.auth.basic itself (Quarkus warns it is a build-time
            // property, but without it nothing is enforced); no OIDC server is involved
            command.add("-Dapicurio.authn.enabled=true");
            command.add("-Dquarkus.oidc.tenant-enabled=false");
            command.add("-Dquarkus.http.auth.basic=true");
            command.add("-Dapicurio.authn.mechanism.priority=basic");
            command.add("-Dquarkus.security.users.embedded.enabled=true");
            command.add("-Dquarkus.security.users.embedded.plain-text=true");
            users.forEach((user, password) -> {
                command.add("-Dquarkus.security.users.embedded.users." + user + "=" + password);
                command.add("-Dquarkus.security.users.embedded.roles." + user + "=sr-admin");
            });
        }
        command.addAll(List.of("-jar", home.resolve("quarkus-run.jar").toString()));
        process = new ProcessBuilder(command).directory(home.toFile())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        awaitReady(Duration.ofSeconds(90));
    }

    /** Stops the process (an outage); {@link #start()} brings it back with its data. */
    public synchronized void stop() {
        if (process != null) {
            process.destroy();
            try {
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process = null;
        }
    }

    private void awaitReady(Duration timeout) throws IOException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(confluentUrl() + "/subjects"))
                .timeout(Duration.ofSeconds(5));
        users.entrySet().stream().findFirst().ifPresent(u -> request.header("Authorization", "Basic "
                + Base64.getEncoder().encodeToString((u.getKey() + ":" + u.getValue()).getBytes(StandardCharsets.UTF_8))));
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("Apicurio exited with " + process.exitValue() + "; log: " + tail());
            }
            try {
                if (http.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for Apicurio", e);
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for Apicurio", e);
            }
        }
        throw new IOException("Apicurio did not become ready within " + timeout + "; log: " + tail());
    }

    private String tail() throws IOException {
        String text = Files.exists(log) ? Files.readString(log) : "";
        return text.length() > 3000 ? text.substring(text.length() - 3000) : text;
    }

    private static Path home() {
        String home = System.getProperty("dermcap.apicurio.home");
        if (home == null || !Files.exists(Path.of(home, "quarkus-run.jar"))) {
            throw new IllegalStateException("Apicurio Registry is not unpacked (dermcap.apicurio.home=" + home
                    + "); run the integration tests through Maven: mvn -pl integration-tests -am verify");
        }
        return Path.of(home);
    }

    /** A Java 21+ runtime: the configured one, else this JVM if it is new enough. */
    private static Path java() {
        String configured = System.getProperty("dermcap.apicurio.java");
        if (configured != null && Files.isExecutable(Path.of(configured))) {
            return Path.of(configured);
        }
        if (Runtime.version().feature() >= 21) {
            return Path.of(System.getProperty("java.home"), "bin", "java");
        }
        throw new IllegalStateException("Apicurio Registry 3 needs Java 21+: set -Dapicurio.java=/path/to/java "
                + "(configured: " + configured + ", running on Java " + Runtime.version().feature() + ")");
    }

    @Override
    public void close() {
        stop();
        ServerSupport.deleteRecursively(dataDir);
    }

    @Override
    public String toString() {
        return "Apicurio[" + confluentUrl() + (users.isEmpty() ? "" : ", basic auth") + "]";
    }
}
