package io.dermcap.audit;

import io.dermcap.topology.OutcomeStores;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The audit endpoint's settings (it runs only when the audit is enabled).
 *
 * @param host           address the endpoint listens on
 * @param port           its port; 0: any free port
 * @param advertisedHost how other instances reach this one (Kafka Streams' {@code application.server} host)
 * @param credentials    the clients allowed in
 * @param keyStore       the TLS key store, or null for plain http (loopback or a trusted network only)
 * @param forwardTimeout how long a lookup waits for another instance
 * @param perMinute      requests per client per minute
 * @param accessLog      the access log file, or null for the {@value AccessLog#LOGGER} logger
 * @param stores         the audit stores' retention and indexed passthrough field
 */
public record AuditOptions(String host, int port, String advertisedHost, Credentials credentials, KeyStoreFile keyStore,
                           Duration forwardTimeout, int perMinute, Path accessLog, OutcomeStores.Options stores) {

    /** A key store: its file, password and type (PKCS12 or JKS). */
    public record KeyStoreFile(Path location, String password, String type) {
    }
}
