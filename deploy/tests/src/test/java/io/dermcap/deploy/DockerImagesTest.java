package io.dermcap.deploy;

import io.dermcap.config.ConfigException;
import io.dermcap.config.DermcapConfig;
import io.dermcap.model.EngineOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** deploy/docker: what the two images build, copy, run and expose, checked without a Docker engine. */
class DockerImagesTest {

    static final Path CPU = DeployFiles.path("deploy/docker/Dockerfile");
    static final Path CUDA = DeployFiles.path("deploy/docker/Dockerfile.cuda");

    /** The least a container needs besides the image's file: the two required keys. */
    static final Map<String, String> REQUIRED_ENV = Map.of(
            "DERMCAP_KAFKA_BOOTSTRAP_SERVERS", "kafka:9092",
            "DERMCAP_SERDE_SCHEMA_REGISTRY_URL", "mock://deploy-test");

    /** The environment an image sets itself (ENV DERMCAP_...=...), which the loader must accept. */
    static Map<String, String> imageEnv(Dockerfile image) {
        Map<String, String> env = new HashMap<>();
        for (Dockerfile.Instruction i : image.runtime().all("ENV")) {
            Matcher m = Pattern.compile("(\\w+)=(\\S+)").matcher(i.arguments());
            while (m.find()) {
                env.put(m.group(1), m.group(2));
            }
        }
        return env;
    }

    static DermcapConfig imageConfig(Dockerfile image) {
        Map<String, String> env = new HashMap<>(imageEnv(image));
        env.putAll(REQUIRED_ENV);
        return ServiceConfig.load(image, env);
    }

    @ParameterizedTest
    @ValueSource(strings = {"deploy/docker/Dockerfile", "deploy/docker/Dockerfile.cuda"})
    void buildsTheShadedJarWithTheProjectsJavaAndRunsItAsNonRoot(String file) throws Exception {
        Dockerfile image = Dockerfile.parse(DeployFiles.path(file));
        assertThat(image.stages()).as("multi-stage").hasSizeGreaterThanOrEqualTo(2);
        String release = pomText(DeployFiles.path("pom.xml"), "maven.compiler.release");

        Dockerfile.Stage build = image.stage("build").orElseThrow(() -> new AssertionError(file + " has no stage named build"));
        assertThat(build.base()).as("build stage: Maven on the JDK the project compiles for")
                .startsWith("maven:").contains("eclipse-temurin-" + release);
        String mvn = build.all("RUN").stream().map(Dockerfile.Instruction::arguments).filter(a -> a.contains("mvn "))
                .findFirst().orElseThrow(() -> new AssertionError(file + ": the build stage runs no mvn"));
        assertThat(mvn).contains(" package").contains("-pl streams-app").contains("-am");

        // The jar the shade plugin writes is the jar the runtime copies and runs.
        String jar = build.only("WORKDIR").arguments() + "/streams-app/target/" + shadeFinalName() + ".jar";
        Dockerfile.Instruction copyJar = image.runtime().all("COPY").stream()
                .filter(c -> c.option("from").filter("build"::equals).isPresent()).findFirst()
                .orElseThrow(() -> new AssertionError(file + ": the runtime stage copies nothing from the build stage"));
        assertThat(copyJar.operands().get(0)).isEqualTo(jar);
        String runtimeJar = copyJar.operands().get(1);

        List<String> entrypoint = image.runtime().only("ENTRYPOINT").execForm();
        assertThat(entrypoint.get(0)).isEqualTo("java");
        assertThat(entrypoint.subList(entrypoint.size() - 2, entrypoint.size())).containsExactly("-jar", runtimeJar);
        assertThat(entrypoint).contains("-XX:+ExitOnOutOfMemoryError");
        int heapPercent = entrypoint.stream().filter(a -> a.startsWith("-XX:MaxRAMPercentage="))
                .map(a -> Integer.parseInt(a.substring(a.indexOf('=') + 1))).findFirst()
                .orElseThrow(() -> new AssertionError(file + ": no -XX:MaxRAMPercentage"));
        assertThat(heapPercent).as("heap share: ONNX Runtime's native memory needs the larger part").isBetween(10, 50);

        List<String> cmd = image.runtime().only("CMD").execForm();
        assertThat(cmd.get(0)).isEqualTo("run");
        assertThat(ServiceConfig.configFile(image)).isRegularFile();

        String user = image.runtime().only("USER").arguments();
        assertThat(user).as("numeric uid:gid, so Kubernetes can verify runAsNonRoot").matches("[1-9][0-9]*:[1-9][0-9]*");
    }

    @ParameterizedTest
    @ValueSource(strings = {"deploy/docker/Dockerfile", "deploy/docker/Dockerfile.cuda"})
    void exposesAndHealthChecksThePortAndPathTheServiceServes(String file) {
        Dockerfile image = Dockerfile.parse(DeployFiles.path(file));
        DermcapConfig config = imageConfig(image);
        assertThat(image.runtime().only("EXPOSE").arguments()).isEqualTo(String.valueOf(config.http().port()));
        assertThat(config.http().host()).as("reachable from outside the container").isEqualTo("0.0.0.0");

        List<String> check = image.runtime().only("HEALTHCHECK").execForm();
        assertThat(ServiceConfig.copiedFrom(image, check.get(0))).isEqualTo(DeployFiles.path("deploy/docker/probe"));
        try (OpsEndpoint ops = new OpsEndpoint()) {
            assertThat(ops.isLiveness(check.get(1))).as("HEALTHCHECK path %s is the service's liveness", check.get(1)).isTrue();
        }
    }

    @Test
    void theImageConfigurationStopsAtOnceWithoutTheBrokers() {
        Dockerfile image = Dockerfile.parse(CPU);
        assertThatThrownBy(() -> ServiceConfig.load(image, Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("kafka.bootstrap.servers");
    }

    @Test
    void bothImagesRunTheSameWaySoManifestsOnlySwapTheImage() {
        Dockerfile cpu = Dockerfile.parse(CPU);
        Dockerfile cuda = Dockerfile.parse(CUDA);
        for (String keyword : List.of("USER", "WORKDIR", "EXPOSE", "HEALTHCHECK", "ENTRYPOINT", "CMD")) {
            assertThat(cuda.runtime().only(keyword).arguments()).as(keyword).isEqualTo(cpu.runtime().only(keyword).arguments());
        }
    }

    @Test
    void theCpuImageRunsTheModelOnTheCpuAndTheCudaImageOnTheGpu() {
        assertThat(imageConfig(Dockerfile.parse(CPU)).engine().executionProvider()).isEqualTo(EngineOptions.ExecutionProvider.CPU);
        assertThat(imageConfig(Dockerfile.parse(CUDA)).engine().executionProvider()).isEqualTo(EngineOptions.ExecutionProvider.CUDA);
    }

    @Test
    void theCpuImageRunsOnTheProjectsJre() {
        String release = pomText(DeployFiles.path("pom.xml"), "maven.compiler.release");
        assertThat(Dockerfile.parse(CPU).runtime().base()).startsWith("eclipse-temurin:" + release + "-jre");
    }

    @Test
    void theCudaImageHasTheGpuRuntimeAndCuda12WithCudnn9() throws Exception {
        Dockerfile cuda = Dockerfile.parse(CUDA);
        String release = pomText(DeployFiles.path("pom.xml"), "maven.compiler.release");
        assertThat(cuda.runtime().base()).as("onnxruntime_gpu needs CUDA 12 and cuDNN 9")
                .matches("nvidia/cuda:12\\.[0-9.]+-cudnn-runtime-ubuntu[0-9.]+");
        // The JRE is the CPU image's, copied from the official image of a stage.
        Dockerfile.Instruction copyJre = cuda.runtime().all("COPY").stream()
                .filter(c -> c.option("from").filter(s -> !s.equals("build")).isPresent()).findFirst()
                .orElseThrow(() -> new AssertionError("Dockerfile.cuda copies no JRE"));
        String jreStage = copyJre.option("from").orElseThrow();
        assertThat(cuda.stage(jreStage).orElseThrow().base()).startsWith("eclipse-temurin:" + release + "-jre");
        String javaHome = copyJre.operands().get(1);
        assertThat(cuda.runtime().all("ENV").stream().map(Dockerfile.Instruction::arguments))
                .anySatisfy(env -> assertThat(env).contains("PATH=" + javaHome + "/bin:"));

        String mvn = cuda.stage("build").orElseThrow().only("RUN").arguments();
        Matcher profile = Pattern.compile("-P(\\S+)").matcher(mvn);
        assertThat(profile.find()).as("the build selects a Maven profile").isTrue();
        assertThat(profileProperty(profile.group(1), "onnxruntime.artifact")).isEqualTo("onnxruntime_gpu");
    }

    @ParameterizedTest
    @ValueSource(strings = {"deploy/docker/Dockerfile", "deploy/docker/Dockerfile.cuda"})
    void copiesOnlyFilesThatExistAndItsDockerignoreLetsThrough(String file) {
        Dockerfile image = Dockerfile.parse(DeployFiles.path(file));
        List<String> ignore = DeployFiles.read(DeployFiles.path(file + ".dockerignore")).lines()
                .map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        List<String> sources = new ArrayList<>();
        for (Dockerfile.Stage stage : image.stages()) {
            for (Dockerfile.Instruction copy : stage.all("COPY")) {
                if (copy.option("from").isEmpty()) {
                    List<String> operands = copy.operands();
                    sources.addAll(operands.subList(0, operands.size() - 1));
                }
            }
        }
        assertThat(sources).isNotEmpty();
        for (String source : sources) {
            assertThat(DeployFiles.path(source)).as("COPY source").exists();
            assertThat(ignored(ignore, source)).as("%s is excluded from the build context by %s.dockerignore", source, file)
                    .isFalse();
        }
        assertThat(ignored(ignore, "onnx-models/fixtures/tiny-bundle/manifest.json")).as("bundles stay out of the context").isTrue();
        assertThat(ignored(ignore, "streams-app/target/dermcap.jar")).as("build outputs stay out of the context").isTrue();
    }

    @Test
    void theProbeSucceedsOnlyWhenThePathAnswers200() throws Exception {
        Path probe = DeployFiles.path("deploy/docker/probe");
        try (OpsEndpoint ops = new OpsEndpoint()) {
            assertThat(runProbe(probe, ops.port(), "/health/live")).isZero();
            assertThat(runProbe(probe, ops.port(), "/health/ready")).as("503 while not ready").isNotZero();
            assertThat(runProbe(probe, ops.port(), "/no-such-path")).as("404").isNotZero();
        }
        try (OpsEndpoint ops = new OpsEndpoint()) {
            int closed = ops.port();
            ops.close();
            assertThat(runProbe(probe, closed, "/health/live")).as("nothing listening").isNotZero();
        }
        // Without DERMCAP_HTTP_PORT the probe asks the port the image's configuration gives.
        Matcher fallback = Pattern.compile("\\$\\{DERMCAP_HTTP_PORT:-(\\d+)}").matcher(DeployFiles.read(probe));
        assertThat(fallback.find()).isTrue();
        assertThat(Integer.parseInt(fallback.group(1))).isEqualTo(imageConfig(Dockerfile.parse(CPU)).http().port());
    }

    private static int runProbe(Path probe, int port, String path) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", probe.toString(), path).redirectErrorStream(true);
        pb.environment().put("DERMCAP_HTTP_PORT", String.valueOf(port));
        Process p = pb.start();
        p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).as("probe finished").isTrue();
        return p.exitValue();
    }

    /** Docker's .dockerignore rules: the last matching pattern wins, a pattern also covers what lies under it. */
    static boolean ignored(List<String> patterns, String path) {
        boolean ignored = false;
        for (String raw : patterns) {
            boolean negate = raw.startsWith("!");
            String pattern = (negate ? raw.substring(1) : raw).replaceAll("/+$", "");
            Pattern regex = Pattern.compile(pattern.replace(".", "\\.").replace("**/", "\u0000").replace("*", "[^/]*")
                    .replace("\u0000", "(.*/)?"));
            String prefix = path;
            boolean matches = false;
            while (!prefix.isEmpty()) {
                if (regex.matcher(prefix).matches()) {
                    matches = true;
                    break;
                }
                prefix = prefix.contains("/") ? prefix.substring(0, prefix.lastIndexOf('/')) : "";
            }
            if (matches) {
                ignored = !negate;
            }
        }
        return ignored;
    }

    static String shadeFinalName() throws Exception {
        NodeList names = xml(DeployFiles.path("streams-app/pom.xml")).getElementsByTagName("finalName");
        assertThat(names.getLength()).isEqualTo(1);
        return names.item(0).getTextContent().strip();
    }

    static String pomText(Path pom, String tag) {
        try {
            NodeList nodes = xml(pom).getElementsByTagName(tag);
            assertThat(nodes.getLength()).as("<%s> in %s", tag, pom).isGreaterThanOrEqualTo(1);
            return nodes.item(0).getTextContent().strip();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static String profileProperty(String profileId, String property) throws Exception {
        NodeList profiles = xml(DeployFiles.path("pom.xml")).getElementsByTagName("profile");
        for (int i = 0; i < profiles.getLength(); i++) {
            Element profile = (Element) profiles.item(i);
            if (profile.getElementsByTagName("id").item(0).getTextContent().strip().equals(profileId)) {
                return profile.getElementsByTagName(property).item(0).getTextContent().strip();
            }
        }
        throw new AssertionError("no Maven profile " + profileId + " in pom.xml");
    }

    private static org.w3c.dom.Document xml(Path file) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file.toFile());
    }
}
