package io.dermcap.registry;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A REST client for the Confluent Schema Registry API (also served by Apicurio under
 * {@code /apis/ccompat/v7}), on {@code java.net.http}. Connection errors, timeouts, 5xx, 408 and
 * 429 are retried with exponential backoff and full jitter, moving to the next URL when several
 * are configured; other 4xx fail at once. No caching here: see {@link CachingSchemaRegistryClient}.
 */
public final class HttpSchemaRegistryClient implements SchemaRegistryClient {

    static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Waits between retries; replaced in tests. */
    interface Sleeper {
        void sleep(Duration duration) throws InterruptedException;
    }

    private final RegistryClientConfig config;
    private final HttpClient http;
    private final String authorization;
    private final Sleeper sleeper;
    /** index of the URL that answered last, so a dead one is not tried first every time */
    private final AtomicInteger current = new AtomicInteger();

    public HttpSchemaRegistryClient(RegistryClientConfig config) {
        this(config, d -> Thread.sleep(d.toMillis()));
    }

    HttpSchemaRegistryClient(RegistryClientConfig config, Sleeper sleeper) {
        if (config.urls().isEmpty()) {
            throw new IllegalArgumentException("no registry URL");
        }
        this.config = config;
        this.sleeper = sleeper;
        this.authorization = config.userInfo() == null ? null
                : "Basic " + Base64.getEncoder().encodeToString(config.userInfo().getBytes(StandardCharsets.UTF_8));
        HttpClient.Builder builder = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(config.connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER);
        if (config.trustStore() != null || config.keyStore() != null) {
            builder.sslContext(sslContext(config));
        }
        this.http = builder.build();
    }

    @Override
    public int register(String subject, Schema schema) {
        return call("POST", "subjects/" + segment(subject) + "/versions", schemaBody(schema)).path("id").asInt();
    }

    @Override
    public int lookup(String subject, Schema schema) {
        return call("POST", "subjects/" + segment(subject), schemaBody(schema)).path("id").asInt();
    }

    @Override
    public Schema schemaById(int id) {
        return parse(call("GET", "schemas/ids/" + id, null), "schema id " + id);
    }

    @Override
    public RegisteredSchema latest(String subject) {
        JsonNode node = call("GET", "subjects/" + segment(subject) + "/versions/latest", null);
        return new RegisteredSchema(subject, node.path("version").asInt(), node.path("id").asInt(),
                parse(node, "latest version of subject " + subject));
    }

    @Override
    public CompatibilityResult checkCompatibility(String subject, Schema schema) {
        try {
            JsonNode node = call("POST", "compatibility/subjects/" + segment(subject) + "/versions/latest?verbose=true",
                    schemaBody(schema));
            List<String> messages = new ArrayList<>();
            node.path("messages").forEach(m -> messages.add(m.asText()));
            return new CompatibilityResult(node.path("is_compatible").asBoolean(false), messages);
        } catch (RegistryException e) {
            if (e.errorCode() == RegistryException.SUBJECT_NOT_FOUND
                    || e.errorCode() == RegistryException.VERSION_NOT_FOUND) {
                return new CompatibilityResult(true, List.of("subject " + subject + " has no versions yet"));
            }
            throw e;
        }
    }

    @Override
    public String compatibility(String subject) {
        JsonNode node = call("GET", "config/" + segment(subject) + "?defaultToGlobal=true", null);
        // Confluent answers compatibilityLevel on GET; accept both spellings
        return node.has("compatibilityLevel") ? node.path("compatibilityLevel").asText()
                : node.path("compatibility").asText();
    }

    @Override
    public void setCompatibility(String subject, String level) {
        call("PUT", "config/" + segment(subject), JSON.createObjectNode().put("compatibility", level).toString());
    }

    private static String schemaBody(Schema schema) {
        return JSON.createObjectNode().put("schema", schema.toString()).toString();
    }

    private static Schema parse(JsonNode node, String what) {
        String type = node.path("schemaType").asText("AVRO");
        if (!type.equals("AVRO")) {
            throw new UnsupportedSchemaException(what + " is a " + type + " schema, not AVRO", null);
        }
        if (node.path("references").size() > 0) {
            throw new UnsupportedSchemaException(what + " uses schema references, which this serde does not resolve", null);
        }
        try {
            return new Schema.Parser().parse(node.path("schema").asText());
        } catch (SchemaParseException e) {
            throw new UnsupportedSchemaException(what + " is not a valid Avro schema: " + e.getMessage(), e);
        }
    }

    /** Percent-encodes one path segment (subjects may hold any character). */
    static String segment(String s) {
        StringBuilder out = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '.' || c == '_' || c == '~') {
                out.append(c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit((b >> 4) & 0xf, 16)))
                        .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
            }
        }
        return out.toString();
    }

    /** One API call with retries; returns the parsed JSON body of a 2xx answer. */
    private JsonNode call(String method, String path, String body) {
        List<URI> urls = config.urls();
        RegistryException last = null;
        long retryAfterMillis = 0;
        for (int attempt = 0; attempt <= config.maxRetries(); attempt++) {
            if (attempt > 0) {
                backoff(attempt, retryAfterMillis);
            }
            retryAfterMillis = 0;
            int index = Math.floorMod(current.get(), urls.size());
            URI url = resolve(urls.get(index), path);
            try {
                HttpRequest.Builder request = HttpRequest.newBuilder(url)
                        .timeout(config.readTimeout())
                        .header("Accept", CONTENT_TYPE + ", application/json")
                        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                                : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
                if (body != null) {
                    request.header("Content-Type", CONTENT_TYPE);
                }
                if (authorization != null) {
                    request.header("Authorization", authorization);
                }
                HttpResponse<byte[]> response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
                int status = response.statusCode();
                if (status / 100 == 2) {
                    return JSON.readTree(response.body());
                }
                last = error(method, url, status, response.body());
                if (!last.retryable()) {
                    throw last;
                }
                retryAfterMillis = response.headers().firstValue("Retry-After")
                        .flatMap(HttpSchemaRegistryClient::seconds).orElse(0L) * 1000;
            } catch (IOException e) {
                last = new RegistryException(0, 0, "registry " + method + " " + url + " failed: " + describe(e), true, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RegistryException(0, 0, "interrupted while calling the registry at " + url, true, e);
            }
            current.compareAndSet(index, index + 1); // try the next URL on the next attempt
        }
        throw new RegistryException(last.status(), last.errorCode(),
                last.getMessage() + " (gave up after " + (config.maxRetries() + 1) + " attempts)", true, last.getCause());
    }

    private static URI resolve(URI base, String path) {
        String b = base.toString();
        return URI.create(b.endsWith("/") ? b + path : b + "/" + path);
    }

    private static String describe(IOException e) {
        String message = e.getMessage();
        return e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }

    private static RegistryException error(String method, URI url, int status, byte[] body) {
        int code = 0;
        String message;
        try {
            JsonNode node = JSON.readTree(body);
            code = node.path("error_code").asInt(0);
            message = node.path("message").asText(null);
        } catch (IOException | RuntimeException e) {
            message = null;
        }
        if (message == null) {
            String text = new String(body, StandardCharsets.UTF_8).strip();
            message = text.length() > 200 ? text.substring(0, 200) + "…" : text;
        }
        boolean retryable = status >= 500 || status == 429 || status == 408;
        // a registry answers a missing subject or id with its own error code; a bare 404 means no
        // Confluent-compatible API is at this address, most often a URL without the API path
        String hint = status == 404 && code == 0 ? " (no Confluent-compatible registry API answers at this path: "
                + "schema.registry.url must include the API's base path, e.g. http://host:8080/apis/ccompat/v7 for "
                + "Apicurio Registry; Confluent Schema Registry and Karapace serve it at the root)" : "";
        return new RegistryException(status, code, "registry " + method + " " + url + ": HTTP " + status
                + (code != 0 ? " (error " + code + ")" : "") + ": " + message + hint, retryable, null);
    }

    private static Optional<Long> seconds(String header) {
        try {
            return Optional.of(Long.parseLong(header.trim()));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** Full jitter: a uniform wait in [0, min(max, wait * 2^(attempt-1))], at least what Retry-After asks. */
    private void backoff(int attempt, long retryAfterMillis) {
        long max = config.retryMaxWait().toMillis();
        long cap = Math.min(max, config.retryWait().toMillis() * (1L << Math.min(attempt - 1, 30)));
        long wait = cap <= 0 ? 0 : ThreadLocalRandom.current().nextLong(cap + 1);
        wait = Math.max(wait, Math.min(retryAfterMillis, max));
        try {
            sleeper.sleep(Duration.ofMillis(wait));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException(0, 0, "interrupted while waiting to retry the registry", true, e);
        }
    }

    private static SSLContext sslContext(RegistryClientConfig config) {
        try {
            TrustManagerFactory tmf = null;
            if (config.trustStore() != null) {
                tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(load(config.trustStore()));
            }
            KeyManagerFactory kmf = null;
            if (config.keyStore() != null) {
                RegistryClientConfig.TlsStore ks = config.keyStore();
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                String keyPassword = ks.keyPassword() != null ? ks.keyPassword() : ks.password();
                kmf.init(load(ks), keyPassword == null ? null : keyPassword.toCharArray());
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf == null ? null : kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("cannot load the registry's TLS stores: " + e.getMessage(), e);
        }
    }

    private static KeyStore load(RegistryClientConfig.TlsStore store) throws GeneralSecurityException, IOException {
        KeyStore ks = KeyStore.getInstance(store.type());
        try (InputStream in = Files.newInputStream(store.location())) {
            ks.load(in, store.password() == null ? null : store.password().toCharArray());
        }
        return ks;
    }

    @Override
    public String toString() {
        return "HttpSchemaRegistryClient" + config.urls();
    }
}
