package io.dermcap.metrics;

/**
 * The operations HTTP endpoint ({@code /metrics}, {@code /health/live}, {@code /health/ready}).
 *
 * @param host address to bind (0.0.0.0 in a container so probes can reach it)
 * @param port port to bind; 0 picks a free one
 */
public record MetricsOptions(String host, int port) {
}
