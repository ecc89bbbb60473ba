package io.dermcap.config;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

class ConfigDocsTest {

    private static final Path README = Path.of(System.getProperty("dermcap.repo.root", ".."), "README.md");

    @Test
    void readmeSectionIsTheGeneratedOne() throws IOException {
        String readme = Files.readString(README);
        int begin = readme.indexOf(ConfigDocs.BEGIN);
        int end = readme.indexOf(ConfigDocs.END);
        assertThat(begin).as("README.md lacks the configuration markers").isNotNegative().isLessThan(end);
        String committed = readme.substring(begin + ConfigDocs.BEGIN.length(), end);
        String generated = ConfigDocs.markdown();
        if (Boolean.getBoolean("dermcap.docs.write")) {
            Files.writeString(README, readme.substring(0, begin + ConfigDocs.BEGIN.length()) + generated + readme.substring(end));
            committed = generated;
        }
        assertThat(committed).as("README.md's configuration section is out of date; regenerate it").isEqualTo(generated);
    }

    @Test
    void everyKeyIsInTheTableWithItsDefaultAndEnvironmentName() {
        String md = ConfigDocs.markdown();
        for (Key<?> k : ConfigKeys.all()) {
            assertThat(md).contains("| `" + k.name() + "` |").contains("`" + k.envName() + "`");
            if (k.defaultValue() == null) {
                assertThat(md).contains("| `" + k.name() + "` | (required) |");
            } else if (!k.defaultValue().isEmpty()) {
                assertThat(md).contains("| `" + k.name() + "` | `" + k.defaultValue() + "` |");
            }
        }
    }

    @Test
    void everyDocumentedDefaultParsesAndPlainKafkaDefaultsAreTheDerivedOnes() {
        for (Key<?> k : ConfigKeys.all()) {
            if (k.defaultValue() != null) {
                k.parse().apply(k.defaultValue());
            }
        }
        Properties derived = Config.load(null, Map.of("DERMCAP_KAFKA_BOOTSTRAP_SERVERS", "b:9092", "DERMCAP_SERDE_SCHEMA_REGISTRY_URL", "mock://d", "DERMCAP_BUNDLE_DIR", "/b")).streams();
        for (ConfigKeys.PassThrough d : ConfigKeys.KAFKA_DEFAULTS) {
            String key = d.key().substring(ConfigKeys.KAFKA_PREFIX.length());
            if (d.defaultValue().matches("[\\w.]+")) {
                assertThat(derived.getProperty(key)).as(d.key()).isEqualTo(d.defaultValue());
            }
        }
    }
}
