package io.dermcap.deploy;

import io.dermcap.metrics.MetricsOptions;
import io.dermcap.metrics.OpsServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/**
 * The service's real operations endpoint on a free port, alive but not ready (as while the
 * bundle loads), so a manifest's probe path can be asked what the service answers there: the
 * paths are not copied into the tests, the server says whether it serves them.
 */
final class OpsEndpoint implements AutoCloseable {

    private final HttpClient http = HttpClient.newHttpClient();
    private final OpsServer server;

    OpsEndpoint() {
        server = OpsServer.start(new MetricsOptions("127.0.0.1", 0), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                () -> OpsServer.Status.ok("live"), () -> OpsServer.Status.failing("loading the bundle"));
    }

    int port() {
        return server.port();
    }

    /** The HTTP status of GET {@code path}. */
    int status(String path) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A liveness path: served, and healthy while the service is alive but not yet ready. */
    boolean isLiveness(String path) {
        return status(path) == 200;
    }

    /** A readiness path: served, and failing (503) while the service is not ready. */
    boolean isReadiness(String path) {
        return status(path) == 503;
    }

    @Override
    public void close() {
        server.close();
    }
}
