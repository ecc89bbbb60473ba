package io.dermcap.it.faults;

import io.dermcap.events.CaptionRequest;
import io.dermcap.it.service.ServiceScenario;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Requests sent at a steady rate on a thread of their own for as long as a fault lasts, as a
 * hospital's systems would go on sending. A request counts as sent once the cluster acknowledged
 * it (acks=all); the producer waits out outages (10 minutes) rather than give up on a request
 * that may have been written after all, which would make an outcome for a request "never sent".
 */
final class SteadyLoad implements AutoCloseable {

    private final ServiceScenario scenario;
    private final Traffic traffic;
    private final String prefix;
    private final long periodNanos;
    private final KafkaProducer<byte[], byte[]> producer;
    private final ConcurrentLinkedQueue<String> acked = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> failed = new ConcurrentLinkedQueue<>();
    private final Thread sender;
    private volatile boolean running = true;
    private int issued;

    SteadyLoad(ServiceScenario scenario, Traffic traffic, String prefix, double perSecond) {
        this.scenario = scenario;
        this.traffic = traffic;
        this.prefix = prefix;
        this.periodNanos = (long) (1e9 / perSecond);
        this.producer = new KafkaProducer<>(scenario.cluster.kafkaClient(Map.of(ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 600_000, ProducerConfig.MAX_BLOCK_MS_CONFIG, 600_000,
                ProducerConfig.LINGER_MS_CONFIG, 5)), new ByteArraySerializer(), new ByteArraySerializer());
        this.sender = new Thread(this::run, "steady-load-" + prefix);
        sender.setDaemon(true);
        sender.start();
    }

    private void run() {
        long next = System.nanoTime();
        while (running) {
            CaptionRequest r = traffic.requests(prefix, issued++, 1).get(0);
            String key = r.getRequestId();
            producer.send(scenario.record(r), (metadata, e) -> (e == null ? acked : failed).add(key));
            next += periodNanos;
            long wait = next - System.nanoTime();
            if (wait > 0) {
                try {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    /** How many requests the cluster acknowledged so far. */
    int acknowledged() {
        return acked.size();
    }

    /** Stops sending, waits for every acknowledgement and returns the keys of the requests sent. */
    List<String> stop() throws InterruptedException {
        running = false;
        sender.join();
        producer.flush();
        if (!failed.isEmpty()) {
            throw new AssertionError(failed.size() + " requests were not acknowledged by the cluster: " + failed);
        }
        return new ArrayList<>(acked);
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        sender.join();
        producer.close();
    }
}
