package io.dermcap.registry;

import org.apache.avro.Schema;

/**
 * How a serializer names the subject a schema is registered under, as Confluent's strategies do.
 * Configured by Confluent's class names (so a Confluent configuration works unchanged) or by the
 * short names {@code TopicNameStrategy}, {@code RecordNameStrategy}, {@code TopicRecordNameStrategy}.
 */
public enum SubjectNameStrategy {
    /** {@code <topic>-key} / {@code <topic>-value}: one schema lineage per topic (the default). */
    TOPIC {
        @Override
        public String subject(String topic, boolean isKey, Schema schema) {
            return topic + (isKey ? "-key" : "-value");
        }
    },
    /** The record's full name: one lineage per record type, across topics. */
    RECORD {
        @Override
        public String subject(String topic, boolean isKey, Schema schema) {
            return schema.getFullName();
        }
    },
    /** {@code <topic>-<record full name>}: several record types per topic. */
    TOPIC_RECORD {
        @Override
        public String subject(String topic, boolean isKey, Schema schema) {
            return topic + "-" + schema.getFullName();
        }
    };

    public abstract String subject(String topic, boolean isKey, Schema schema);

    /** Parses a Confluent strategy class name or its simple name. */
    public static SubjectNameStrategy parse(String name) {
        String simple = name.substring(name.lastIndexOf('.') + 1).trim();
        return switch (simple) {
            case "TopicNameStrategy" -> TOPIC;
            case "RecordNameStrategy" -> RECORD;
            case "TopicRecordNameStrategy" -> TOPIC_RECORD;
            default -> throw new IllegalArgumentException("unknown subject name strategy '" + name
                    + "' (expected TopicNameStrategy, RecordNameStrategy or TopicRecordNameStrategy)");
        };
    }
}
