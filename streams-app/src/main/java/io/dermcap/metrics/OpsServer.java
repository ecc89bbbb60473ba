package io.dermcap.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The operations endpoint on the JDK's HTTP server: {@code /metrics} (Prometheus text),
 * {@code /health/live} and {@code /health/ready} (200 when healthy, 503 with the reason otherwise).
 */
public final class OpsServer implements AutoCloseable {

    /** A probe's verdict: healthy, or why not. */
    public record Status(boolean ok, String detail) {
        public static Status ok(String detail) {
            return new Status(true, detail);
        }

        public static Status failing(String detail) {
            return new Status(false, detail);
        }
    }

    private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private final HttpServer server;

    private OpsServer(HttpServer server) {
        this.server = server;
    }

    public static OpsServer start(MetricsOptions options, PrometheusMeterRegistry registry,
                                  Supplier<Status> live, Supplier<Status> ready) {
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(options.host(), options.port()), 16);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + options.host() + ":" + options.port(), e);
        }
        server.createContext("/metrics", ex -> respond(ex, 200, PROMETHEUS_TEXT, registry.scrape(PROMETHEUS_TEXT)));
        server.createContext("/health/live", ex -> probe(ex, live.get()));
        server.createContext("/health/ready", ex -> probe(ex, ready.get()));
        server.createContext("/", ex -> respond(ex, 404, "text/plain", "not found\n"));
        server.setExecutor(Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "dermcap-ops-http");
            t.setDaemon(true);
            return t;
        }));
        server.start();
        return new OpsServer(server);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private static void probe(HttpExchange ex, Status status) throws IOException {
        respond(ex, status.ok() ? 200 : 503, "text/plain", status.detail() + "\n");
    }

    private static void respond(HttpExchange ex, int code, String type, String body) throws IOException {
        try (ex) {
            String method = ex.getRequestMethod();
            boolean exact = ex.getRequestURI().getPath().equals(ex.getHttpContext().getPath()) || code == 404;
            if (!exact) {
                code = 404;
                body = "not found\n";
            } else if (!method.equals("GET") && !method.equals("HEAD")) {
                code = 405;
                body = "only GET and HEAD\n";
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", type);
            ex.getResponseHeaders().set("Cache-Control", "no-store");
            if (method.equals("HEAD")) {
                ex.sendResponseHeaders(code, -1);
                return;
            }
            ex.sendResponseHeaders(code, bytes.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
