package io.dermcap.storage;

import io.dermcap.Sha256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.dermcap.storage.FetchException.Reason;

/** Retries, limits, redirects and address checks of the fetcher against scripted local servers. */
class StorageFetcherTest {

    private static final byte[] IMAGE = "\u0089PNG pretend image bytes".getBytes(StandardCharsets.ISO_8859_1);
    private final List<Duration> waits = Collections.synchronizedList(new ArrayList<>());

    /** Plain http to loopback is allowed here only because the scripted servers live there. */
    private static StorageOptions local() {
        return StorageOptionsBuilder.defaults()
                .hosts("127.0.0.1", "images.test")
                .addresses(Set.of(AddressClass.LOOPBACK))
                .plainHttp(true)
                .maxBytes(1024)
                .retry(new StorageOptions.RetryPolicy(4, Duration.ofMillis(100), Duration.ofMillis(300), Duration.ofSeconds(30)))
                .timeouts(Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(5))
                .build();
    }

    private StorageFetcher fetcher(StorageOptions options) {
        return new StorageFetcher(options, InetAddress::getAllByName, waits::add);
    }


    @Test
    void transientStatusesAreRetriedWithJitteredBackoffUntilTheObjectComes() throws Exception {
        try (ScriptedServer server = new ScriptedServer((n, head, out) -> {
            if (n < 3) {
                ScriptedServer.write(out, n == 1 ? "HTTP/1.1 503 Unavailable\r\nContent-Length: 0\r\n\r\n"
                        : "HTTP/1.1 429 Too Many\r\nContent-Length: 0\r\n\r\n");
            } else {
                ScriptedServer.ok(out, IMAGE);
            }
        })) {
            FetchedObject object = fetcher(local()).fetch(server.url("/a/x.png?v=1"), Sha256.of(IMAGE).toUpperCase());
            assertThat(object.bytes()).isEqualTo(IMAGE);
            assertThat(object.sha256()).isEqualTo(Sha256.of(IMAGE));
            assertThat(object.attempts()).isEqualTo(3);
            assertThat(waits).hasSize(2);
            assertThat(waits.get(0)).isBetween(Duration.ZERO, Duration.ofMillis(100));
            assertThat(waits.get(1)).isBetween(Duration.ZERO, Duration.ofMillis(200));
            assertThat(server.requests.get(0)).startsWith("GET /a/x.png?v=1 HTTP/1.1\r\n")
                    .contains("Host: 127.0.0.1:" + server.port() + "\r\n").contains("Accept-Encoding: identity");
        }
    }

    @Test
    void permanentStatusesFailAtOnce() throws Exception {
        try (ScriptedServer server = new ScriptedServer((n, head, out) -> ScriptedServer.write(out,
                head.startsWith("GET /missing") ? "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
                        : "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"))) {
            assertFails(fetcher(local()), server.url("/missing.png"), Reason.OBJECT_MISSING, false, 1, "HTTP 404");
            assertFails(fetcher(local()), server.url("/secret.png"), Reason.FETCH_FAILED, false, 1, "HTTP 403");
            assertThat(waits).isEmpty();
        }
    }

    @Test
    void persistentServerErrorsExhaustTheAttemptsAsRetryableFetchFailures() throws Exception {
        try (ScriptedServer server = new ScriptedServer((n, head, out) ->
                ScriptedServer.write(out, "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n"))) {
            assertFails(fetcher(local()), server.url("/x.png"), Reason.FETCH_FAILED, true, 4, "gave up after 4 attempts");
            assertThat(server.requests).hasSize(4);
        }
    }

    @Test
    void aStoppedServerIsRetriedThenReportedWithItsAttempts() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        assertFails(fetcher(local()), "http://127.0.0.1:" + port + "/x.png", Reason.FETCH_FAILED, true, 4, "ConnectException");
    }

    @Test
    void theRetryBudgetBoundsTheTotalTime() throws Exception {
        StorageOptions options = StorageOptionsBuilder.from(local()).retry(
                new StorageOptions.RetryPolicy(1000, Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(600))).build();
        try (ScriptedServer server = new ScriptedServer((n, head, out) ->
                ScriptedServer.write(out, "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n"))) {
            long start = System.nanoTime();
            FetchException e = catchFetch(new StorageFetcher(options), server.url("/x.png"));
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertThat(e.reason()).isEqualTo(Reason.FETCH_FAILED);
            assertThat(e.attempts()).isBetween(2, 999);
            assertThat(millis).isLessThan(3000);
        }
    }

    @Test
    void theByteLimitHoldsForDeclaredChunkedAndUndelimitedBodies() throws Exception {
        byte[] big = new byte[2000];
        try (ScriptedServer server = new ScriptedServer((n, head, out) -> {
            if (head.startsWith("GET /declared")) {
                ScriptedServer.write(out, "HTTP/1.1 200 OK\r\nContent-Length: 5000000000\r\n\r\n");
            } else if (head.startsWith("GET /chunked")) {
                ScriptedServer.write(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
                for (int i = 0; i < 10; i++) {
                    ScriptedServer.write(out, "100\r\n");
                    out.write(new byte[256]);
                    ScriptedServer.write(out, "\r\n");
                }
                ScriptedServer.write(out, "0\r\n\r\n");
            } else {
                ScriptedServer.write(out, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
                out.write(big);
            }
        })) {
            assertFails(fetcher(local()), server.url("/declared"), Reason.TOO_LARGE, false, 1, "5000000000 bytes declared");
            assertFails(fetcher(local()), server.url("/chunked"), Reason.TOO_LARGE, false, 1, "more than 1024 bytes");
            assertFails(fetcher(local()), server.url("/eof"), Reason.TOO_LARGE, false, 1, "more than 1024 bytes");
        }
    }

    @Test
    void chunkedBodiesAndBodiesWithoutLengthAreRead() throws Exception {
        try (ScriptedServer server = new ScriptedServer((n, head, out) -> {
            if (head.startsWith("GET /chunked")) {
                ScriptedServer.write(out, "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;ext=1\r\n");
                out.write(IMAGE, 0, 5);
                ScriptedServer.write(out, "\r\n" + Integer.toHexString(IMAGE.length - 5) + "\r\n");
                out.write(IMAGE, 5, IMAGE.length - 5);
                ScriptedServer.write(out, "\r\n0\r\nX-Trailer: 1\r\n\r\n");
            } else {
                ScriptedServer.write(out, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n");
                out.write(IMAGE);
            }
        })) {
            assertThat(fetcher(local()).fetch(server.url("/chunked"), null).bytes()).isEqualTo(IMAGE);
            assertThat(fetcher(local()).fetch(server.url("/eof"), null).bytes()).isEqualTo(IMAGE);
        }
    }

    @Test
    void aBodyCutShortIsRetriedAsTransient() throws Exception {
        try (ScriptedServer server = new ScriptedServer((n, head, out) -> {
            if (n == 1) {
                ScriptedServer.write(out, "HTTP/1.1 200 OK\r\nContent-Length: " + IMAGE.length + "\r\n\r\n");
                out.write(IMAGE, 0, 4);
            } else {
                ScriptedServer.ok(out, IMAGE);
            }
        })) {
            FetchedObject object = fetcher(local()).fetch(server.url("/x.png"), null);
            assertThat(object.attempts()).isEqualTo(2);
            assertThat(object.bytes()).isEqualTo(IMAGE);
        }
    }

    @Test
    void aTricklingServerHitsTheAttemptTimeout() throws Exception {
        StorageOptions options = StorageOptionsBuilder.from(local())
                .timeouts(Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofMillis(400))
                .retry(new StorageOptions.RetryPolicy(2, Duration.ZERO, Duration.ZERO, Duration.ofSeconds(10)))
                .build();
        try (ScriptedServer server = new ScriptedServer((n, head, out) -> {
            ScriptedServer.write(out, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
            for (int i = 0; i < 100; i++) {
                out.write('x');
                out.flush();
                Thread.sleep(50); // 50 ms apart: never silent for the 1 s read timeout
            }
        })) {
            long start = System.nanoTime();
            assertFails(new StorageFetcher(options), server.url("/slow"), Reason.FETCH_FAILED, true, 2, "timed out");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        }
    }

    @Test
    void malformedResponsesAreFetchFailures() throws Exception {
        try (ScriptedServer server = new ScriptedServer((n, head, out) -> {
            if (head.startsWith("GET /gzip")) {
                ScriptedServer.write(out, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc");
            } else if (head.startsWith("GET /lengths")) {
                ScriptedServer.write(out, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd");
            } else {
                ScriptedServer.write(out, "SSH-2.0-OpenSSH_9.2\r\n\r\n");
            }
        })) {
            assertFails(fetcher(local()), server.url("/gzip"), Reason.FETCH_FAILED, false, 1, "Content-Encoding");
            assertFails(fetcher(local()), server.url("/lengths"), Reason.FETCH_FAILED, false, 1, "conflicting Content-Length");
            assertFails(fetcher(local()), server.url("/ssh"), Reason.FETCH_FAILED, false, 1, "not an HTTP/1.x response");
        }
    }

    @Test
    void redirectsAreFollowedAndEachHopIsChecked() throws Exception {
        try (ScriptedServer server = new ScriptedServer((n, head, out) -> {
            String path = head.substring(4, head.indexOf(' ', 4));
            switch (path) {
                case "/start" -> ScriptedServer.write(out, "HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n");
                case "/next" -> ScriptedServer.write(out, "HTTP/1.1 307 Temporary\r\nLocation: http://images.test:" + server(head)
                        + "/final\r\nContent-Length: 0\r\n\r\n");
                case "/final" -> ScriptedServer.ok(out, IMAGE);
                case "/metadata" -> ScriptedServer.write(out,
                        "HTTP/1.1 301 Moved\r\nLocation: http://169.254.169.254/latest/meta-data/\r\nContent-Length: 0\r\n\r\n");
                case "/file" -> ScriptedServer.write(out, "HTTP/1.1 308 Moved\r\nLocation: file:///etc/passwd\r\n\r\n");
                case "/elsewhere" -> ScriptedServer.write(out, "HTTP/1.1 302 Found\r\nLocation: http://evil.example/x\r\n\r\n");
                case "/nowhere" -> ScriptedServer.write(out, "HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n");
                default -> ScriptedServer.write(out, "HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n");
            }
        })) {
            AddressPolicy.Resolver resolver = host -> host.equals("images.test")
                    ? new InetAddress[] {InetAddress.getLoopbackAddress()} : InetAddress.getAllByName(host);
            StorageFetcher fetcher = new StorageFetcher(local(), resolver, waits::add);
            FetchedObject object = fetcher.fetch(server.url("/start"), null);
            assertThat(object.bytes()).isEqualTo(IMAGE);
            assertThat(server.requests.get(2)).startsWith("GET /final ").contains("Host: images.test:" + server.port());

            assertFails(fetcher, server.url("/metadata"), Reason.URI_NOT_ALLOWED, false, 1, "169.254.169.254");
            assertFails(fetcher, server.url("/file"), Reason.URI_NOT_ALLOWED, false, 1, "only http(s) redirects");
            assertFails(fetcher, server.url("/elsewhere"), Reason.URI_NOT_ALLOWED, false, 1, "not allow-listed");
            assertFails(fetcher, server.url("/nowhere"), Reason.FETCH_FAILED, false, 1, "without a Location");
            assertFails(fetcher, server.url("/loop"), Reason.FETCH_FAILED, false, 1, "more than 3 redirects");
        }
    }

    private static String server(String head) {
        int at = head.indexOf("Host: 127.0.0.1:");
        return head.substring(at + 16, head.indexOf('\r', at));
    }

    @Test
    void namesResolvingToForbiddenAddressesAreRefusedAndCheckedAddressesAreTheOnesDialled() throws Exception {
        StorageOptions publicOnly = StorageOptionsBuilder.from(local()).addresses(Set.of(AddressClass.PUBLIC)).build();
        AtomicInteger lookups = new AtomicInteger();
        AddressPolicy.Resolver rebinding = host -> lookups.incrementAndGet() == 1
                ? new InetAddress[] {InetAddress.getByName("93.184.216.34"), InetAddress.getByName("10.0.0.7")}
                : new InetAddress[] {InetAddress.getByName("169.254.169.254")};
        FetchException mixed = catchFetch(new StorageFetcher(publicOnly, rebinding, waits::add), "http://images.test/x.png");
        assertThat(mixed.reason()).isEqualTo(Reason.URI_NOT_ALLOWED);
        assertThat(mixed).hasMessageContaining("resolves to 10.0.0.7, a PRIVATE address");
        assertThat(lookups.get()).isEqualTo(1);

        try (ScriptedServer server = new ScriptedServer((n, head, out) -> ScriptedServer.ok(out, IMAGE))) {
            AtomicInteger resolutions = new AtomicInteger();
            AddressPolicy.Resolver once = host -> {
                resolutions.incrementAndGet();
                return new InetAddress[] {InetAddress.getLoopbackAddress()};
            };
            StorageFetcher fetcher = new StorageFetcher(local(), once, waits::add);
            assertThat(fetcher.fetch("http://images.test:" + server.port() + "/x.png", null).bytes()).isEqualTo(IMAGE);
            assertThat(resolutions.get()).isEqualTo(1);
            assertThat(server.requests.get(0)).contains("Host: images.test:" + server.port());

            StorageFetcher publicFetcher = new StorageFetcher(publicOnly, once, waits::add);
            assertFails(publicFetcher, "http://images.test:" + server.port() + "/x.png", Reason.URI_NOT_ALLOWED, false, 1,
                    "resolves to 127.0.0.1, a LOOPBACK address");
        }
    }

    @Test
    void integrityIsCheckedAgainstTheExpectedSha256() throws Exception {
        try (ScriptedServer server = new ScriptedServer((n, head, out) -> ScriptedServer.ok(out, IMAGE))) {
            String wrong = "0".repeat(64);
            assertFails(fetcher(local()), server.url("/x.png"), Reason.INTEGRITY_MISMATCH, false, 1, "expected " + wrong);
            FetchException malformed = catchFetch(fetcher(local()), server.url("/x.png"), "abc");
            assertThat(malformed.reason()).isEqualTo(Reason.INTEGRITY_MISMATCH);
            assertThat(malformed.attempts()).isZero();
            assertThat(malformed).hasMessageContaining("not 64 hex digits");
        }
    }

    @Test
    void filesAreReadInsideTheRootAndSymlinksMayNotLeaveIt(@TempDir Path dir) throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        Path outside = Files.writeString(dir.resolve("secret.txt"), "secret");
        Files.write(root.resolve("x.png"), IMAGE);
        Files.createDirectories(root.resolve("sub"));
        Files.createSymbolicLink(root.resolve("escape.png"), outside);
        Files.createSymbolicLink(root.resolve("sub/inside.png"), root.resolve("x.png"));
        Files.createSymbolicLink(root.resolve("dirlink"), dir);
        Files.write(root.resolve("big.png"), new byte[2048]);
        StorageFetcher fetcher = fetcher(StorageOptionsBuilder.from(local()).fileRoot(root).build());

        FetchedObject object = fetcher.fetch(root.resolve("x.png").toUri().toString(), Sha256.of(IMAGE));
        assertThat(object.bytes()).isEqualTo(IMAGE);
        assertThat(object.attempts()).isEqualTo(1);
        assertThat(fetcher.fetch("file://" + root + "/sub/inside.png", null).bytes()).isEqualTo(IMAGE);
        assertFails(fetcher, "file://" + root + "/escape.png", Reason.URI_NOT_ALLOWED, false, 1, "symbolic link");
        assertFails(fetcher, "file://" + root + "/dirlink/secret.txt", Reason.URI_NOT_ALLOWED, false, 1, "symbolic link");
        assertFails(fetcher, "file://" + root + "/missing.png", Reason.OBJECT_MISSING, false, 1, "no such file");
        assertFails(fetcher, "file://" + root + "/sub", Reason.OBJECT_MISSING, false, 1, "not a regular file");
        assertFails(fetcher, "file://" + root + "/big.png", Reason.TOO_LARGE, false, 1, "2048 bytes declared");
        assertFails(fetcher, "file://" + outside, Reason.URI_NOT_ALLOWED, false, 0, "outside the allowed root");
    }

    private static FetchException catchFetch(ObjectFetcher fetcher, String uri) {
        return catchFetch(fetcher, uri, null);
    }

    private static FetchException catchFetch(ObjectFetcher fetcher, String uri, String sha) {
        try {
            fetcher.fetch(uri, sha);
        } catch (FetchException e) {
            return e;
        }
        throw new AssertionError("expected " + uri + " to fail");
    }

    private static void assertFails(ObjectFetcher fetcher, String uri, Reason reason, boolean retryable, int attempts,
                                    String message) throws IOException {
        assertThatThrownBy(() -> fetcher.fetch(uri, message.startsWith("expected ") ? "0".repeat(64) : null))
                .isInstanceOfSatisfying(FetchException.class, e -> {
                    assertThat(e.reason()).as(e.getMessage()).isEqualTo(reason);
                    assertThat(e.retryable()).as("retryable").isEqualTo(retryable);
                    assertThat(e.attempts()).as("attempts").isEqualTo(attempts);
                })
                .hasMessageContaining(message);
    }
}
