package io.dermcap.it.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dermcap.audit.Credentials;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/** Calls an instance's audit API with a bearer token. */
final class AuditClient {

    static final String TOKEN = "it-audit-token-" + java.util.UUID.randomUUID();
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final int port;

    /** A status and its JSON body (null for a body that is not JSON). */
    record Answer(int status, JsonNode body, String retryAfter) {
    }

    AuditClient(int port) {
        this.port = port;
    }

    /** The settings that turn the audit on at {@code port} for the one test client. */
    static Map<String, String> settings(int port) {
        Map<String, String> s = new HashMap<>();
        s.put("audit.enabled", "true");
        s.put("audit.host", "127.0.0.1");
        s.put("audit.port", Integer.toString(port));
        s.put("audit.credentials", Credentials.sha256Entry("it-auditor", TOKEN));
        s.put("audit.index.passthrough", "correlation.case");
        return s;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    Answer get(String pathAndQuery) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
                .timeout(Duration.ofSeconds(20)).header("Authorization", "Bearer " + TOKEN).build(),
                HttpResponse.BodyHandlers.ofString());
        JsonNode body;
        try {
            body = JSON.readTree(r.body());
        } catch (IOException notJson) {
            body = null;
        }
        return new Answer(r.statusCode(), body, r.headers().firstValue("Retry-After").orElse(null));
    }

    Answer outcomes(String requestId) throws IOException, InterruptedException {
        return get("/v1/outcomes/" + URLEncoder.encode(requestId, StandardCharsets.UTF_8).replace("+", "%20"));
    }
}
