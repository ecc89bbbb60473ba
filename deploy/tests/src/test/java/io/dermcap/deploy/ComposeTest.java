package io.dermcap.deploy;

import io.dermcap.config.Config;
import io.dermcap.config.DermcapConfig;
import io.dermcap.events.CaptionRequest;
import io.dermcap.model.EngineOptions;
import io.dermcap.storage.StorageFetcher;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.dermcap.deploy.DeployFiles.list;
import static io.dermcap.deploy.DeployFiles.map;
import static io.dermcap.deploy.DeployFiles.text;
import static org.assertj.core.api.Assertions.assertThat;

/** deploy/compose: the stack's services point at each other and at what dermcap really reads. */
class ComposeTest {

    static final Path DIR = DeployFiles.path("deploy/compose");

    /** The services of docker-compose.yml, with the named override files merged on top. */
    static Map<String, Object> services(String... overrides) {
        Map<String, Object> compose = map(DeployFiles.yaml(DIR.resolve("docker-compose.yml")));
        for (String override : overrides) {
            compose = map(Kustomize.strategicMerge(compose, DeployFiles.yaml(DIR.resolve(override)), ""));
        }
        return map(compose, "services");
    }

    /** A service's environment as a map (compose allows a map or KEY=VALUE items). */
    static Map<String, String> environment(Map<String, Object> service) {
        Map<String, String> env = new HashMap<>();
        Object e = service.get("environment");
        if (e instanceof Map<?, ?> m) {
            m.forEach((k, v) -> env.put(k.toString(), String.valueOf(v)));
        } else if (e instanceof List<?> items) {
            items.forEach(i -> env.put(i.toString().split("=", 2)[0], i.toString().split("=", 2)[1]));
        }
        return env;
    }

    /** The shell script a service runs (entrypoint sh -c plus command), with compose's $$ unescaped. */
    static String script(Map<String, Object> service) {
        return String.join("\n", list(service, "command").stream().map(Object::toString).toList()).replace("$$", "$");
    }

    /** Host path (repository file) of a bind mount whose container path is {@code target}. */
    static Path mountSource(Map<String, Object> service, String target) {
        for (Object v : list(service, "volumes")) {
            String[] parts = resolveDefaults(v.toString()).split(":");
            if (parts[1].equals(target)) {
                return DIR.resolve(parts[0]).normalize();
            }
        }
        throw new AssertionError("no volume mounted at " + target + " in " + service.get("image"));
    }

    /** ${VAR:-default} as compose reads it when VAR is unset. */
    static String resolveDefaults(String value) {
        return value.replaceAll("\\$\\{\\w+:-([^}]*)}", "$1");
    }

    static DermcapConfig dermcapConfig(Map<String, Object> services) {
        Map<String, Object> dermcap = map(services, "dermcap");
        Dockerfile image = Dockerfile.parse(DeployFiles.path(text(dermcap, "build", "dockerfile")));
        Map<String, String> env = new HashMap<>(DockerImagesTest.imageEnv(image));
        env.putAll(environment(dermcap));
        return ServiceConfig.load(image, env);
    }

    @Test
    void everyServiceReferenceAndMountResolves() {
        for (Map<String, Object> services : List.of(services(), services("docker-compose.gpu.yml"))) {
            for (Map.Entry<String, Object> e : services.entrySet()) {
                Map<String, Object> service = map(e.getValue());
                assertThat(service).as(e.getKey()).containsKey("image");
                Object dependsOn = service.get("depends_on");
                if (dependsOn != null) {
                    assertThat(services).as("%s depends on", e.getKey()).containsKeys(map(dependsOn).keySet().toArray(String[]::new));
                }
                Object volumes = service.get("volumes");
                if (volumes != null) {
                    for (Object v : list(service, "volumes")) {
                        String source = resolveDefaults(v.toString()).split(":")[0];
                        assertThat(DIR.resolve(source).normalize()).as("%s mounts %s", e.getKey(), v).exists();
                    }
                }
            }
        }
    }

    @Test
    void dermcapRunsTheImagesBuiltFromTheDockerfilesWithTheProjectsVersion() {
        String version = Config.serviceVersion();
        assertThat(version).isNotEqualTo("unknown");
        Map<String, Object> cpu = map(services(), "dermcap");
        assertThat(DIR.resolve(text(cpu, "build", "context")).normalize()).isEqualTo(DeployFiles.ROOT);
        assertThat(text(cpu, "build", "dockerfile")).isEqualTo("deploy/docker/Dockerfile");
        assertThat(text(cpu, "image")).isEqualTo("dermcap:" + version);

        Map<String, Object> gpu = map(services("docker-compose.gpu.yml"), "dermcap");
        assertThat(text(gpu, "build", "dockerfile")).isEqualTo("deploy/docker/Dockerfile.cuda");
        assertThat(text(gpu, "image")).isEqualTo("dermcap:" + version + "-cuda");
        Map<String, Object> device = map(list(gpu, "deploy", "resources", "reservations", "devices").get(0));
        assertThat(text(device, "driver")).isEqualTo("nvidia");
        assertThat(text(device, "count")).isEqualTo("1");
        assertThat(list(device, "capabilities")).contains("gpu");
        // Everything but the image is the CPU service's: same configuration, same mounts.
        assertThat(gpu.get("environment")).isEqualTo(cpu.get("environment"));
        assertThat(gpu.get("volumes")).isEqualTo(cpu.get("volumes"));
    }

    @Test
    void dermcapsSettingsAreKeysItReadsAndPointAtTheStack() {
        Map<String, Object> services = services();
        DermcapConfig config = dermcapConfig(services);

        List<String> advertised = List.of(text(services, "kafka", "environment", "KAFKA_ADVERTISED_LISTENERS").split(","));
        assertThat(advertised).as("a listener the broker advertises")
                .anySatisfy(l -> assertThat(l).endsWith("://" + config.streams().getProperty("bootstrap.servers")));

        URI registry = URI.create(config.serde().get("schema.registry.url"));
        assertThat(services).containsKey(registry.getHost());
        assertThat(URI.create(text(services, registry.getHost(), "environment", "SCHEMA_REGISTRY_LISTENERS")).getPort())
                .isEqualTo(registry.getPort());

        String minioInit = script(map(services, "minio-init"));
        URI s3 = config.storage().s3().endpoint();
        assertThat(minioInit).contains("mc alias set local " + s3 + " ");
        assertThat(services).containsKey(s3.getHost());
        assertThat(config.storage().s3().pathStyle()).as("MinIO needs path-style addressing").isTrue();
        Matcher bucket = Pattern.compile("mc mb --ignore-existing local/(\\S+)").matcher(minioInit);
        assertThat(bucket.find()).isTrue();
        assertThat(config.storage().allowedBuckets()).containsExactly(bucket.group(1));
        Map<String, String> initEnv = environment(map(services, "minio-init"));
        assertThat(config.storage().s3().accessKeyId()).isEqualTo(initEnv.get("READER_ACCESS_KEY"));
        assertThat(config.storage().s3().secretAccessKey()).isEqualTo(initEnv.get("READER_SECRET_KEY"));
        assertThat(minioInit).as("dermcap's key is read-only").contains("policy attach local readonly --user \"$READER_ACCESS_KEY\"");

        assertThat(createdTopics(services).keySet()).containsExactlyInAnyOrder(config.topology().requestTopic(),
                config.topology().captionTopic(), config.topology().failureTopic());

        List<String> ports = list(services, "dermcap", "ports").stream().map(Object::toString).toList();
        assertThat(ports).anySatisfy(p -> assertThat(p).endsWith(":" + config.http().port()));
        assertThat(mountSource(map(services, "dermcap"), config.bundleDir().toString()).resolve("manifest.json"))
                .as("the bundle dermcap loads").isRegularFile();
        assertThat(config.engine().executionProvider()).isEqualTo(EngineOptions.ExecutionProvider.CPU);
        assertThat(dermcapConfig(services("docker-compose.gpu.yml")).engine().executionProvider())
                .isEqualTo(EngineOptions.ExecutionProvider.CUDA);
    }

    @Test
    void sampleRequestsAreValidAvroAndNameImagesTheStackUploads() throws Exception {
        Map<String, Object> services = services();
        DermcapConfig config = dermcapConfig(services);
        Map<String, Object> producer = map(services, "sample-requests");
        String command = script(producer).replace("\\\n", " ");

        assertThat(option(command, "--topic")).isEqualTo(config.topology().requestTopic());
        assertThat(option(command, "--bootstrap-server")).isEqualTo(config.streams().getProperty("bootstrap.servers"));
        assertThat(property(command, "schema.registry.url")).isEqualTo(config.serde().get("schema.registry.url"));
        assertThat(property(command, "key.serializer")).as("dermcap reads keys as UTF-8 strings")
                .isEqualTo("org.apache.kafka.common.serialization.StringSerializer");

        // The writer schema is a released CaptionRequest version that dermcap's reader accepts.
        Schema writer = new Schema.Parser().parse(mountSource(producer, property(command, "value.schema.file")).toFile());
        assertThat(SchemaCompatibility.checkReaderWriterCompatibility(CaptionRequest.getClassSchema(), writer).getType())
                .isEqualTo(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);

        Matcher input = Pattern.compile("< (\\S+)").matcher(command);
        assertThat(input.find()).isTrue();
        Path requests = mountSource(producer, input.group(1).substring(0, input.group(1).lastIndexOf('/')))
                .resolve(input.group(1).substring(input.group(1).lastIndexOf('/') + 1));
        String separator = property(command, "key.separator");

        Matcher upload = Pattern.compile("mc cp --recursive (\\S+) local/([^/\\s]+)/(\\S*)").matcher(script(map(services, "minio-init")));
        assertThat(upload.find()).isTrue();
        Path uploaded = mountSource(map(services, "minio-init"), upload.group(1).replaceAll("/$", ""));
        String bucket = upload.group(2);
        String prefix = upload.group(3);

        Set<String> ids = new HashSet<>();
        int captions = 0;
        for (String line : Files.readAllLines(requests)) {
            int cut = line.indexOf(separator);
            String key = line.substring(0, cut);
            GenericRecord request = new GenericDatumReader<GenericRecord>(writer)
                    .read(null, DecoderFactory.get().jsonDecoder(writer, line.substring(cut + separator.length())));
            assertThat(request.get("request_id").toString()).isEqualTo(key);
            assertThat(ids.add(key)).as("unique request id %s", key).isTrue();
            URI uri = URI.create(request.get("image_uri").toString());
            Map<?, ?> correlation = (Map<?, ?>) ((GenericRecord) request.get("ids")).get("correlation");
            Object expect = correlation.entrySet().stream().filter(e -> e.getKey().toString().equals("expect"))
                    .map(e -> e.getValue().toString()).findFirst().orElse(null);
            boolean allowed = config.storage().allowedBuckets().contains(uri.getHost());
            Path object = uri.getHost().equals(bucket) && uri.getPath().startsWith("/" + prefix)
                    ? uploaded.resolve(uri.getPath().substring(prefix.length() + 1)) : null;
            if (expect == null) {
                captions++;
                assertThat(allowed).as("%s: bucket allowed", key).isTrue();
                assertThat(object).as("%s: uploaded by minio-init", key).isNotNull().isRegularFile();
                String sha = StorageFetcher.sha256(Files.readAllBytes(object));
                assertThat(request.get("expected_sha256")).as("%s: expected_sha256", key).hasToString(sha);
            } else if (expect.equals("OBJECT_MISSING")) {
                assertThat(allowed).as("%s: bucket allowed", key).isTrue();
                assertThat(object == null || !Files.exists(object)).as("%s: not uploaded", key).isTrue();
            } else if (expect.equals("URI_NOT_ALLOWED")) {
                assertThat(allowed).as("%s: bucket not allowed", key).isFalse();
            } else {
                throw new AssertionError(key + ": unknown expected outcome " + expect);
            }
        }
        assertThat(captions).as("requests that should be captioned").isGreaterThanOrEqualTo(4);
    }

    /** Topic name to partition count, from the kafka-topics service's --create lines. */
    static Map<String, Integer> createdTopics(Map<String, Object> services) {
        Map<String, Integer> topics = new HashMap<>();
        Matcher m = Pattern.compile("--create --if-not-exists --topic (\\S+) --partitions (\\d+)")
                .matcher(script(map(services, "kafka-topics")));
        while (m.find()) {
            topics.put(m.group(1), Integer.parseInt(m.group(2)));
        }
        return topics;
    }

    private static String option(String command, String name) {
        Matcher m = Pattern.compile(Pattern.quote(name) + " (\\S+)").matcher(command);
        assertThat(m.find()).as(name).isTrue();
        return m.group(1);
    }

    private static String property(String command, String name) {
        Matcher m = Pattern.compile("--property '?" + Pattern.quote(name) + "=([^'\\s]+)'?").matcher(command);
        assertThat(m.find()).as("--property " + name).isTrue();
        return m.group(1);
    }
}
