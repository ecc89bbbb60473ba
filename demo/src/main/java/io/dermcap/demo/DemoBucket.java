package io.dermcap.demo;

import io.dermcap.storage.StorageOptions;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketAlreadyOwnedByYouException;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;

import java.util.ArrayList;
import java.util.List;

/**
 * The bucket the demo uploads its images to, through the S3 API with the service's own S3
 * settings (endpoint, region, path style, credentials); it remembers what it put there so that
 * {@link #deleteUploads()} can take it away again.
 */
public final class DemoBucket implements AutoCloseable {

    private final S3Client client;
    private final String bucket;
    private final boolean created;
    private final List<String> keys = new ArrayList<>();

    private DemoBucket(S3Client client, String bucket, boolean created) {
        this.client = client;
        this.bucket = bucket;
        this.created = created;
    }

    /** Opens {@code bucket}, creating it when missing. */
    public static DemoBucket open(StorageOptions.S3Options options, String bucket) {
        var builder = S3Client.builder()
                .region(Region.of(options.region()))
                .forcePathStyle(options.pathStyle())
                .credentialsProvider(options.accessKeyId() != null
                        ? StaticCredentialsProvider.create(AwsBasicCredentials.create(options.accessKeyId(), options.secretAccessKey()))
                        : DefaultCredentialsProvider.builder().build())
                // S3-compatible servers differ on aws-chunked checksum trailers; every one accepts these
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        if (options.endpoint() != null) {
            builder.endpointOverride(options.endpoint());
        }
        S3Client client = builder.build();
        try {
            return new DemoBucket(client, bucket, createIfMissing(client, bucket));
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
    }

    private static boolean createIfMissing(S3Client client, String bucket) {
        try {
            client.headBucket(b -> b.bucket(bucket));
            return false;
        } catch (NoSuchBucketException missing) {
            try {
                client.createBucket(b -> b.bucket(bucket));
                return true;
            } catch (BucketAlreadyOwnedByYouException raced) {
                return false;
            }
        }
    }

    /** Puts one object; returns its {@code s3://} URI. */
    public String put(String key, byte[] bytes, String contentType) {
        client.putObject(b -> b.bucket(bucket).key(key).contentType(contentType), RequestBody.fromBytes(bytes));
        keys.add(key);
        return "s3://" + bucket + "/" + key;
    }

    /** Deletes every object put here, and the bucket if {@link #open} created it. */
    public void deleteUploads() {
        for (String key : keys) {
            client.deleteObject(b -> b.bucket(bucket).key(key));
        }
        keys.clear();
        if (created) {
            client.deleteBucket(b -> b.bucket(bucket));
        }
    }

    @Override
    public void close() {
        client.close();
    }
}
