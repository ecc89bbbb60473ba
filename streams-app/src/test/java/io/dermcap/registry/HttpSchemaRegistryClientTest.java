package io.dermcap.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import org.apache.avro.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

import io.dermcap.embedded.SelfSignedCertificate;

/** HTTP-level behaviour of the REST client against a scripted JDK HttpServer (the real registry is in the ITs). */
class HttpSchemaRegistryClientTest {

    private static final Schema SCHEMA = new Schema.Parser().parse(
            "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}");

    /** One request as the fake saw it. */
    record Seen(String method, String rawPath, Map<String, List<String>> headers, String body) {
        String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                    .map(e -> e.getValue().get(0)).findFirst().orElse(null);
        }
    }

    /** A canned answer: status, body and extra headers. */
    record Answer(int status, String body, Map<String, String> headers) {
        static Answer of(int status, String body) {
            return new Answer(status, body, Map.of());
        }
    }

    private final List<HttpServer> servers = new ArrayList<>();
    private final List<Seen> seen = Collections.synchronizedList(new ArrayList<>());
    private final List<Duration> waits = Collections.synchronizedList(new ArrayList<>());

    @AfterEach
    void stop() {
        servers.forEach(s -> s.stop(0));
    }

    private URI serve(Function<Seen, Answer> script) throws IOException {
        return serveOn(HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0), "http", script);
    }

    private URI serveOn(HttpServer server, String scheme, Function<Seen, Answer> script) {
        server.createContext("/", exchange -> handle(exchange, script));
        server.start();
        servers.add(server);
        return URI.create(scheme + "://127.0.0.1:" + server.getAddress().getPort() + "/api");
    }

    private void handle(HttpExchange exchange, Function<Seen, Answer> script) throws IOException {
        Seen request = new Seen(exchange.getRequestMethod(), exchange.getRequestURI().getRawPath()
                + (exchange.getRequestURI().getRawQuery() == null ? "" : "?" + exchange.getRequestURI().getRawQuery()),
                Map.copyOf(exchange.getRequestHeaders()),
                new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
        seen.add(request);
        Answer answer = script.apply(request);
        answer.headers().forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
        byte[] body = answer.body().getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(answer.status(), body.length == 0 ? -1 : body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
    }

    private HttpSchemaRegistryClient client(RegistryClientConfig config) {
        return new HttpSchemaRegistryClient(config, waits::add);
    }

    private static RegistryClientConfig config(URI... urls) {
        return new RegistryClientConfig(List.of(urls), null, null, null, null, Duration.ofSeconds(2),
                Duration.ofSeconds(5), 3, Duration.ofMillis(100), Duration.ofMillis(250), 10);
    }

    @Test
    void registerPostsTheSchemaAsConfluentJsonAndReadsTheId() throws IOException {
        URI url = serve(r -> Answer.of(200, "{\"id\":17}"));
        assertThat(client(config(url)).register("my topic/value", SCHEMA)).isEqualTo(17);

        Seen request = seen.get(0);
        assertThat(request.method()).isEqualTo("POST");
        assertThat(request.rawPath()).isEqualTo("/api/subjects/my%20topic%2Fvalue/versions");
        assertThat(request.header("Content-Type")).isEqualTo("application/vnd.schemaregistry.v1+json");
        assertThat(request.body()).contains("\"schema\":").contains("\\\"name\\\":\\\"R\\\"");
        assertThat(request.header("Authorization")).isNull();
    }

    @Test
    void transientErrorsAreRetriedWithCappedJitteredBackoff() throws IOException {
        AtomicInteger calls = new AtomicInteger();
        URI url = serve(r -> calls.incrementAndGet() < 4
                ? Answer.of(calls.get() == 2 ? 429 : 503, "{\"error_code\":50301,\"message\":\"busy\"}")
                : Answer.of(200, "{\"schema\":\"\\\"int\\\"\"}"));
        assertThat(client(config(url)).schemaById(3)).isEqualTo(Schema.create(Schema.Type.INT));
        assertThat(calls.get()).isEqualTo(4);
        assertThat(waits).hasSize(3);
        // full jitter: wait n is uniform in [0, min(250, 100 * 2^(n-1))]
        assertThat(waits.get(0)).isBetween(Duration.ZERO, Duration.ofMillis(100));
        assertThat(waits.get(1)).isBetween(Duration.ZERO, Duration.ofMillis(200));
        assertThat(waits.get(2)).isBetween(Duration.ZERO, Duration.ofMillis(250));
    }

    @Test
    void retryAfterIsHonouredUpToTheMaximumWait() throws IOException {
        AtomicInteger calls = new AtomicInteger();
        URI url = serve(r -> calls.incrementAndGet() == 1
                ? new Answer(429, "slow down", Map.of("Retry-After", "60"))
                : Answer.of(200, "{\"id\":1}"));
        client(config(url)).register("s", SCHEMA);
        assertThat(waits).containsExactly(Duration.ofMillis(250));
    }

    @Test
    void clientErrorsFailAtOnceWithStatusCodeAndMessage() throws IOException {
        URI url = serve(r -> Answer.of(404, "{\"error_code\":40403,\"message\":\"Schema not found\"}"));
        assertThatThrownBy(() -> client(config(url)).schemaById(99))
                .isInstanceOfSatisfying(RegistryException.class, e -> {
                    assertThat(e.status()).isEqualTo(404);
                    assertThat(e.errorCode()).isEqualTo(40403);
                    assertThat(e.retryable()).isFalse();
                    assertThat(e.notFound()).isTrue();
                })
                .hasMessageContaining("HTTP 404")
                .hasMessageContaining("error 40403")
                .hasMessageContaining("Schema not found")
                .hasMessageContaining("/schemas/ids/99");
        assertThat(seen).hasSize(1);
        assertThat(waits).isEmpty();
    }

    @Test
    void aBare404SaysTheUrlMayLackTheApiPath() throws IOException {
        URI url = serve(r -> Answer.of(404, "<html><body>Resource not found</body></html>"));
        assertThatThrownBy(() -> client(config(url)).latest("s"))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("HTTP 404")
                .hasMessageContaining("must include the API's base path")
                .hasMessageContaining("/apis/ccompat/v7");
        URI registry = serve(r -> Answer.of(404, "{\"error_code\":40401,\"message\":\"Subject not found\"}"));
        assertThatThrownBy(() -> client(config(registry)).latest("s"))
                .isInstanceOf(RegistryException.class).message().doesNotContain("base path");
    }

    @Test
    void aNonJsonErrorBodyIsQuoted() throws IOException {
        URI url = serve(r -> Answer.of(401, "<html>Unauthorized</html>"));
        assertThatThrownBy(() -> client(config(url)).latest("s"))
                .isInstanceOf(RegistryException.class).hasMessageContaining("HTTP 401: <html>Unauthorized</html>");
    }

    @Test
    void persistentServerErrorsGiveUpAfterTheRetriesAsRetryable() throws IOException {
        URI url = serve(r -> Answer.of(500, "{\"error_code\":50001,\"message\":\"store down\"}"));
        assertThatThrownBy(() -> client(config(url)).register("s", SCHEMA))
                .isInstanceOfSatisfying(RegistryException.class, e -> {
                    assertThat(e.status()).isEqualTo(500);
                    assertThat(e.retryable()).isTrue();
                })
                .hasMessageContaining("store down")
                .hasMessageContaining("gave up after 4 attempts");
        assertThat(seen).hasSize(4);
    }

    @Test
    void anUnreachableRegistryIsRetriedThenReportedAsRetryable() throws IOException {
        URI dead = deadUrl();
        assertThatThrownBy(() -> client(config(dead)).schemaById(1))
                .isInstanceOfSatisfying(RegistryException.class, e -> {
                    assertThat(e.status()).isZero();
                    assertThat(e.retryable()).isTrue();
                })
                .hasMessageContaining("ConnectException")
                .hasMessageContaining("gave up after 4 attempts");
        assertThat(waits).hasSize(3);
    }

    @Test
    void aDeadUrlFailsOverToTheNextAndStaysThere() throws IOException {
        URI live = serve(r -> Answer.of(200, "{\"id\":5}"));
        HttpSchemaRegistryClient client = client(config(deadUrl(), live));
        assertThat(client.lookup("s", SCHEMA)).isEqualTo(5);
        assertThat(client.lookup("s", SCHEMA)).isEqualTo(5);
        assertThat(waits).hasSize(1); // only the first call met the dead URL
        assertThat(seen).hasSize(2);
    }

    @Test
    void basicAuthCredentialsAreSentFromUserInfoOrTheUrl() throws IOException {
        URI url = serve(r -> Answer.of(200, "{\"compatibilityLevel\":\"FULL\"}"));
        String expected = "Basic " + Base64.getEncoder().encodeToString("alice:s3cret:x".getBytes(StandardCharsets.UTF_8));

        assertThat(client(config(url).withUserInfo("alice:s3cret:x")).compatibility("s")).isEqualTo("FULL");
        String withUserInfo = url.toString().replace("http://", "http://alice:s3cret%3Ax@");
        AvroSerdeConfig fromUrl = AvroSerdeConfig.fromMap(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, withUserInfo));
        assertThat(client(fromUrl.registry()).compatibility("s")).isEqualTo("FULL");

        assertThat(seen).extracting(s -> s.header("Authorization")).containsExactly(expected, expected);
        assertThat(seen.get(0).rawPath()).isEqualTo("/api/config/s?defaultToGlobal=true");
    }

    @Test
    void compatibilityChecksReadTheVerdictAndItsMessages() throws IOException {
        URI url = serve(r -> r.rawPath().contains("missing")
                ? Answer.of(404, "{\"error_code\":40401,\"message\":\"Subject not found\"}")
                : Answer.of(200, "{\"is_compatible\":false,\"messages\":[\"READER_FIELD_MISSING_DEFAULT_VALUE: b\"]}"));
        HttpSchemaRegistryClient client = client(config(url));
        CompatibilityResult verdict = client.checkCompatibility("s", SCHEMA);
        assertThat(verdict.compatible()).isFalse();
        assertThat(verdict.messages()).containsExactly("READER_FIELD_MISSING_DEFAULT_VALUE: b");
        assertThat(seen.get(0).rawPath()).isEqualTo("/api/compatibility/subjects/s/versions/latest?verbose=true");
        assertThat(client.checkCompatibility("missing", SCHEMA).compatible()).isTrue();
    }

    @Test
    void nonAvroSchemasAreRejectedAsUnsupported() throws IOException {
        URI url = serve(r -> Answer.of(200, "{\"schemaType\":\"PROTOBUF\",\"schema\":\"syntax = \\\"proto3\\\";\"}"));
        assertThatThrownBy(() -> client(config(url)).schemaById(8))
                .isInstanceOf(UnsupportedSchemaException.class).hasMessageContaining("PROTOBUF");
    }

    @Test
    void tlsRegistriesAreTrustedThroughTheConfiguredTrustStore(@TempDir Path dir) throws IOException {
        SelfSignedCertificate cert = SelfSignedCertificate.generate(dir);
        HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(cert.serverContext()));
        URI url = serveOn(server, "https", r -> Answer.of(200, "{\"id\":9}"));

        RegistryClientConfig trusting = config(url).withTrustStore(
                new RegistryClientConfig.TlsStore(cert.trustStore(), cert.password(), "PKCS12", null));
        assertThat(client(trusting).register("s", SCHEMA)).isEqualTo(9);

        RegistryClientConfig noRetries = config(url).withRetries(0, Duration.ZERO, Duration.ZERO);
        assertThatThrownBy(() -> client(noRetries).register("s", SCHEMA))
                .isInstanceOf(RegistryException.class).hasMessageContaining("SSLHandshakeException");
    }

    private static URI deadUrl() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return URI.create("http://127.0.0.1:" + socket.getLocalPort() + "/api");
        }
    }
}
