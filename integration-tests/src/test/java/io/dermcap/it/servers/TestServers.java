package io.dermcap.it.servers;

import java.net.URI;

import io.dermcap.storage.StorageOptions;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The real servers an integration test talks to: a Kafka broker, an S3 API server and a schema
 * registry with the Confluent API, plus a second registry that enforces HTTP basic auth. Two
 * implementations behind one API: {@link ContainerServers} (Testcontainers: Kafka, MinIO,
 * Confluent Schema Registry) where Docker is available, {@link LocalServers} (in-JVM KRaft broker,
 * in-JVM S3Proxy, Apicurio Registry as a child process) otherwise. {@link #shared()} starts them
 * once per test JVM; all listen on 127.0.0.1 and stop when the JVM exits. The stop/start methods
 * simulate outages for fault tests: while stopped, a server does not answer on its address, and
 * after start it answers on the same address with its data intact.
 */
public interface TestServers {

    /** Where an S3 API server is and how to sign requests to it. */
    record S3Endpoint(URI endpoint, String region, String accessKey, String secretKey) {

        /** The fetcher's S3 settings for this server (path-style, static credentials). */
        public StorageOptions.S3Options options() {
            return new StorageOptions.S3Options(endpoint, region, true, accessKey, secretKey);
        }

        /** A client for test fixtures (creating buckets, putting objects). */
        public S3Client client() {
            return S3Client.builder()
                    .endpointOverride(endpoint)
                    .region(Region.of(region))
                    .forcePathStyle(true)
                    .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)))
                    .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                    .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                    .build();
        }

        public void createBucket(String bucket) {
            try (S3Client s3 = client()) {
                s3.createBucket(b -> b.bucket(bucket));
            }
        }

        public void put(String bucket, String key, byte[] bytes) {
            try (S3Client s3 = client()) {
                s3.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromBytes(bytes));
            }
        }
    }

    /** A registry that requires HTTP basic auth, and the one user it accepts. */
    record AuthenticatedRegistry(URI url, String user, String password) {
    }

    /** The servers of this test JVM, started on first use. */
    static TestServers shared() {
        return SharedServers.get();
    }

    /** "testcontainers" or "in-jvm", for test logs. */
    String kind();

    String bootstrapServers();

    S3Endpoint s3();

    /** Base URL of the Confluent-compatible registry API (no authentication). */
    URI registryUrl();

    /** A second registry, started on first use, that refuses requests without basic auth. */
    AuthenticatedRegistry authenticatedRegistry();

    void stopBroker();

    void startBroker();

    void stopS3();

    void startS3();

    void stopRegistry();

    void startRegistry();
}
