package io.dermcap.it.faults;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.dermcap.embedded.SelfSignedCertificate;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * A local https server (certificate for localhost, generated for the run) that answers like a
 * hostile or broken image host: redirects to forbidden addresses and schemes, a redirect loop,
 * an endless body, a length over the limit, a body cut short, refusals.
 */
final class HostileHttpsServer implements AutoCloseable {

    private final HttpsServer server;
    private final SelfSignedCertificate certificate;
    private final byte[] image;

    HostileHttpsServer(Path dir, byte[] image) throws IOException {
        this.image = image;
        this.certificate = SelfSignedCertificate.generate(dir);
        this.server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(certificate.serverContext()));
        server.createContext("/", this::handle);
        server.start();
    }

    /** {@code https://localhost:<port>}: the host name the service allow-lists. */
    String base() {
        return "https://localhost:" + port();
    }

    int port() {
        return server.getAddress().getPort();
    }

    SelfSignedCertificate certificate() {
        return certificate;
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            switch (exchange.getRequestURI().getPath()) {
                case "/lesion.png" -> send(exchange, 200, image);
                case "/to-metadata" -> redirect(exchange, "https://169.254.169.254/latest/meta-data/iam/security-credentials/");
                case "/to-private" -> redirect(exchange, "https://10.1.2.3/internal/admin.png");
                case "/to-loopback-ip" -> redirect(exchange, "https://127.0.0.1:" + port() + "/lesion.png");
                case "/to-file" -> redirect(exchange, "file:///etc/passwd");
                case "/to-plain-http" -> redirect(exchange, "http://localhost:" + port() + "/lesion.png");
                case "/loop" -> redirect(exchange, "/loop");
                case "/endless" -> {
                    exchange.sendResponseHeaders(200, 0); // chunked, no length: the limit must be enforced while reading
                    OutputStream body = exchange.getResponseBody();
                    byte[] block = new byte[64 * 1024];
                    for (int i = 0; i < 4096; i++) { // 256 MB unless the client hangs up first
                        body.write(block);
                    }
                }
                case "/declares-a-gigabyte" -> {
                    exchange.getResponseHeaders().set("Content-Type", "image/png");
                    exchange.sendResponseHeaders(200, 1L << 30);
                    exchange.getResponseBody().write(image, 0, 64);
                }
                case "/cut-short" -> {
                    exchange.sendResponseHeaders(200, image.length);
                    exchange.getResponseBody().write(image, 0, image.length / 2);
                }
                case "/forbidden" -> send(exchange, 403, "forbidden".getBytes());
                default -> send(exchange, 404, new byte[0]);
            }
        } catch (IOException hungUp) {
            // the service closed the connection (as it should on an endless or oversized body)
        }
    }

    private static void send(HttpExchange exchange, int status, byte[] body) throws IOException {
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            exchange.getResponseBody().write(body);
        }
    }

    private static void redirect(HttpExchange exchange, String location) throws IOException {
        exchange.getResponseHeaders().set("Location", location);
        exchange.sendResponseHeaders(302, -1);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
