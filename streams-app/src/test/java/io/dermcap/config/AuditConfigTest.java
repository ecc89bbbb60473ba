package io.dermcap.config;

import io.dermcap.audit.Credentials;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The audit settings: off by default; on, credentials required and clear text only on loopback. */
class AuditConfigTest {

    @TempDir
    Path dir;

    private static Map<String, String> env(String... pairs) {
        Map<String, String> env = new HashMap<>(Map.of("DERMCAP_KAFKA_BOOTSTRAP_SERVERS", "b:9092",
                "DERMCAP_SERDE_SCHEMA_REGISTRY_URL", "mock://a", "DERMCAP_BUNDLE_DIR", "/b"));
        for (int i = 0; i < pairs.length; i += 2) {
            env.put(pairs[i], pairs[i + 1]);
        }
        return env;
    }

    @Test
    void offByDefault() {
        assertThat(Config.load(null, env()).audit()).isNull();
    }

    @Test
    void onItNeedsCredentials() {
        assertThatThrownBy(() -> Config.load(null, env("DERMCAP_AUDIT_ENABLED", "true")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("audit.credentials.file")
                .hasMessageContaining("no client is configured");
        assertThatThrownBy(() -> Config.load(null, env("DERMCAP_AUDIT_ENABLED", "true", "DERMCAP_AUDIT_CREDENTIALS", "alice hunter2")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("entry 1 has no valid hash")
                .hasMessageNotContaining("hunter2");
    }

    @Test
    void credentialsComeFromAFileOrTheEnvironmentAndOnlyAsHashes() throws Exception {
        Path file = dir.resolve("clients");
        Files.writeString(file, "# auditors\n" + Credentials.sha256Entry("alice", "token-a") + "\n");
        var audit = Config.load(null, env("DERMCAP_AUDIT_ENABLED", "true", "DERMCAP_AUDIT_CREDENTIALS_FILE", file.toString(),
                "DERMCAP_AUDIT_CREDENTIALS", Credentials.sha256Entry("bob", "token-b"),
                "DERMCAP_AUDIT_INDEX_PASSTHROUGH", "correlation.accession")).audit();
        assertThat(audit.credentials().bearer("token-a")).isEqualTo("alice");
        assertThat(audit.credentials().bearer("token-b")).isEqualTo("bob");
        assertThat(audit.credentials().bearer("token-c")).isNull();
        assertThat(audit.stores().passthrough().name()).isEqualTo("correlation.accession");
        assertThat(audit.host()).isEqualTo("127.0.0.1");
    }

    @Test
    void clearTextOnANetworkAddressNeedsAKeyStoreOrAnExplicitChoice() {
        String entry = Credentials.sha256Entry("alice", "token-a");
        assertThatThrownBy(() -> Config.load(null, env("DERMCAP_AUDIT_ENABLED", "true", "DERMCAP_AUDIT_CREDENTIALS", entry,
                "DERMCAP_AUDIT_HOST", "0.0.0.0")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("audit.tls.keystore.location");
        assertThat(Config.load(null, env("DERMCAP_AUDIT_ENABLED", "true", "DERMCAP_AUDIT_CREDENTIALS", entry,
                "DERMCAP_AUDIT_HOST", "0.0.0.0", "DERMCAP_AUDIT_HTTP_PLAIN_ALLOWED", "true")).audit().keyStore()).isNull();
    }

    @Test
    void theIndexedPassthroughFieldMustExist() {
        assertThatThrownBy(() -> Config.load(null, env("DERMCAP_AUDIT_ENABLED", "true",
                "DERMCAP_AUDIT_CREDENTIALS", Credentials.sha256Entry("alice", "t"), "DERMCAP_AUDIT_INDEX_PASSTHROUGH", "patient_name")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("audit.index.passthrough")
                .hasMessageContaining("neither a string field");
    }
}
