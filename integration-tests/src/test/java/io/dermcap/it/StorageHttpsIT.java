package io.dermcap.it;

import static io.dermcap.it.StorageS3IT.assertFails;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

import io.dermcap.embedded.SelfSignedCertificate;
import io.dermcap.embedded.ServerSupport;
import io.dermcap.storage.AddressClass;
import io.dermcap.storage.FetchException.Reason;
import io.dermcap.storage.FetchedObject;
import io.dermcap.storage.StorageFetcher;
import io.dermcap.storage.StorageOptions;
import io.dermcap.storage.StorageOptionsBuilder;

/**
 * The https:// fetcher against a local TLS server (the JDK's HttpsServer with a certificate
 * generated for this run): trust, redirects and the SSRF checks on redirect targets.
 */
class StorageHttpsIT {

    private static final byte[] IMAGE = "\u0089PNG https image".getBytes(StandardCharsets.ISO_8859_1);
    private static Path dir;
    private static SelfSignedCertificate certificate;
    private static HttpsServer server;
    private static String base;
    private static final AtomicInteger flaky = new AtomicInteger();

    @BeforeAll
    static void start() throws IOException {
        dir = Files.createTempDirectory("dermcap-https-it-");
        certificate = SelfSignedCertificate.generate(dir);
        server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(certificate.serverContext()));
        server.createContext("/", StorageHttpsIT::handle);
        server.start();
        base = "https://localhost:" + server.getAddress().getPort();
    }

    @AfterAll
    static void stop() {
        server.stop(0);
        ServerSupport.deleteRecursively(dir);
    }

    private static void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        switch (path) {
            case "/image.png" -> send(exchange, 200, IMAGE);
            case "/hop" -> redirect(exchange, 302, "/image.png");
            case "/to-metadata" -> redirect(exchange, 301, "https://169.254.169.254/latest/meta-data/iam/");
            case "/to-loopback-ip" -> redirect(exchange, 307, "https://127.0.0.1:" + server.getAddress().getPort() + "/image.png");
            case "/downgrade" -> redirect(exchange, 302, "http://localhost:" + server.getAddress().getPort() + "/image.png");
            case "/flaky" -> send(exchange, flaky.incrementAndGet() % 2 == 1 ? 503 : 200, IMAGE);
            case "/streamed" -> {
                exchange.sendResponseHeaders(200, 0); // chunked: no length announced
                for (int i = 0; i < 64; i++) {
                    exchange.getResponseBody().write(new byte[1024]);
                }
                exchange.close();
            }
            default -> send(exchange, 404, new byte[0]);
        }
    }

    private static void send(HttpExchange exchange, int status, byte[] body) throws IOException {
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
    }

    private static void redirect(HttpExchange exchange, int status, String location) throws IOException {
        exchange.getResponseHeaders().add("Location", location);
        send(exchange, status, new byte[0]);
    }

    /** localhost is allow-listed and loopback addresses allowed, as a test against a local server must. */
    private static StorageOptions options(boolean trusting) {
        StorageOptionsBuilder options = StorageOptionsBuilder.defaults()
                .hosts("localhost")
                .addresses(Set.of(AddressClass.LOOPBACK))
                .maxBytes(16 * 1024)
                .retry(new StorageOptions.RetryPolicy(3, Duration.ofMillis(50), Duration.ofMillis(200), Duration.ofSeconds(10)))
                .timeouts(Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10));
        if (trusting) {
            options.httpsTrustStore(new StorageOptions.TrustStore(certificate.trustStore(), certificate.password(), "PKCS12"));
        }
        return options.build();
    }

    @Test
    void fetchesOverVerifiedTls() throws Exception {
        try (StorageFetcher fetcher = new StorageFetcher(options(true))) {
            FetchedObject object = fetcher.fetch(base + "/image.png", null);
            assertThat(object.bytes()).isEqualTo(IMAGE);
            assertThat(object.attempts()).isEqualTo(1);
            assertThat(fetcher.fetch(base + "/flaky", null).attempts()).isEqualTo(2);
        }
    }

    @Test
    void anUntrustedCertificateFailsAtOnce() {
        try (StorageFetcher fetcher = new StorageFetcher(options(false))) {
            assertFails(fetcher, base + "/image.png", null, Reason.FETCH_FAILED, false, 1, "TLS certificate rejected");
        }
    }

    @Test
    void redirectsAreFollowedAndForbiddenTargetsRefused() throws Exception {
        try (StorageFetcher fetcher = new StorageFetcher(options(true))) {
            assertThat(fetcher.fetch(base + "/hop", null).bytes()).isEqualTo(IMAGE);
            assertFails(fetcher, base + "/to-metadata", null, Reason.URI_NOT_ALLOWED, false, 1, "METADATA");
            assertFails(fetcher, base + "/to-loopback-ip", null, Reason.URI_NOT_ALLOWED, false, 1, "not allow-listed");
            assertFails(fetcher, base + "/downgrade", null, Reason.URI_NOT_ALLOWED, false, 1, "plain http");
            assertFails(fetcher, base + "/nothing-here.png", null, Reason.OBJECT_MISSING, false, 1, "HTTP 404");
        }
    }

    @Test
    void aStreamedBodyOverTheLimitIsCutOff() {
        try (StorageFetcher fetcher = new StorageFetcher(options(true))) {
            assertFails(fetcher, base + "/streamed", null, Reason.TOO_LARGE, false, 1, "more than 16384 bytes");
        }
    }

    @Test
    void loopbackStaysForbiddenUnlessAllowed() {
        StorageOptions publicOnly = StorageOptionsBuilder.from(options(true)).addresses(Set.of(AddressClass.PUBLIC)).build();
        try (StorageFetcher fetcher = new StorageFetcher(publicOnly)) {
            assertFails(fetcher, base + "/image.png", null, Reason.URI_NOT_ALLOWED, false, 1, "LOOPBACK");
        }
    }
}
