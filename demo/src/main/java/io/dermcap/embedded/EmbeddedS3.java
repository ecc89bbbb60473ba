package io.dermcap.embedded;

import java.io.IOException;
import java.net.URI;
import java.util.UUID;

import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;

/**
 * An S3 API server in this JVM: S3Proxy over an in-memory ({@code transient-nio2}) blob store,
 * bound to 127.0.0.1 on an ephemeral port, with its own random credentials (AWS signature v2/v4).
 * {@link #stop()} and {@link #start()} take the server down and bring it back on the same port with
 * the same objects, so a test can simulate an outage.
 */
public final class EmbeddedS3 implements AutoCloseable {

    public static final String REGION = "us-east-1";

    private final BlobStoreContext context;
    private final String accessKey = "dermcap-" + UUID.randomUUID().toString().substring(0, 8);
    private final String secretKey = UUID.randomUUID().toString();
    private int port;
    private S3Proxy proxy;

    private EmbeddedS3() {
        this.context = ContextBuilder.newBuilder("transient-nio2")
                .credentials("identity", "credential")
                .build(BlobStoreContext.class);
    }

    public static EmbeddedS3 launch() throws IOException {
        EmbeddedS3 s3 = new EmbeddedS3();
        try {
            s3.start(0);
        } catch (IOException | RuntimeException e) {
            s3.close();
            throw e;
        }
        return s3;
    }

    /** Brings the server back on its port (after {@link #stop()}); the objects are still there. */
    public synchronized void start() throws IOException {
        start(port);
    }

    private void start(int wanted) throws IOException {
        if (proxy != null) {
            return;
        }
        S3Proxy p = S3Proxy.builder()
                .blobStore(context.getBlobStore())
                .endpoint(URI.create("http://127.0.0.1:" + wanted))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, accessKey, secretKey)
                .build();
        try {
            p.start();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!"STARTED".equals(p.getState())) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("S3Proxy did not start: " + p.getState());
                }
                Thread.sleep(10);
            }
        } catch (IOException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException("S3Proxy failed to start on port " + wanted + ": " + e.getMessage(), e);
        }
        port = p.getPort();
        proxy = p;
    }

    /** Takes the server down: connections are refused until {@link #start()}. */
    public synchronized void stop() {
        if (proxy != null) {
            try {
                proxy.stop();
            } catch (Exception e) {
                throw new IllegalStateException("S3Proxy did not stop", e);
            } finally {
                proxy = null;
            }
        }
    }

    public synchronized boolean running() {
        return proxy != null;
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    public String accessKey() {
        return accessKey;
    }

    public String secretKey() {
        return secretKey;
    }

    public void createBucket(String bucket) {
        context.getBlobStore().createContainerInLocation(null, bucket);
    }

    /** Stores an object directly in the blob store (no HTTP), e.g. for fixtures and the demo. */
    public void put(String bucket, String key, byte[] bytes) {
        BlobStore store = context.getBlobStore();
        store.putBlob(bucket, store.blobBuilder(key).payload(bytes).contentLength(bytes.length).build());
    }

    @Override
    public void close() {
        stop();
        context.close();
    }

    @Override
    public String toString() {
        return "EmbeddedS3[" + endpoint() + "]";
    }
}
