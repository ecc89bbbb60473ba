package io.dermcap.config;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.assertThatNoException;

class KnownSettingsTest {

    @Test
    void aMisspelledKafkaKeyIsRefusedWithTheNearestValidOne() {
        assertThatThrownBy(() -> KnownSettings.checkKafka(List.of("procesing.guarantee")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("kafka.procesing.guarantee")
                .hasMessageContaining("did you mean kafka.processing.guarantee?");
    }

    @Test
    void aMisspelledSerdeKeyIsRefusedWithTheNearestValidOne() {
        assertThatThrownBy(() -> KnownSettings.checkSerde(List.of("schema.registry.ur1")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("serde.schema.registry.ur1")
                .hasMessageContaining("did you mean serde.schema.registry.url?");
    }

    @Test
    void keysDermcapManagesAreRefusedWithWhatItDoesInstead() {
        for (String key : List.of("default.deserialization.exception.handler", "deserialization.exception.handler",
                "processing.exception.handler", "default.value.serde", "errors.dead.letter.queue.topic.name")) {
            assertThatThrownBy(() -> KnownSettings.checkKafka(List.of(key)))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("kafka." + key)
                    .hasMessageContaining("managed by dermcap");
        }
        assertThatThrownBy(() -> KnownSettings.checkKafka(List.of("default.deserialization.exception.handler")))
                .hasMessageContaining("UNDESERIALIZABLE_RECORD");
    }

    @Test
    void prefixedFormsAreCheckedAgainstTheirClient() {
        assertThatNoException().isThrownBy(() -> KnownSettings.checkKafka(List.of(
                "bootstrap.servers", "processing.guarantee", "state.dir", "max.poll.interval.ms", "linger.ms",
                "sasl.jaas.config", "security.protocol", "group.instance.id", "session.timeout.ms",
                "consumer.max.poll.records", "main.consumer.fetch.max.wait.ms", "restore.consumer.max.poll.records",
                "global.consumer.fetch.min.bytes", "producer.compression.type", "admin.request.timeout.ms",
                "topic.min.insync.replicas", "topic.segment.bytes", "client.tag.zone")));
        // a producer setting is not a consumer's
        assertThatThrownBy(() -> KnownSettings.checkKafka(List.of("consumer.linger.ms")))
                .hasMessageContaining("kafka.consumer.linger.ms")
                .hasMessageContaining("'consumer.' setting");
        assertThatThrownBy(() -> KnownSettings.checkKafka(List.of("producer.compresion.type")))
                .hasMessageContaining("did you mean kafka.producer.compression.type?");
        assertThatThrownBy(() -> KnownSettings.checkKafka(List.of("topic.min.insync.replica")))
                .hasMessageContaining("did you mean kafka.topic.min.insync.replicas?");
    }

    @Test
    void editDistanceCountsATranspositionAsOneEdit() {
        assertThat(KnownSettings.distance("guarantee", "guarantee")).isZero();
        assertThat(KnownSettings.distance("procesing", "processing")).isEqualTo(1);
        assertThat(KnownSettings.distance("ur1", "url")).isEqualTo(1);
        assertThat(KnownSettings.distance("lniger", "linger")).isEqualTo(1);
    }
}
