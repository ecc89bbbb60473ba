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

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The packaged jar ({@code streams-app/target/dermcap.jar}, built by the reactor before this
 * module) run as users run it: {@code java -jar}, from a folder outside the repository.
 */
class JarIT {

    private static final Path JAR = Path.of(System.getProperty("dermcap.repo.root", ".."), "streams-app", "target", "dermcap.jar")
            .toAbsolutePath().normalize();

    @TempDir
    static Path elsewhere;

    record Run(int exit, String output) {
    }

    @BeforeAll
    static void jarIsBuilt() {
        assertThat(JAR).as("build it first: mvn -pl streams-app -am package -DskipTests").isRegularFile();
    }

    @ParameterizedTest
    @ValueSource(strings = {"demo", "run", "caption", "bench"})
    void everySubcommandHasHelp(String command) throws Exception {
        Run r = java(60, command, "--help");
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).startsWith("Usage: dermcap " + command).contains("-h, --help");
    }

    @Test
    void theTopLevelHelpListsTheSubcommandsAndTheVersionIsTheBuildsOwn() throws Exception {
        Run help = java(60, "--help");
        assertThat(help.exit()).isZero();
        assertThat(help.output()).contains("demo ", "run ", "caption ", "bench ", "help ");
        Run version = java(60, "--version");
        assertThat(version.exit()).isZero();
        assertThat(version.output().trim()).matches("dermcap \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?");
    }

    @Test
    void theDemoRunsFromTheJarAloneWithItsBuiltInBundle() throws Exception {
        Run r = java(300, "demo", "--requests", "2", "--timeout", "180", "--set", "engine.threads=1");
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).contains("built-in tiny bundle", "RANDOM WEIGHTS", "[2/2]",
                "requests    2 sent, 2 answered: 2 captions, 0 failures", "cleaned up");
    }

    @Test
    void aBadOptionIsAUsageError() throws Exception {
        Run r = java(60, "demo", "--requests", "0");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.output()).contains("--requests must be between 1 and 10000, got 0");
    }

    private static Run java(int timeoutSeconds, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-jar", JAR.toString()));
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
            throw new AssertionError("java -jar dermcap.jar " + String.join(" ", args) + " did not finish in "
                    + timeoutSeconds + " s:\n" + Files.readString(log, StandardCharsets.UTF_8));
        }
        return new Run(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }
}
