package io.dermcap.service;

import io.dermcap.config.DermcapConfig;
import io.dermcap.events.CaptionRequest;
import io.dermcap.registry.AvroSerdeConfig;
import io.dermcap.registry.RequestSubjectCheck;
import io.dermcap.registry.SchemaRegistryClient;
import io.dermcap.topology.TopologyOptions;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.streams.StreamsConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What a start checks before it consumes, besides the configuration and the bundle: the topics
 * exist, and the request subject holds a schema the service can read. A start runs them in the
 * order that reports the most basic problem first (configuration, bundle, topics, registry);
 * {@code dermcap run --check-config} runs them without starting.
 */
public final class StartupChecks {

    private StartupChecks() {
    }

    /**
     * The three topics must exist: Kafka Streams does not create its source and sink topics.
     *
     * @return one line per topic with its partition count
     * @throws IllegalStateException naming the missing topics, or when Kafka does not answer
     */
    public static List<String> topics(DermcapConfig config) {
        TopologyOptions topology = config.topology();
        List<String> topics = List.of(topology.requestTopic(), topology.captionTopic(), topology.failureTopic());
        Map<String, Object> admin = new StreamsConfig(config.streams()).getAdminConfigs("dermcap-startup");
        try (Admin a = Admin.create(admin)) {
            List<String> found = new ArrayList<>();
            List<String> missing = new ArrayList<>();
            for (var e : a.describeTopics(topics).topicNameValues().entrySet()) {
                try {
                    TopicDescription d = e.getValue().get(30, TimeUnit.SECONDS);
                    found.add("topic " + d.name() + ": " + d.partitions().size() + " partitions");
                } catch (ExecutionException ex) {
                    if (ex.getCause() instanceof UnknownTopicOrPartitionException) {
                        missing.add(e.getKey());
                    } else {
                        throw new IllegalStateException("cannot describe topic " + e.getKey() + ": " + ex.getCause(), ex);
                    }
                }
            }
            if (!missing.isEmpty()) {
                throw new IllegalStateException("missing topics " + missing + " (create them, or set topic.requests, "
                        + "topic.captions, topic.failures)");
            }
            return found;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking topics", e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("Kafka did not answer within 30 s (kafka.bootstrap.servers="
                    + config.streams().getProperty(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG) + ")", e);
        }
    }

    /** The request topic's subject under the serde's naming strategy. */
    public static String requestSubject(DermcapConfig config, AvroSerdeConfig serde) {
        return serde.subjectStrategy(false).subject(config.topology().requestTopic(), false, CaptionRequest.getClassSchema());
    }

    /** Checks the request subject as {@code mode} says (see {@link RequestSubjectCheck}). */
    public static RequestSubjectCheck.Verdict requestSchema(SchemaRegistryClient client, String subject, RequestSubjectCheck.Mode mode) {
        return RequestSubjectCheck.check(client, subject, CaptionRequest.getClassSchema(), mode);
    }
}
