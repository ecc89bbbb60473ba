package io.dermcap.metrics;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

class OpsServerTest {

    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> get(OpsServer s, String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void servesPrometheusMetricsAndProbes() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ServiceMetrics metrics = new ServiceMetrics(registry);
        metrics.modelBatch(8, 1_500_000_000L);
        metrics.outcome(false, "OBJECT_MISSING");
        metrics.outcome(true, null);
        metrics.stage(ServiceMetrics.Stage.FETCH, Duration.ofMillis(12));
        metrics.fetchRetries(3);
        AtomicReference<OpsServer.Status> ready = new AtomicReference<>(OpsServer.Status.failing("streams REBALANCING"));
        try (OpsServer server = OpsServer.start(new MetricsOptions("127.0.0.1", 0), registry,
                () -> OpsServer.Status.ok("live"), ready::get)) {
            HttpResponse<String> m = get(server, "/metrics");
            assertThat(m.statusCode()).isEqualTo(200);
            assertThat(m.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
            assertThat(m.body())
                    .contains("dermcap_model_batch_size_sum 8.0")
                    .contains("dermcap_model_batch_seconds_count 1")
                    .contains("dermcap_outcomes_total{code=\"OBJECT_MISSING\",outcome=\"failure\"} 1.0")
                    .contains("dermcap_outcomes_total{code=\"none\",outcome=\"caption\"} 1.0")
                    .contains("dermcap_stage_seconds_count{stage=\"fetch\"} 1")
                    .contains("dermcap_fetch_retries_total 2.0");
            assertThat(get(server, "/health/live").statusCode()).isEqualTo(200);
            HttpResponse<String> notReady = get(server, "/health/ready");
            assertThat(notReady.statusCode()).isEqualTo(503);
            assertThat(notReady.body()).contains("REBALANCING");
            ready.set(OpsServer.Status.ok("ready"));
            assertThat(get(server, "/health/ready").statusCode()).isEqualTo(200);
            assertThat(get(server, "/nope").statusCode()).isEqualTo(404);
            assertThat(get(server, "/health/ready/x").statusCode()).isEqualTo(404);
            HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(post.statusCode()).isEqualTo(405);
        }
    }
}
