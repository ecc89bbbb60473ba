package io.dermcap.it.demo;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The packaged jars, built by the reactor before this module, run as users run them: {@code java
 * -jar}, from a folder outside the repository. The service jar ({@code streams-app/target/dermcap.jar})
 * carries no broker, S3 server or demo; the demo jar ({@code demo/target/dermcap-demo.jar}) does.
 */
class JarIT {

    private static final Path ROOT = Path.of(System.getProperty("dermcap.repo.root", "..")).toAbsolutePath().normalize();
    private static final Path JAR = ROOT.resolve("streams-app/target/dermcap.jar");
    private static final Path DEMO_JAR = ROOT.resolve("demo/target/dermcap-demo.jar");
    /** What only the demo's workshop needs: the Kafka broker, S3Proxy, the demo, the in-process registry. */
    private static final List<String> WORKSHOP = List.of("kafka/server/", "org/gaul/", "io/dermcap/demo/",
            "io/dermcap/embedded/", "io/dermcap/registry/MockSchemaRegistry");

    @TempDir
    static Path elsewhere;

    record Run(int exit, String output) {
    }

    @BeforeAll
    static void jarsAreBuilt() {
        assertThat(JAR).as("build it first: mvn -pl streams-app -am package -DskipTests").isRegularFile();
        assertThat(DEMO_JAR).as("build it first: mvn -pl demo -am package -DskipTests").isRegularFile();
    }

    @ParameterizedTest
    @ValueSource(strings = {"run", "caption", "bench"})
    void everySubcommandHasHelp(String command) throws Exception {
        Run r = java(JAR, 60, command, "--help");
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).startsWith("Usage: dermcap " + command).contains("-h, --help");
    }

    @Test
    void theTopLevelHelpListsTheSubcommandsAndTheVersionIsTheBuildsOwn() throws Exception {
        Run help = java(JAR, 60, "--help");
        assertThat(help.exit()).isZero();
        assertThat(help.output()).contains("run ", "caption ", "bench ", "help ").doesNotContain("demo ");
        Run version = java(JAR, 60, "--version");
        assertThat(version.exit()).isZero();
        assertThat(version.output().trim()).matches("dermcap \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?");
    }

    @Test
    void theServiceJarCarriesNoBrokerNoS3ServerAndNoDemo() throws IOException {
        try (ZipFile service = new ZipFile(JAR.toFile()); ZipFile demo = new ZipFile(DEMO_JAR.toFile())) {
            assertThat(service.stream().map(ZipEntry::getName).filter(n -> WORKSHOP.stream().anyMatch(n::startsWith)))
                    .isEmpty();
            // the check itself can fail: the demo jar has every one of them
            for (String part : WORKSHOP) {
                assertThat(demo.stream().map(ZipEntry::getName).anyMatch(n -> n.startsWith(part))).as(part).isTrue();
            }
        }
    }

    @Test
    void theDemoJarHasHelpAndTheBuildsVersion() throws Exception {
        Run help = java(DEMO_JAR, 60, "--help");
        assertThat(help.exit()).as(help.output()).isZero();
        assertThat(help.output()).startsWith("Usage: dermcap-demo").contains("--requests", "-h, --help");
        Run version = java(DEMO_JAR, 60, "--version");
        assertThat(version.output().trim()).matches("dermcap-demo \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?");
    }

    @Test
    void theDemoRunsFromTheJarAloneWithItsBuiltInBundle() throws Exception {
        Run r = java(DEMO_JAR, 300, "--requests", "2", "--timeout", "180", "--set", "engine.threads=1");
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).contains("built-in toy bundle", "TOY MODEL", "[2/2]", "attributes matched ",
                "requests    2 sent, 2 answered: 2 captions, 0 failures", "cleaned up");
    }

    @Test
    void aBadOptionIsAUsageError() throws Exception {
        Run r = java(DEMO_JAR, 60, "--requests", "0");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.output()).contains("--requests must be between 1 and 10000, got 0");
    }

    private static Run java(Path jar, int timeoutSeconds, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-jar", jar.toString()));
        command.addAll(List.of(args));
        Path log = Files.createTempFile(elsewhere, "dermcap", ".log");
        ProcessBuilder pb = new ProcessBuilder(command).directory(elsewhere.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("DERMCAP_"));
        Process p = pb.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroy();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            throw new AssertionError("java -jar " + jar.getFileName() + " " + String.join(" ", args) + " did not finish in "
                    + timeoutSeconds + " s:\n" + Files.readString(log, StandardCharsets.UTF_8));
        }
        return new Run(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }
}
