package io.dermcap.storage;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import io.dermcap.storage.FetchException.Reason;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Reads {@code s3://} objects with the AWS SDK v2 sync client. The SDK's own retries are off: the
 * {@link StorageFetcher} retries, so attempts are counted and bounded in one place. Checksums are
 * computed and validated only when required, which every S3-compatible server accepts (the
 * integrity check that matters is the request's sha256).
 */
final class S3Reader implements AutoCloseable {

    /** S3 error codes that mean "try again": throttling and server trouble. */
    private static final Set<String> TRANSIENT_CODES = Set.of("SlowDown", "InternalError", "ServiceUnavailable",
            "RequestTimeout", "RequestTimeTooSkewed", "Throttling", "ThrottlingException", "OperationAborted");

    private final S3Client client;
    private final long maxBytes;

    S3Reader(StorageOptions options) {
        StorageOptions.S3Options s3 = options.s3();
        AwsCredentialsProvider credentials = s3.accessKeyId() != null
                ? StaticCredentialsProvider.create(AwsBasicCredentials.create(s3.accessKeyId(), s3.secretAccessKey()))
                : DefaultCredentialsProvider.builder().build();
        Duration attempt = options.attemptTimeout();
        var builder = S3Client.builder()
                .region(Region.of(s3.region()))
                .credentialsProvider(credentials)
                .forcePathStyle(s3.pathStyle())
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .httpClientBuilder(Apache5HttpClient.builder()
                        .connectionTimeout(options.connectTimeout())
                        .socketTimeout(options.readTimeout()))
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry())
                        .apiCallAttemptTimeout(attempt)
                        .apiCallTimeout(attempt));
        if (s3.endpoint() != null) {
            builder.endpointOverride(s3.endpoint());
        }
        this.client = builder.build();
        this.maxBytes = options.maxBytes();
    }

    byte[] read(ObjectLocation.S3 location) throws FetchException, TransientFailure {
        String what = "s3://" + location.bucket() + "/" + location.key();
        try (ResponseInputStream<GetObjectResponse> in = client.getObject(r -> r.bucket(location.bucket()).key(location.key()))) {
            Long length = in.response().contentLength();
            if (length != null && length > maxBytes) {
                in.abort(); // do not drain the body to reuse the connection
                throw BoundedRead.tooLarge(what, length + " bytes", maxBytes);
            }
            return BoundedRead.readAll(in, length == null ? -1 : length, maxBytes, what);
        } catch (NoSuchKeyException e) {
            throw new FetchException(Reason.OBJECT_MISSING, false, 0, what + ": no such key", e);
        } catch (NoSuchBucketException e) {
            throw new FetchException(Reason.OBJECT_MISSING, false, 0, what + ": no such bucket", e);
        } catch (S3Exception e) {
            String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
            int status = e.statusCode();
            String detail = what + ": HTTP " + status + (code == null ? "" : " " + code);
            if (status >= 500 || status == 429 || status == 408 || TRANSIENT_CODES.contains(code)) {
                throw new TransientFailure(detail, e);
            }
            if (status == 404) {
                throw new FetchException(Reason.OBJECT_MISSING, false, 0, detail, e);
            }
            // 403 is the store refusing OUR credentials (IAM, bucket policy): an operator problem, not
            // a forbidden request, so FETCH_FAILED rather than URI_NOT_ALLOWED; retrying cannot fix it
            throw new FetchException(Reason.FETCH_FAILED, false, 0, detail
                    + (status == 403 ? " (access denied: check the service's credentials and the bucket policy)" : ""), e);
        } catch (SdkClientException | IOException e) {
            // connection refused/reset, timeouts, a body cut short
            throw new TransientFailure(what + ": " + e.getMessage(), e);
        }
    }

    /** The keys under {@code prefix}, read page by page ({@code pageSize} keys a request). */
    List<String> list(String bucket, String prefix, int pageSize) throws FetchException {
        String what = "s3://" + bucket + "/" + prefix;
        List<String> keys = new ArrayList<>();
        try {
            for (ListObjectsV2Response page : client.listObjectsV2Paginator(r -> r.bucket(bucket).prefix(prefix).maxKeys(pageSize))) {
                page.contents().forEach(o -> keys.add(o.key()));
            }
            return keys;
        } catch (NoSuchBucketException e) {
            throw new FetchException(Reason.OBJECT_MISSING, false, 1, what + ": no such bucket", e);
        } catch (S3Exception e) {
            throw new FetchException(Reason.FETCH_FAILED, e.statusCode() >= 500, 1, what + ": listing failed with HTTP "
                    + e.statusCode() + (e.awsErrorDetails() == null ? "" : " " + e.awsErrorDetails().errorCode()), e);
        } catch (SdkClientException e) {
            throw new FetchException(Reason.FETCH_FAILED, true, 1, what + ": listing failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        client.close();
    }
}
