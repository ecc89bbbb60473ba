package io.dermcap.config;

/**
 * The configuration section of the README (between {@link #BEGIN} and {@link #END}), generated from
 * {@link ConfigKeys} so the documented keys and defaults are the ones the service reads.
 */
public final class ConfigDocs {

    public static final String BEGIN = "<!-- begin configuration (generated from ConfigKeys by ConfigDocsTest) -->\n";
    public static final String END = "<!-- end configuration -->\n";

    private ConfigDocs() {
    }

    public static String markdown() {
        StringBuilder md = new StringBuilder();
        md.append("## Configuration\n\n")
                .append("`dermcap run --config FILE` reads a Java properties file; every key can be overridden by an\n")
                .append("environment variable: `DERMCAP_` + the key in upper case with `.` and `-` as `_`\n")
                .append("(`batch.max.size` → `DERMCAP_BATCH_MAX_SIZE`). The environment wins over the file.\n")
                .append("An unknown key, a missing required key or an invalid value stops the service at start\n")
                .append("with a message that names the key. Values of keys that look secret (passwords, JAAS,\n")
                .append("user info, credentials, tokens) are never printed.\n\n")
                .append("These tables are generated from `io.dermcap.config.ConfigKeys`; `ConfigDocsTest` fails when\n")
                .append("they disagree (regenerate: `mvn -pl streams-app test -Dtest=ConfigDocsTest -Ddermcap.docs.write=true`).\n");
        for (ConfigKeys.Section section : ConfigKeys.SECTIONS) {
            md.append("\n### ").append(section.title()).append("\n\n");
            header(md);
            for (Key<?> k : section.keys()) {
                row(md, k.name(), k.defaultValue(), k.envName(), k.doc());
            }
        }
        md.append("\n### Kafka Streams and clients\n\n")
                .append("Every key under `kafka.` is passed to Kafka Streams (and through it to its consumer, producer\n")
                .append("and admin clients) with the prefix removed, e.g. `kafka.security.protocol`,\n")
                .append("`kafka.sasl.jaas.config`, `kafka.num.stream.threads`, `kafka.state.dir`,\n")
                .append("`kafka.replication.factor`. Environment: `DERMCAP_KAFKA_SASL_JAAS_CONFIG` sets\n")
                .append("`kafka.sasl.jaas.config`. dermcap sets the exception handlers and serdes itself and refuses\n")
                .append("user values for them. These have dermcap defaults or checks:\n\n");
        header(md);
        ConfigKeys.KAFKA_DEFAULTS.forEach(d -> row(md, d.key(), d.defaultValue(), ConfigSource.envName(d.key()), d.doc()));
        md.append("\n### Schema registry serdes\n\n")
                .append("Every key under `serde.` is handed to the registry serdes with the prefix removed. The keys are\n")
                .append("those of Confluent's `KafkaAvroSerde`, so a Confluent serde configuration carries over (dermcap\n")
                .append("ships its own client: Confluent's is not available to this build). The main ones:\n\n");
        header(md);
        ConfigKeys.SERDE_KEYS.forEach(d -> row(md, d.key(), d.defaultValue(), ConfigSource.envName(d.key()), d.doc()));
        return md.toString();
    }

    private static void header(StringBuilder md) {
        md.append("| key | default | environment | meaning |\n|---|---|---|---|\n");
    }

    private static void row(StringBuilder md, String key, String def, String env, String doc) {
        md.append("| `").append(key).append("` | ").append(def == null || def.startsWith("(") ? String.valueOf(def == null ? "(required)" : def)
                        : def.isEmpty() ? "(empty)" : "`" + def + "`")
                .append(" | `").append(env).append("` | ").append(doc.replace("|", "\\|")).append(" |\n");
    }
}
