package io.dermcap.it.servers;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;

/** Starts the servers once per test JVM and stops them at JVM exit. */
final class SharedServers {

    private static final Logger LOG = LoggerFactory.getLogger(SharedServers.class);
    private static TestServers servers;

    private SharedServers() {
    }

    static synchronized TestServers get() {
        if (servers == null) {
            long start = System.nanoTime();
            AutoCloseableServers started = dockerAvailable() ? ContainerServers.start() : LocalServers.start();
            Runtime.getRuntime().addShutdownHook(new Thread(started::close, "stop-test-servers"));
            servers = started;
            LOG.info("test servers ({}) up in {} ms: kafka {}, s3 {}, registry {}", servers.kind(),
                    (System.nanoTime() - start) / 1_000_000, servers.bootstrapServers(), servers.s3().endpoint(),
                    servers.registryUrl());
        }
        return servers;
    }

    /** Docker can be forced off (-Ddermcap.it.docker=false) to run the in-JVM servers where Docker exists. */
    private static boolean dockerAvailable() {
        if ("false".equals(System.getProperty("dermcap.it.docker"))) {
            return false;
        }
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    /** A server set that can be shut down as a whole. */
    interface AutoCloseableServers extends TestServers, AutoCloseable {
        @Override
        void close();
    }
}
