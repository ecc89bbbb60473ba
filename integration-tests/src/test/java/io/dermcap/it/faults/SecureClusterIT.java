package io.dermcap.it.faults;

import io.dermcap.embedded.EmbeddedKafka;
import io.dermcap.embedded.SelfSignedCertificate;
import io.dermcap.embedded.ServerSupport;
import io.dermcap.events.CaptionRequest;
import io.dermcap.it.servers.TestServers;
import io.dermcap.it.service.ChildService;
import io.dermcap.it.service.Outcomes;
import io.dermcap.it.service.ServiceScenario;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.Test;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The service on a secured deployment: a real broker whose only client listener is SASL_SSL with
 * SCRAM-SHA-256 (and that refuses a wrong password), and a registry that requires HTTP basic auth
 * (and refuses a request without it). Everything is captioned; the service's whole log at INFO
 * holds no caption text, no patient identifier and neither password.
 */
class SecureClusterIT {

    private static final Duration TIMEOUT = Duration.ofMinutes(5);

    @Test
    void captionsOverSaslSslWithAnAuthenticatedRegistryAndLogsNothingPrivate() throws Exception {
        Path dir = Files.createTempDirectory("dermcap-secure-");
        String password = UUID.randomUUID().toString();
        try (EmbeddedKafka kafka = EmbeddedKafka.launch(new EmbeddedKafka.Options(
                new EmbeddedKafka.SaslSsl(SelfSignedCertificate.generate(dir), Map.of("dermcap", password)), Map.of()))) {
            refusesWrongPassword(kafka);
            TestServers.AuthenticatedRegistry registry = ServiceScenario.SERVERS.authenticatedRegistry();
            HttpResponse<Void> anonymous = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    java.net.URI.create(registry.url() + "/subjects")).build(), HttpResponse.BodyHandlers.discarding());
            assertThat(anonymous.statusCode()).as("the registry refuses a request without credentials").isEqualTo(401);

            ServiceScenario.Cluster cluster = new ServiceScenario.Cluster(kafka.bootstrapServers(),
                    kafka.clientSecurity("dermcap"), registry.url(), registry.user() + ":" + registry.password());
            try (ServiceScenario s = new ServiceScenario(2, cluster)) {
                assertThat(s.config()).containsEntry("kafka.security.protocol", "SASL_SSL")
                        .containsEntry("serde.basic.auth.credentials.source", "USER_INFO");
                Traffic traffic = new Traffic(s, 8, 29);
                ChildService child = s.startChild("secure", Map.of("kafka.processing.guarantee", "exactly_once_v2"));
                child.awaitReady(TIMEOUT);
                List<CaptionRequest> requests = traffic.requests("secure", 0, 24);
                s.send(requests);
                Audit audit = Audit.await(s, "SASL_SSL + SCRAM broker, basic-auth registry", true,
                        Traffic.keys(requests), TIMEOUT, Duration.ofSeconds(2));
                Outcomes out = s.outcomes();
                int captionTexts = LogCheck.assertNoPrivateData(s.dir, traffic.identifiers(), out);
                ReliabilityReport.record(new ReliabilityReport.Row(audit, "none (security)", "n/a",
                        "log check over the whole INFO log: 0 of " + traffic.identifiers().size() + " identifiers, 0 of "
                                + captionTexts + " caption texts, neither password"));
                audit.assertHolds();
                assertThat(out.captions()).hasSize(requests.size());
                assertThat(captionTexts).as("caption texts long enough to search for").isPositive();
                String log = Files.readString(child.log());
                assertThat(log).contains("guarantee=exactly_once_v2").doesNotContain(password)
                        .doesNotContain(registry.password());
                child.stop();
            }
        } finally {
            ServerSupport.deleteRecursively(dir);
        }
    }

    private static void refusesWrongPassword(EmbeddedKafka kafka) {
        Map<String, Object> wrong = new HashMap<>(kafka.clientSecurity("dermcap"));
        wrong.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required "
                + "username=\"dermcap\" password=\"not-the-password\";");
        wrong.put("bootstrap.servers", kafka.bootstrapServers());
        wrong.put("request.timeout.ms", 10_000);
        wrong.put("default.api.timeout.ms", 20_000);
        try (Admin admin = Admin.create(wrong)) {
            assertThatThrownBy(() -> admin.describeCluster().nodes().get(30, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(SaslAuthenticationException.class);
        }
    }
}
