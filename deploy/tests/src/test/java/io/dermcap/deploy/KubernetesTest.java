package io.dermcap.deploy;

import io.dermcap.config.DermcapConfig;
import io.dermcap.model.EngineOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static io.dermcap.deploy.DeployFiles.find;
import static io.dermcap.deploy.DeployFiles.list;
import static io.dermcap.deploy.DeployFiles.map;
import static io.dermcap.deploy.DeployFiles.maps;
import static io.dermcap.deploy.DeployFiles.text;
import static org.assertj.core.api.Assertions.assertThat;

/** deploy/k8s: the base and the gpu overlay, rendered as kustomize does, against what dermcap reads and serves. */
class KubernetesTest {

    static final String K8S = "deploy/k8s";
    /** A pod name, as the downward API would give it to DERMCAP_INSTANCE_ID. */
    static final String POD_NAME = "dermcap-7d9f8c6b5-x2k7q";
    /** Kafka's sasl.mechanism values and the names KEDA's Kafka scaler gives them. */
    static final Map<String, String> KEDA_SASL = Map.of(
            "PLAIN", "plaintext",
            "SCRAM-SHA-256", "scram_sha256",
            "SCRAM-SHA-512", "scram_sha512",
            "OAUTHBEARER", "oauthbearer",
            "GSSAPI", "gssapi");

    static List<Map<String, Object>> render(String variant) {
        return Kustomize.build(DeployFiles.path(K8S + "/" + variant));
    }

    static List<Map<String, Object>> secrets() {
        return DeployFiles.yamlDocuments(DeployFiles.path(K8S + "/secrets/secrets.example.yaml"));
    }

    static Map<String, Object> podSpec(List<Map<String, Object>> resources) {
        return map(Kustomize.resource(resources, "Deployment", "dermcap"), "spec", "template", "spec");
    }

    static Map<String, Object> container(List<Map<String, Object>> resources) {
        return maps(list(podSpec(resources), "containers")).stream().filter(c -> "dermcap".equals(c.get("name")))
                .findFirst().orElseThrow(() -> new AssertionError("no container named dermcap"));
    }

    static Stream<Map<String, Object>> allContainers(Map<String, Object> pod) {
        Stream<Map<String, Object>> init = pod.containsKey("initContainers") ? maps(list(pod, "initContainers")).stream() : Stream.empty();
        return Stream.concat(init, maps(list(pod, "containers")).stream());
    }

    /** The value a Secret of secrets.example.yaml holds under a key; fails if either is missing. */
    static String secretValue(String name, String key) {
        Map<String, Object> secret = Kustomize.resource(secrets(), "Secret", name);
        return text(secret, "stringData", key);
    }

    /** The container's environment as the kubelet would build it (envFrom first, env on top). */
    static Map<String, String> environment(List<Map<String, Object>> resources, Map<String, Object> container) {
        Map<String, String> env = new HashMap<>();
        if (container.containsKey("envFrom")) {
            for (Map<String, Object> from : maps(list(container, "envFrom"))) {
                Map<String, Object> cm = Kustomize.resource(resources, "ConfigMap", text(from, "configMapRef", "name"));
                map(cm, "data").forEach((k, v) -> env.put(k, v.toString()));
            }
        }
        if (container.containsKey("env")) {
            for (Map<String, Object> e : maps(list(container, "env"))) {
                String name = text(e, "name");
                if (e.containsKey("value")) {
                    env.put(name, text(e, "value"));
                } else if (find(e, "valueFrom", "secretKeyRef") != null) {
                    Map<String, Object> ref = map(e, "valueFrom", "secretKeyRef");
                    env.put(name, secretValue(text(ref, "name"), text(ref, "key")));
                } else if (find(e, "valueFrom", "configMapKeyRef") != null) {
                    Map<String, Object> ref = map(e, "valueFrom", "configMapKeyRef");
                    env.put(name, text(Kustomize.resource(resources, "ConfigMap", text(ref, "name")), "data", text(ref, "key")));
                } else {
                    assertThat(text(e, "valueFrom", "fieldRef", "fieldPath")).isEqualTo("metadata.name");
                    env.put(name, POD_NAME);
                }
            }
        }
        return env;
    }

    /** The Dockerfile that builds an image reference: the compose service that builds the same image says which. */
    static Dockerfile dockerfileOf(String image) {
        Map<String, Object> cpu = map(ComposeTest.services(), "dermcap");
        Map<String, Object> gpu = map(ComposeTest.services("docker-compose.gpu.yml"), "dermcap");
        for (Map<String, Object> service : List.of(cpu, gpu)) {
            if (text(service, "image").equals(image)) {
                return Dockerfile.parse(DeployFiles.path(text(service, "build", "dockerfile")));
            }
        }
        throw new AssertionError("image " + image + " is built by no compose service (" + text(cpu, "image") + ", "
                + text(gpu, "image") + ")");
    }

    static DermcapConfig serviceConfig(List<Map<String, Object>> resources) {
        Map<String, Object> c = container(resources);
        Dockerfile image = dockerfileOf(text(c, "image"));
        Map<String, String> env = new HashMap<>(DockerImagesTest.imageEnv(image));
        env.putAll(environment(resources, c));
        return ServiceConfig.load(image, env);
    }

    @Test
    void everyManifestParsesAndNoneNamesANamespace() {
        List<Path> files = DeployFiles.yamlFilesUnder(K8S);
        assertThat(files).hasSizeGreaterThanOrEqualTo(8);
        for (Path file : files) {
            for (Object doc : DeployFiles.yamlObjects(file)) {
                // JSON patches are lists of operations; every other document is an object.
                if (doc instanceof Map) {
                    assertThat(find(doc, "metadata", "namespace")).as("%s: namespace-agnostic", file).isNull();
                } else {
                    assertThat(file.getParent().getFileName()).as("%s: a list outside an overlay", file).hasToString("gpu");
                }
            }
        }
        for (String kustomization : List.of("base", "overlays/gpu", "topics")) {
            assertThat(render(kustomization)).as(kustomization).isNotEmpty();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/gpu"})
    void everyReferenceResolves(String variant) {
        List<Map<String, Object>> resources = render(variant);
        Map<String, Object> deployment = Kustomize.resource(resources, "Deployment", "dermcap");
        Map<String, Object> pod = podSpec(resources);
        Map<String, Object> podLabels = map(deployment, "spec", "template", "metadata", "labels");
        assertThat(podLabels).containsAllEntriesOf(map(deployment, "spec", "selector", "matchLabels"));

        List<String> volumes = maps(list(pod, "volumes")).stream().map(v -> text(v, "name")).toList();
        allContainers(pod).forEach(c -> {
            // Each reference must name an existing object and key; environment() fails otherwise.
            environment(resources, c);
            for (Map<String, Object> mount : maps(list(c, "volumeMounts"))) {
                assertThat(volumes).as("volume of %s in %s", text(mount, "mountPath"), text(c, "name")).contains(text(mount, "name"));
            }
        });

        Map<String, Object> service = Kustomize.resource(resources, "Service", "dermcap-metrics");
        assertThat(podLabels).containsAllEntriesOf(map(service, "spec", "selector"));
        List<String> portNames = maps(list(container(resources), "ports")).stream().map(p -> text(p, "name")).toList();
        assertThat(portNames).contains(text(list(service, "spec", "ports").get(0), "targetPort"));
        Map<String, Object> pdb = Kustomize.resource(resources, "PodDisruptionBudget", "dermcap");
        assertThat(podLabels).containsAllEntriesOf(map(pdb, "spec", "selector", "matchLabels"));

        Map<String, Object> scaled = Kustomize.resource(resources, "ScaledObject", "dermcap");
        assertThat(text(scaled, "spec", "scaleTargetRef", "name")).isEqualTo(text(deployment, "metadata", "name"));
        for (Map<String, Object> trigger : maps(list(scaled, "spec", "triggers"))) {
            Map<String, Object> auth = Kustomize.resource(resources, "TriggerAuthentication", text(trigger, "authenticationRef", "name"));
            for (Map<String, Object> ref : maps(list(auth, "spec", "secretTargetRef"))) {
                secretValue(text(ref, "name"), text(ref, "key"));
            }
        }
    }

    @Test
    void theSecretsExampleHoldsPlaceholdersOnly() {
        for (Map<String, Object> secret : secrets()) {
            assertThat(text(secret, "kind")).isEqualTo("Secret");
            map(secret, "stringData").forEach((k, v) ->
                    assertThat(v.toString()).as("%s/%s", text(secret, "metadata", "name"), k).contains("CHANGE_ME"));
        }
        for (String variant : List.of("base", "overlays/gpu")) {
            assertThat(Kustomize.ofKind(render(variant), "Secret")).as("%s must never overwrite real Secrets", variant).isEmpty();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/gpu"})
    void theServiceAcceptsItsEnvironmentAndServesWhatIsProbedAndScraped(String variant) {
        List<Map<String, Object>> resources = render(variant);
        Map<String, Object> c = container(resources);
        DermcapConfig config = serviceConfig(resources);
        assertThat(config.topology().instanceId()).isEqualTo(POD_NAME);

        Map<String, Integer> ports = new HashMap<>();
        maps(list(c, "ports")).forEach(p -> ports.put(text(p, "name"), Integer.parseInt(text(p, "containerPort"))));
        assertThat(ports.values()).containsExactly(config.http().port());
        try (OpsEndpoint ops = new OpsEndpoint()) {
            for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
                String port = text(c, probe, "httpGet", "port");
                assertThat(ports.containsKey(port) || port.equals(String.valueOf(config.http().port())))
                        .as("%s port %s", probe, port).isTrue();
            }
            String live = text(c, "livenessProbe", "httpGet", "path");
            assertThat(ops.isLiveness(live)).as("livenessProbe %s", live).isTrue();
            String startup = text(c, "startupProbe", "httpGet", "path");
            assertThat(ops.isLiveness(startup)).as("startupProbe %s", startup).isTrue();
            String ready = text(c, "readinessProbe", "httpGet", "path");
            assertThat(ops.isReadiness(ready)).as("readinessProbe %s", ready).isTrue();

            Map<String, Object> annotations = map(Kustomize.resource(resources, "Service", "dermcap-metrics"), "metadata", "annotations");
            assertThat(ops.status(text(annotations, "prometheus.io/path"))).as("scraped path").isEqualTo(200);
            assertThat(text(annotations, "prometheus.io/port")).isEqualTo(String.valueOf(config.http().port()));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/gpu"})
    void thePodRunsAsTheImagesUserOnAReadOnlyRootWithWritableStateAndTmp(String variant) {
        List<Map<String, Object>> resources = render(variant);
        Map<String, Object> pod = podSpec(resources);
        Map<String, Object> c = container(resources);
        Dockerfile image = dockerfileOf(text(c, "image"));
        assertThat(text(pod, "securityContext", "runAsNonRoot")).isEqualTo("true");
        assertThat(text(pod, "securityContext", "runAsUser") + ":" + text(pod, "securityContext", "runAsGroup"))
                .isEqualTo(image.runtime().only("USER").arguments());

        assertThat(text(c, "securityContext", "readOnlyRootFilesystem")).isEqualTo("true");
        List<String> writable = maps(list(c, "volumeMounts")).stream()
                .filter(m -> !"true".equals(String.valueOf(m.get("readOnly")))).map(m -> text(m, "mountPath")).toList();
        String stateDir = serviceConfig(resources).streams().getProperty("state.dir");
        assertThat(writable).as("Kafka Streams' state.dir %s is writable", stateDir)
                .anySatisfy(m -> assertThat(stateDir + "/").startsWith(m + "/"));
        assertThat(writable).as("native libraries unpack to /tmp").contains("/tmp");

        // The bundle folder dermcap loads is a read-only mount of a volume that an init container fills.
        String bundleDir = serviceConfig(resources).bundleDir().toString();
        Map<String, Object> bundleMount = maps(list(c, "volumeMounts")).stream()
                .filter(m -> text(m, "mountPath").equals(bundleDir)).findFirst()
                .orElseThrow(() -> new AssertionError("bundle.dir " + bundleDir + " is not mounted"));
        assertThat(text(bundleMount, "readOnly")).isEqualTo("true");
        assertThat(maps(list(pod, "initContainers"))).anySatisfy(init -> assertThat(maps(list(init, "volumeMounts")))
                .anySatisfy(m -> {
                    assertThat(text(m, "name")).isEqualTo(text(bundleMount, "name"));
                    assertThat(m.get("readOnly")).isNotEqualTo(true);
                }));

        Map<String, Object> resourcesOf = map(c, "resources");
        for (String r : List.of("cpu", "memory")) {
            assertThat(text(resourcesOf, "requests", r)).as("Guaranteed QoS: %s request = limit", r)
                    .isEqualTo(text(resourcesOf, "limits", r));
        }
    }

    @Test
    void imagesAreTheOnesTheDockerfilesBuild() {
        assertThat(dockerfileOf(text(container(render("base")), "image")).file()).hasFileName("Dockerfile");
        assertThat(dockerfileOf(text(container(render("overlays/gpu")), "image")).file()).hasFileName("Dockerfile.cuda");
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/gpu"})
    void kedaScalesOnTheLagOfTheServicesGroupAndTopicUpToItsPartitions(String variant) {
        List<Map<String, Object>> resources = render(variant);
        DermcapConfig config = serviceConfig(resources);
        Map<String, Object> scaled = map(Kustomize.resource(resources, "ScaledObject", "dermcap"), "spec");
        List<Map<String, Object>> triggers = maps(list(scaled, "triggers"));
        assertThat(triggers).hasSize(1);
        Map<String, Object> kafka = triggers.get(0);
        assertThat(text(kafka, "type")).isEqualTo("kafka");
        Map<String, Object> m = map(kafka, "metadata");
        assertThat(text(m, "topic")).isEqualTo(config.topology().requestTopic());
        assertThat(text(m, "consumerGroup")).as("Kafka Streams' group is its application.id")
                .isEqualTo(config.streams().getProperty("application.id"));
        assertThat(text(m, "bootstrapServers")).isEqualTo(config.streams().getProperty("bootstrap.servers"));
        String mechanism = config.streams().getProperty("sasl.mechanism");
        assertThat(text(m, "sasl")).as("KEDA's name for %s", mechanism).isEqualTo(KEDA_SASL.get(mechanism));
        String protocol = config.streams().getProperty("security.protocol");
        assertThat(text(m, "tls")).isEqualTo(protocol.endsWith("SSL") ? "enable" : "disable");

        int partitions = partitions(config.topology().requestTopic());
        int max = Integer.parseInt(text(scaled, "maxReplicaCount"));
        int min = Integer.parseInt(text(scaled, "minReplicaCount"));
        assertThat(max).as("instances beyond the input topic's partitions would sit idle").isLessThanOrEqualTo(partitions);
        assertThat(min).isBetween(1, max);
        assertThat(Integer.parseInt(text(m, "lagThreshold"))).as("lag per instance: at least one full batch")
                .isGreaterThanOrEqualTo(config.batch().maxSize());
    }

    @Test
    void topicsCoverWhatTheServiceReadsAndWritesAsDurablyAsItsChangelog() {
        DermcapConfig config = serviceConfig(render("base"));
        int changelogReplicas = Integer.parseInt(config.streams().getProperty("replication.factor"));
        for (String topic : List.of(config.topology().requestTopic(), config.topology().captionTopic(),
                config.topology().failureTopic())) {
            Map<String, Object> spec = topicSpec(topic);
            int replicas = Integer.parseInt(text(spec, "replicas"));
            assertThat(replicas).as("%s replicas", topic).isEqualTo(changelogReplicas);
            assertThat(Integer.parseInt(text(spec, "config", "min.insync.replicas"))).as("%s min.insync.replicas", topic)
                    .isBetween(1, replicas - 1);
        }
    }

    @Test
    void theBaseRunsTheModelOnTheCpuAndTheGpuOverlayOnCuda() {
        assertThat(serviceConfig(render("base")).engine().executionProvider()).isEqualTo(EngineOptions.ExecutionProvider.CPU);
        assertThat(serviceConfig(render("overlays/gpu")).engine().executionProvider())
                .isEqualTo(EngineOptions.ExecutionProvider.CUDA);
    }

    @Test
    void theGpuOverlayTakesOneGpuOnGpuNodes() {
        Map<String, Object> pod = podSpec(render("overlays/gpu"));
        Map<String, Object> c = container(render("overlays/gpu"));
        assertThat(text(c, "resources", "limits", "nvidia.com/gpu")).isEqualTo("1");
        assertThat(text(c, "resources", "requests", "nvidia.com/gpu")).isEqualTo("1");
        assertThat(map(pod, "nodeSelector")).isNotEmpty();
        assertThat(maps(list(pod, "tolerations"))).anySatisfy(t -> assertThat(text(t, "key")).isEqualTo("nvidia.com/gpu"));
        assertThat(find(podSpec(render("base")), "containers")).asString().doesNotContain("nvidia.com/gpu");
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/gpu"})
    void theMemoryLimitHoldsHeapKvCacheAndOnnxRuntime(String variant) throws Exception {
        List<Map<String, Object>> resources = render(variant);
        Map<String, Object> c = container(resources);
        DermcapConfig config = serviceConfig(resources);
        long limit = bytes(text(c, "resources", "limits", "memory"));
        int heapPercent = dockerfileOf(text(c, "image")).runtime().only("ENTRYPOINT").execForm().stream()
                .filter(a -> a.startsWith("-XX:MaxRAMPercentage=")).map(a -> Integer.parseInt(a.substring(a.indexOf('=') + 1)))
                .findFirst().orElseThrow();
        long heap = limit * heapPercent / 100;
        // The JVM reads JAVA_TOOL_OPTIONS itself; without -XX:MaxDirectMemorySize direct memory is capped at the heap size.
        String options = environment(resources, c).getOrDefault("JAVA_TOOL_OPTIONS", "");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("-XX:MaxDirectMemorySize=(\\S+)").matcher(options);
        long direct = m.find() ? bytes(m.group(1)) : heap;

        long needed = directMemoryPerBatch(config.batch().maxSize());
        assertThat(direct).as("direct memory for a batch of %d of the released model (%d MiB)", config.batch().maxSize(),
                needed >> 20).isGreaterThanOrEqualTo(needed);
        assertThat(limit - heap - direct).as("memory left outside the heap and direct buffers")
                .isGreaterThanOrEqualTo(ONNX_RUNTIME_RESIDENT + OTHER_NATIVE);
    }

    /** ONNX Runtime's resident memory with the released 2.2 GB bundle (RECIPES.md: ~3 GB). */
    static final long ONNX_RUNTIME_RESIDENT = 3_000_000_000L;
    /** RocksDB, metaspace, thread stacks, Kafka client buffers. */
    static final long OTHER_NATIVE = 512L << 20;

    /**
     * The direct buffers the engine allocates for a batch of the released model (DESIGN.md: GPT-2
     * medium, 24 layers x 1024, 4 beams, up to 60 new tokens, 32 prefix tokens and the released
     * prompt): one set of key/value cache tensors (the decoder's attention writes into them in
     * place), one row of stash for reordering beams, logits, pixels.
     */
    static long directMemoryPerBatch(int batch) throws Exception {
        Map<?, ?> released = new com.fasterxml.jackson.databind.ObjectMapper().readValue(
                DeployFiles.path("onnx-models/release/final_captioner_gpt2-medium_VisionTransformer.json").toFile(), Map.class);
        int prompt = new io.dermcap.model.tokenizer.Gpt2Tokenizer().encode(released.get("prompt").toString()).length;
        long rows = (long) batch * 4;
        long positions = ((Number) released.get("prefix_tokens")).longValue() + prompt + 60;
        long tensor = rows * positions * 1024 * 4;
        long cache = 2 * 24 * tensor;
        return cache + positions * 1024 * 4 + rows * io.dermcap.model.tokenizer.Gpt2Tokenizer.VOCAB_SIZE * 4 + batch * 3L * 224 * 224 * 4;
    }

    /** A Kubernetes quantity (8Gi, 512Mi) or a JVM size (4g, 512m) in bytes. */
    static long bytes(String quantity) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)(Gi|Mi|g|m)").matcher(quantity);
        assertThat(m.matches()).as("size %s", quantity).isTrue();
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "Gi", "g" -> n << 30;
            default -> n << 20;
        };
    }

    static int partitions(String topic) {
        return Integer.parseInt(text(topicSpec(topic), "partitions"));
    }

    static Map<String, Object> topicSpec(String topic) {
        return Kustomize.ofKind(render("topics"), "KafkaTopic").stream().map(t -> map(t, "spec"))
                .filter(s -> topic.equals(s.get("topicName"))).findFirst()
                .orElseThrow(() -> new AssertionError("no KafkaTopic for " + topic));
    }
}
