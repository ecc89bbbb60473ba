package io.dermcap.it.servers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.Map;
import java.util.UUID;

import io.dermcap.embedded.EmbeddedKafka;
import io.dermcap.embedded.EmbeddedS3;

/** Without Docker: the in-JVM KRaft broker and S3Proxy, and Apicurio Registry as a child process. */
final class LocalServers implements SharedServers.AutoCloseableServers {

    private final EmbeddedKafka kafka;
    private final EmbeddedS3 s3;
    private final ApicurioRegistry registry;
    private ApicurioRegistry authenticated;
    private final String password = UUID.randomUUID().toString();

    private LocalServers(EmbeddedKafka kafka, EmbeddedS3 s3, ApicurioRegistry registry) {
        this.kafka = kafka;
        this.s3 = s3;
        this.registry = registry;
    }

    static LocalServers start() {
        EmbeddedKafka kafka = null;
        EmbeddedS3 s3 = null;
        try {
            kafka = EmbeddedKafka.launch();
            s3 = EmbeddedS3.launch();
            return new LocalServers(kafka, s3, ApicurioRegistry.launch(Map.of()));
        } catch (IOException | RuntimeException e) {
            if (s3 != null) {
                s3.close();
            }
            if (kafka != null) {
                kafka.close();
            }
            throw new IllegalStateException("cannot start the in-JVM test servers: " + e.getMessage(), e);
        }
    }

    @Override
    public String kind() {
        return "in-jvm";
    }

    @Override
    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    @Override
    public S3Endpoint s3() {
        return new S3Endpoint(s3.endpoint(), EmbeddedS3.REGION, s3.accessKey(), s3.secretKey());
    }

    @Override
    public URI registryUrl() {
        return registry.confluentUrl();
    }

    @Override
    public synchronized AuthenticatedRegistry authenticatedRegistry() {
        if (authenticated == null) {
            try {
                authenticated = ApicurioRegistry.launch(Map.of("dermcap", password));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return new AuthenticatedRegistry(authenticated.confluentUrl(), "dermcap", password);
    }

    @Override
    public void stopBroker() {
        kafka.stop();
    }

    @Override
    public void startBroker() {
        kafka.start();
    }

    @Override
    public void stopS3() {
        s3.stop();
    }

    @Override
    public void startS3() {
        try {
            s3.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void stopRegistry() {
        registry.stop();
    }

    @Override
    public void startRegistry() {
        try {
            registry.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public synchronized void close() {
        if (authenticated != null) {
            authenticated.close();
        }
        registry.close();
        s3.close();
        kafka.close();
    }
}
