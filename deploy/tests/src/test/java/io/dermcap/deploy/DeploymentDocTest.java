package io.dermcap.deploy;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.dermcap.deploy.DeployFiles.map;
import static io.dermcap.deploy.DeployFiles.text;
import static org.assertj.core.api.Assertions.assertThat;

/** docs/deployment.md: the commands it gives build and create what the manifests expect. */
class DeploymentDocTest {

    static final String DOC = DeployFiles.read(DeployFiles.path("docs/deployment.md"));

    @Test
    void buildCommandsTagTheImagesComposeAndKubernetesRun() {
        Map<String, String> built = new java.util.HashMap<>();
        Matcher m = Pattern.compile("docker build -f (\\S+) -t (\\S+) \\.").matcher(DOC);
        while (m.find()) {
            built.put(m.group(1), m.group(2));
        }
        Map<String, Object> cpu = map(ComposeTest.services(), "dermcap");
        Map<String, Object> gpu = map(ComposeTest.services("docker-compose.gpu.yml"), "dermcap");
        assertThat(built).containsExactlyInAnyOrderEntriesOf(Map.of(
                text(cpu, "build", "dockerfile"), text(cpu, "image"),
                text(gpu, "build", "dockerfile"), text(gpu, "image")));
    }

    @Test
    void topicCommandsForManagedKafkaMatchTheKafkaTopicResources() {
        Matcher m = Pattern.compile("--create --topic (\\S+) --partitions (\\d+) --replication-factor (\\d+)"
                + " --config min.insync.replicas=(\\d+) --config retention.ms=(\\d+)").matcher(DOC);
        int commands = 0;
        while (m.find()) {
            commands++;
            Map<String, Object> spec = KubernetesTest.topicSpec(m.group(1));
            assertThat(m.group(2)).as("%s partitions", m.group(1)).isEqualTo(text(spec, "partitions"));
            assertThat(m.group(3)).as("%s replicas", m.group(1)).isEqualTo(text(spec, "replicas"));
            assertThat(m.group(4)).isEqualTo(text(spec, "config", "min.insync.replicas"));
            assertThat(m.group(5)).isEqualTo(text(spec, "config", "retention.ms"));
        }
        assertThat(commands).isEqualTo(Kustomize.ofKind(KubernetesTest.render("topics"), "KafkaTopic").size());
    }
}
