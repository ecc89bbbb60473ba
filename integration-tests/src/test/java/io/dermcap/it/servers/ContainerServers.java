package io.dermcap.it.servers;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.UUID;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.kafka.KafkaContainer;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.PortBinding;
import com.github.dockerjava.api.model.Ports;

import io.dermcap.embedded.ServerSupport;

/**
 * With Docker: Kafka (apache/kafka), MinIO and Confluent Schema Registry containers on one network.
 * Each published port is bound to 127.0.0.1 on a port chosen here, so that an outage (docker stop,
 * then docker start of the same container) keeps both the address and the data. The basic-auth
 * registry is Apicurio's image configured exactly as {@link ApicurioRegistry} configures the process.
 */
final class ContainerServers implements SharedServers.AutoCloseableServers {

    private static final String KAFKA_IMAGE = "apache/kafka:4.1.0";
    private static final String MINIO_IMAGE = "minio/minio:RELEASE.2023-09-04T19-57-37Z";
    private static final String REGISTRY_IMAGE = "confluentinc/cp-schema-registry:7.9.0";
    private static final String APICURIO_IMAGE = "apicurio/apicurio-registry:3.3.3";

    private final Network network = Network.newNetwork();
    private final KafkaContainer kafka;
    private final GenericContainer<?> minio;
    private final GenericContainer<?> registry;
    private GenericContainer<?> authenticated;
    private final int kafkaPort;
    private final int minioPort;
    private final int registryPort;
    private final String minioUser = "dermcap";
    private final String minioPassword = UUID.randomUUID().toString();
    private final String registryPassword = UUID.randomUUID().toString();

    private ContainerServers() throws IOException {
        kafkaPort = ServerSupport.freePort();
        minioPort = ServerSupport.freePort();
        registryPort = ServerSupport.freePort();
        kafka = new KafkaContainer(KAFKA_IMAGE)
                .withNetwork(network)
                .withNetworkAliases("kafka")
                .withListener("kafka:19092")
                .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withPortBindings(loopback(kafkaPort, 9092)));
        minio = new GenericContainer<>(MINIO_IMAGE)
                .withCommand("server", "/data")
                .withEnv("MINIO_ROOT_USER", minioUser)
                .withEnv("MINIO_ROOT_PASSWORD", minioPassword)
                .withExposedPorts(9000)
                .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withPortBindings(loopback(minioPort, 9000)))
                .waitingFor(Wait.forHttp("/minio/health/ready").forPort(9000));
        registry = new GenericContainer<>(REGISTRY_IMAGE)
                .withNetwork(network)
                .withEnv("SCHEMA_REGISTRY_HOST_NAME", "schema-registry")
                .withEnv("SCHEMA_REGISTRY_LISTENERS", "http://0.0.0.0:8081")
                .withEnv("SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS", "PLAINTEXT://kafka:19092")
                .withExposedPorts(8081)
                .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withPortBindings(loopback(registryPort, 8081)))
                .waitingFor(Wait.forHttp("/subjects").forStatusCode(200).withStartupTimeout(Duration.ofMinutes(2)));
    }

    static ContainerServers start() {
        try {
            ContainerServers servers = new ContainerServers();
            servers.kafka.start();
            servers.minio.start();
            servers.registry.start();
            return servers;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the test containers", e);
        }
    }

    private static PortBinding loopback(int hostPort, int containerPort) {
        return new PortBinding(Ports.Binding.bindIpAndPort("127.0.0.1", hostPort), ExposedPort.tcp(containerPort));
    }

    @Override
    public String kind() {
        return "testcontainers";
    }

    @Override
    public String bootstrapServers() {
        return "127.0.0.1:" + kafkaPort;
    }

    @Override
    public S3Endpoint s3() {
        return new S3Endpoint(URI.create("http://127.0.0.1:" + minioPort), "us-east-1", minioUser, minioPassword);
    }

    @Override
    public URI registryUrl() {
        return URI.create("http://127.0.0.1:" + registryPort);
    }

    @Override
    public synchronized AuthenticatedRegistry authenticatedRegistry() {
        if (authenticated == null) {
            GenericContainer<?> c = new GenericContainer<>(APICURIO_IMAGE)
                    .withEnv("JAVA_OPTS_APPEND", "-Dapicurio.authn.enabled=true -Dquarkus.oidc.tenant-enabled=false -Dquarkus.http.auth.basic=true"
                            + " -Dapicurio.authn.mechanism.priority=basic"
                            + " -Dquarkus.security.users.embedded.enabled=true"
                            + " -Dquarkus.security.users.embedded.plain-text=true"
                            + " -Dquarkus.security.users.embedded.users.dermcap=" + registryPassword
                            + " -Dquarkus.security.users.embedded.roles.dermcap=sr-admin")
                    .withExposedPorts(8080)
                    .waitingFor(Wait.forHttp("/apis/ccompat/v7/subjects").forPort(8080).forStatusCode(401));
            c.start();
            authenticated = c;
        }
        return new AuthenticatedRegistry(URI.create("http://" + authenticated.getHost() + ":"
                + authenticated.getMappedPort(8080) + "/apis/ccompat/v7"), "dermcap", registryPassword);
    }

    private static void stop(GenericContainer<?> container) {
        DockerClient docker = DockerClientFactory.instance().client();
        docker.stopContainerCmd(container.getContainerId()).exec();
    }

    /** Starts the stopped container again; callers wait for it as for any recovering server. */
    private static void start(GenericContainer<?> container) {
        DockerClient docker = DockerClientFactory.instance().client();
        docker.startContainerCmd(container.getContainerId()).exec();
    }

    @Override
    public void stopBroker() {
        stop(kafka);
    }

    @Override
    public void startBroker() {
        start(kafka);
    }

    @Override
    public void stopS3() {
        stop(minio);
    }

    @Override
    public void startS3() {
        start(minio);
    }

    @Override
    public void stopRegistry() {
        stop(registry);
    }

    @Override
    public void startRegistry() {
        start(registry);
    }

    @Override
    public synchronized void close() {
        if (authenticated != null) {
            authenticated.stop();
        }
        registry.stop();
        minio.stop();
        kafka.stop();
        network.close();
    }
}
