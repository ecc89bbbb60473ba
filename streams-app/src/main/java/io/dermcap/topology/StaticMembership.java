package io.dermcap.topology;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.StreamsConfig;

import java.time.Duration;
import java.util.Properties;

/**
 * Static group membership by default: the consumer group knows each instance by its
 * {@code instance.id}, so an instance that restarts after a crash (kill -9, OOM, node loss)
 * takes its partitions back at once instead of waiting for its old member's session to expire
 * and a rebalance (32–41 s measured without it). An instance that is stopped leaves the group
 * explicitly, so scaling down does not wait either. The session timeout is what the group waits
 * for a crashed instance to come back before moving its partitions: derived from how long this
 * start took (a restart takes about as long), never below Kafka's default.
 */
public final class StaticMembership {

    /** Kafka's default session timeout. */
    static final Duration FLOOR = Duration.ofSeconds(45);
    /** Within the broker's default group.max.session.timeout.ms (30 min), and not so long that a lost instance stalls its partitions for long. */
    static final Duration CEILING = Duration.ofMinutes(5);

    private StaticMembership() {
    }

    /**
     * @param streams    the Streams properties (a user's {@code group.instance.id} or {@code session.timeout.ms} wins)
     * @param instanceId this instance's id ({@code instance.id}, or the host name)
     * @param startup    how long this start took until the streams are created
     */
    public static Properties apply(Properties streams, String instanceId, Duration startup) {
        Properties p = new Properties();
        p.putAll(streams);
        if (!set(p, ConsumerConfig.GROUP_INSTANCE_ID_CONFIG)) {
            p.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, instanceId);
        }
        if (!set(p, ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG)) {
            p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, Long.toString(sessionTimeout(startup).toMillis()));
        }
        return p;
    }

    /** Three times this start, between {@link #FLOOR} and {@link #CEILING}. */
    static Duration sessionTimeout(Duration startup) {
        Duration d = startup.multipliedBy(3);
        return d.compareTo(FLOOR) < 0 ? FLOOR : d.compareTo(CEILING) > 0 ? CEILING : d;
    }

    /** Set unprefixed or for the main consumer (Kafka Streams' prefixed forms). */
    private static boolean set(Properties p, String key) {
        return p.containsKey(key) || p.containsKey(StreamsConfig.consumerPrefix(key))
                || p.containsKey(StreamsConfig.mainConsumerPrefix(key));
    }
}
