package io.dermcap.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.dermcap.image.ImageException;
import io.dermcap.image.ImageLimits;
import io.dermcap.image.Thumbnail;
import io.dermcap.storage.FetchException;
import io.dermcap.storage.ObjectFetcher;
import io.dermcap.topology.AuditedOutcome;
import io.dermcap.topology.OutcomeStores;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.regex.Pattern;

/**
 * The audit endpoint on the JDK's HTTP(S) server: the page ({@code /}, {@code /audit.css},
 * {@code /audit.js}: no data, no authentication) and the JSON API, every call of which needs a
 * client's credentials:
 * <ul>
 *   <li>{@code GET /v1/outcomes/{request_id}}: every outcome of a request, newest first (404: none);</li>
 *   <li>{@code GET /v1/outcomes?image_sha256=HEX} or {@code ?passthrough.FIELD=VALUE}, with
 *       {@code limit} (1..100, default 20) and {@code cursor} (a previous page's {@code next_cursor});</li>
 *   <li>{@code GET /v1/latest?limit=&cursor=}: the latest outcomes of all requests;</li>
 *   <li>{@code GET /v1/info}: this instance, the indexed passthrough field, the retention;</li>
 *   <li>{@code GET /v1/outcomes/{request_id}/thumbnail?position=P}: the captioned image, fetched
 *       through the storage fetcher (allow-lists, byte limit, the event's sha256 checked), decoded
 *       under the pixel limit and scaled to a PNG in memory.</li>
 * </ul>
 * Bad input gets a 4xx with a JSON {@code error} and {@code message}, never a stack trace; an
 * unanswerable lookup 503 with {@code Retry-After}; a missing or wrong credential 401 and nothing
 * else; a client over its rate 429.
 */
public final class AuditServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AuditServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    static final int MAX_ID_LENGTH = 256;
    static final int MAX_LIMIT = 100;
    static final int DEFAULT_LIMIT = 20;
    static final int THUMBNAIL_SIDE = 320;
    private static final int MAX_URI_LENGTH = 2048;
    private static final int RETRY_AFTER_SECONDS = 2;
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern POSITION = Pattern.compile("[0-9]{1,19}-[0-9]{1,10}-[0-9]{1,19}");
    private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
            + "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";
    private static final Map<String, String> STATIC = Map.of(
            "/", "text/html; charset=utf-8",
            "/audit.css", "text/css; charset=utf-8",
            "/audit.js", "text/javascript; charset=utf-8");

    /** What the endpoint looks outcomes up in; set once the streams exist. */
    public interface Backend {
        /** Lookups for a client's request (routed across instances). */
        OutcomeLookup cluster();

        /** Lookups for another instance's {@value ClusterOutcomes#SCOPE} request. */
        OutcomeLookup local(boolean stale);

        /** One instance alone: its lookups are local ones. */
        static Backend of(OutcomeLookup only) {
            return new Backend() {
                @Override
                public OutcomeLookup cluster() {
                    return only;
                }

                @Override
                public OutcomeLookup local(boolean stale) {
                    return only;
                }
            };
        }
    }

    private final AuditOptions options;
    private final HttpServer server;
    private final ExecutorService executor;
    private final RateLimiter rates;
    private final AccessLog access;
    private final ObjectFetcher images;
    private final ImageLimits limits;
    private final String instanceId;
    private final SSLContext tls;
    private final Semaphore thumbnails = new Semaphore(2);
    private final Map<String, byte[]> resources = new LinkedHashMap<>();
    private volatile Backend backend;

    private AuditServer(AuditOptions options, ObjectFetcher images, ImageLimits limits, String instanceId) {
        this.options = options;
        this.images = images;
        this.limits = limits;
        this.instanceId = instanceId;
        this.rates = new RateLimiter(options.perMinute(), System::nanoTime);
        this.access = new AccessLog(options.accessLog());
        this.tls = options.keyStore() == null ? null : Tls.context(options.keyStore());
        for (String path : STATIC.keySet()) {
            resources.put(path, resource(path.equals("/") ? "audit.html" : path.substring(1)));
        }
        try {
            InetSocketAddress address = new InetSocketAddress(options.host(), options.port());
            if (tls == null) {
                server = HttpServer.create(address, 64);
            } else {
                HttpsServer https = HttpsServer.create(address, 64);
                https.setHttpsConfigurator(new HttpsConfigurator(tls));
                server = https;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + options.host() + ":" + options.port(), e);
        }
        executor = Executors.newFixedThreadPool(8, r -> {
            Thread t = new Thread(r, "dermcap-audit-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", this::handle);
    }

    /**
     * Starts listening; lookups answer 503 until {@link #attach} is called.
     *
     * @param images the service's storage fetcher (its allow-lists and byte limit apply to thumbnails)
     */
    public static AuditServer start(AuditOptions options, ObjectFetcher images, ImageLimits limits, String instanceId) {
        AuditServer s = new AuditServer(options, images, limits, instanceId);
        s.server.start();
        return s;
    }

    public void attach(Backend backend) {
        this.backend = backend;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** The TLS context (for calls to other instances), or null for plain http. */
    public SSLContext tls() {
        return tls;
    }

    /** The page's address, for people. */
    public String url() {
        String host = options.advertisedHost();
        return (tls == null ? "http" : "https") + "://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port() + "/";
    }

    /** A response on its way out: status, content type, body. */
    private record Reply(int status, String type, byte[] body, Map<String, String> headers, int outcomes) {
        static Reply json(int status, Object body, int outcomes) {
            try {
                return new Reply(status, "application/json; charset=utf-8", JSON.writeValueAsBytes(body), Map.of(), outcomes);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        static Reply error(int status, String error, String message) {
            return json(status, Map.of("error", error, "message", message), 0);
        }

        Reply with(String header, String value) {
            Map<String, String> h = new LinkedHashMap<>(headers);
            h.put(header, value);
            return new Reply(status, type, body, h, outcomes);
        }
    }

    /** A 4xx for the caller, with a message that says what to change. */
    private static final class BadRequest extends Exception {
        final int status;

        BadRequest(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    private void handle(HttpExchange ex) {
        long started = System.nanoTime();
        String remote = ex.getRemoteAddress().getAddress().getHostAddress();
        String client = "-";
        String scope = "-";
        AccessLog.Lookup lookup = AccessLog.Lookup.NONE;
        Reply reply;
        try {
            String method = ex.getRequestMethod();
            String rawPath = ex.getRequestURI().getRawPath();
            String rawQuery = ex.getRequestURI().getRawQuery();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                reply = Reply.error(405, "method_not_allowed", "only GET and HEAD").with("Allow", "GET, HEAD");
            } else if (rawPath == null || ex.getRequestURI().toString().length() > MAX_URI_LENGTH) {
                reply = Reply.error(414, "uri_too_long", "the URI is longer than " + MAX_URI_LENGTH + " characters");
            } else if (STATIC.containsKey(rawPath)) {
                long wait = rates.acquire("addr:" + remote);
                reply = wait > 0 ? tooMany(wait) : page(rawPath, rawQuery);
            } else if (!rawPath.startsWith("/v1/")) {
                reply = Reply.error(404, "not_found", "no such page; the API is under /v1/");
            } else {
                client = authenticate(ex.getRequestHeaders().getFirst("Authorization"));
                long wait = rates.acquire(client == null ? "addr:" + remote : "client:" + client);
                if (wait > 0) {
                    reply = tooMany(wait);
                } else if (client == null) {
                    client = "-";
                    reply = Reply.error(401, "unauthorized", "credentials required")
                            .with("WWW-Authenticate", "Bearer realm=\"dermcap-audit\"");
                } else {
                    String s = ex.getRequestHeaders().getFirst(ClusterOutcomes.SCOPE);
                    scope = s == null ? "cluster" : s.equals(ClusterOutcomes.LOCAL_STALE) ? s : ClusterOutcomes.LOCAL;
                    Request request = Request.parse(rawPath, rawQuery);
                    lookup = request.lookup();
                    reply = answer(request, scope, ex.getRequestHeaders().getFirst("Authorization"));
                }
            }
        } catch (BadRequest e) {
            reply = Reply.error(e.status, "bad_request", e.getMessage());
        } catch (Unavailable e) {
            reply = Reply.error(503, "unavailable", e.getMessage()).with("Retry-After", Integer.toString(RETRY_AFTER_SECONDS));
        } catch (RuntimeException e) {
            log.error("event=audit_internal_error error={}", e.getClass().getName());
            reply = Reply.error(500, "internal_error", "the audit endpoint failed; see the service log");
        }
        send(ex, reply);
        access.write(client, remote, ex.getRequestMethod(), lookup, scope, reply.status(), reply.outcomes(),
                (System.nanoTime() - started) / 1000);
    }

    private static Reply tooMany(long seconds) {
        return Reply.error(429, "too_many_requests", "over this client's request rate").with("Retry-After", Long.toString(seconds));
    }

    private Reply page(String path, String query) {
        if (query != null) {
            return Reply.error(400, "bad_request", "the page takes no parameters");
        }
        Reply r = new Reply(200, STATIC.get(path), resources.get(path), Map.of(), 0);
        return path.equals("/") ? r.with("Content-Security-Policy", CSP) : r;
    }

    /** The client's name, or null when the credentials are missing or wrong. */
    private String authenticate(String header) {
        if (header == null) {
            return null;
        }
        if (header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return options.credentials().bearer(header.substring(7).strip());
        }
        if (header.regionMatches(true, 0, "Basic ", 0, 6)) {
            try {
                String pair = new String(Base64.getDecoder().decode(header.substring(6).strip()), StandardCharsets.UTF_8);
                int colon = pair.indexOf(':');
                return colon < 0 ? null : options.credentials().basic(pair.substring(0, colon), pair.substring(colon + 1));
            } catch (IllegalArgumentException notBase64) {
                return null;
            }
        }
        return null;
    }

    private Reply answer(Request r, String scope, String authorization) throws Unavailable, BadRequest {
        Backend b = backend;
        if (b == null) {
            throw new Unavailable("the service is starting");
        }
        OutcomeLookup lookup = scope.equals("cluster") ? b.cluster() : b.local(scope.equals(ClusterOutcomes.LOCAL_STALE));
        switch (r.kind) {
            case INFO -> {
                OutcomeStores.PassthroughField field = options.stores().passthrough();
                Map<String, Object> info = new LinkedHashMap<>();
                info.put("instance", instanceId);
                info.put("passthrough_field", field == null ? null : field.name());
                info.put("retention_ms", options.stores().retention().toMillis());
                return Reply.json(200, info, 0);
            }
            case REQUEST -> {
                List<ObjectNode> found = lookup.byRequest(r.key, authorization);
                if (found.isEmpty()) {
                    return Reply.error(404, "not_found", "no outcome is stored for this request id "
                            + "(never seen, or older than the retention)");
                }
                ObjectNode body = JSON.createObjectNode().put("request_id", r.key).put("served_by", instanceId);
                ArrayNode outcomes = body.putArray("outcomes");
                found.forEach(outcomes::add);
                return Reply.json(200, body, found.size());
            }
            case THUMBNAIL -> {
                return thumbnail(lookup.byRequest(r.key, authorization), r.position);
            }
            case INDEX -> {
                if (r.index == OutcomeLookup.Index.PASSTHROUGH) {
                    OutcomeStores.PassthroughField field = options.stores().passthrough();
                    if (field == null || !field.name().equals(r.field)) {
                        throw new BadRequest(400, "passthrough field '" + r.field + "' is not indexed"
                                + (field == null ? " (none is: set audit.index.passthrough)" : "; the indexed one is '" + field.name() + "'"));
                    }
                }
                return page(lookup.byIndex(r.index, r.key, r.cursor, r.limit, authorization));
            }
            default -> {
                return page(lookup.latest(r.cursor, r.limit, authorization));
            }
        }
    }

    private Reply page(Page p) {
        ObjectNode body = JSON.createObjectNode().put("served_by", instanceId);
        ArrayNode outcomes = body.putArray("outcomes");
        p.outcomes().forEach(outcomes::add);
        body.put("next_cursor", p.nextCursor());
        return Reply.json(200, body, p.outcomes().size());
    }

    private Reply thumbnail(List<ObjectNode> outcomes, String position) {
        ObjectNode chosen = outcomes.stream()
                .filter(o -> o.path("kind").asText().equals("caption"))
                .filter(o -> position == null || o.path("position").asText().equals(position))
                .findFirst().orElse(null);
        if (chosen == null) {
            return Reply.error(404, "not_found", "no captioned image for this request id" + (position == null ? "" : " at that position"));
        }
        String uri = chosen.path("event").path("image_uri").asText();
        String sha = chosen.path("event").path("image_sha256").asText();
        if (!thumbnails.tryAcquire()) {
            return Reply.error(503, "busy", "other thumbnails are being made").with("Retry-After", "1");
        }
        try {
            byte[] png = Thumbnail.png(images.fetch(uri, sha).bytes(), limits, THUMBNAIL_SIDE);
            return new Reply(200, "image/png", png, Map.of(), 1);
        } catch (FetchException e) {
            return Reply.error(502, "image_unavailable", "the image could not be fetched: " + e.reason());
        } catch (ImageException e) {
            return Reply.error(502, "image_unreadable", "the image could not be decoded: " + e.reason());
        } finally {
            thumbnails.release();
        }
    }

    private static void send(HttpExchange ex, Reply reply) {
        try (ex) {
            var h = ex.getResponseHeaders();
            h.set("Content-Type", reply.type());
            h.set("Cache-Control", "no-store");
            h.set("X-Content-Type-Options", "nosniff");
            h.set("Referrer-Policy", "no-referrer");
            h.set("X-Frame-Options", "DENY");
            reply.headers().forEach(h::set);
            if (ex.getRequestMethod().equals("HEAD")) {
                ex.sendResponseHeaders(reply.status(), -1);
                return;
            }
            ex.sendResponseHeaders(reply.status(), reply.body().length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(reply.body());
            }
        } catch (IOException e) {
            log.debug("event=audit_reply_failed error={}", e.getClass().getSimpleName());
        }
    }

    private static byte[] resource(String name) {
        try (InputStream in = AuditServer.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource io/dermcap/audit/" + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A parsed and checked API request. */
    private record Request(Kind kind, String key, OutcomeLookup.Index index, String field, int limit,
                           AuditedOutcome.Position cursor, String position) {

        enum Kind { INFO, REQUEST, THUMBNAIL, INDEX, LATEST }

        AccessLog.Lookup lookup() {
            return switch (kind) {
                case REQUEST -> new AccessLog.Lookup("request_id", key);
                case THUMBNAIL -> new AccessLog.Lookup("thumbnail", key);
                case INDEX -> index == OutcomeLookup.Index.IMAGE ? new AccessLog.Lookup("image_sha256", key)
                        : AccessLog.Lookup.hashed("passthrough." + field, key);
                case LATEST -> new AccessLog.Lookup("latest", "-");
                case INFO -> new AccessLog.Lookup("info", "-");
            };
        }

        static Request parse(String rawPath, String rawQuery) throws BadRequest {
            Map<String, String> q = query(rawQuery);
            if (rawPath.equals("/v1/info")) {
                allow(q, Set.of());
                return new Request(Kind.INFO, null, null, null, 0, null, null);
            }
            if (rawPath.equals("/v1/latest")) {
                allow(q, Set.of("limit", "cursor"));
                return new Request(Kind.LATEST, null, null, null, limit(q), cursor(q), null);
            }
            if (rawPath.equals("/v1/outcomes")) {
                String sha = q.get("image_sha256");
                List<String> pt = q.keySet().stream().filter(k -> k.startsWith("passthrough.")).toList();
                if ((sha == null ? 0 : 1) + pt.size() != 1) {
                    throw new BadRequest(400, "give exactly one of image_sha256=HEX or passthrough.FIELD=VALUE");
                }
                if (sha != null) {
                    allow(q, Set.of("image_sha256", "limit", "cursor"));
                    if (!SHA256_HEX.matcher(sha).matches()) {
                        throw new BadRequest(400, "image_sha256 must be 64 lower-case hex digits");
                    }
                    return new Request(Kind.INDEX, sha, OutcomeLookup.Index.IMAGE, null, limit(q), cursor(q), null);
                }
                String name = pt.get(0);
                allow(q, Set.of(name, "limit", "cursor"));
                String value = q.get(name);
                if (value.isEmpty() || value.length() > MAX_ID_LENGTH || hasControl(value)) {
                    throw new BadRequest(400, name + " must be 1 to " + MAX_ID_LENGTH + " characters without control characters");
                }
                return new Request(Kind.INDEX, value, OutcomeLookup.Index.PASSTHROUGH, name.substring("passthrough.".length()),
                        limit(q), cursor(q), null);
            }
            if (rawPath.startsWith("/v1/outcomes/")) {
                String rest = rawPath.substring("/v1/outcomes/".length());
                String[] segments = rest.split("/", -1);
                if (segments.length == 2 && segments[1].equals("thumbnail")) {
                    allow(q, Set.of("position"));
                    String position = q.get("position");
                    if (position != null && !POSITION.matcher(position).matches()) {
                        throw new BadRequest(400, "position must be <epoch ms>-<partition>-<offset>");
                    }
                    return new Request(Kind.THUMBNAIL, requestId(segments[0]), null, null, 0, null, position);
                }
                if (segments.length != 1) {
                    throw new BadRequest(400, "a request id is one path segment (and cannot contain '/', encoded or not)");
                }
                allow(q, Set.of());
                return new Request(Kind.REQUEST, requestId(segments[0]), null, null, 0, null, null);
            }
            throw new BadRequest(404, "no such API path; see /v1/outcomes/{request_id}, /v1/outcomes?image_sha256=, /v1/latest");
        }

        private static String requestId(String raw) throws BadRequest {
            if (raw.length() > 3 * MAX_ID_LENGTH) {
                throw new BadRequest(400, "the request id is longer than " + MAX_ID_LENGTH + " characters");
            }
            String id = decode(raw);
            if (id.isEmpty() || id.length() > MAX_ID_LENGTH) {
                throw new BadRequest(400, "a request id has 1 to " + MAX_ID_LENGTH + " characters");
            }
            if (hasControl(id) || id.contains("/") || id.contains("\\") || id.equals(".") || id.equals("..")) {
                throw new BadRequest(400, "a request id cannot contain control characters, '/' or '\\', nor be '.' or '..'");
            }
            return id;
        }

        private static void allow(Map<String, String> q, Set<String> known) throws BadRequest {
            for (String k : q.keySet()) {
                if (!known.contains(k)) {
                    throw new BadRequest(400, "unknown parameter '" + abbreviate(k) + "'"
                            + (known.isEmpty() ? "; this path takes none" : "; known: " + new java.util.TreeSet<>(known)));
                }
            }
        }

        private static int limit(Map<String, String> q) throws BadRequest {
            String raw = q.get("limit");
            if (raw == null) {
                return DEFAULT_LIMIT;
            }
            if (!raw.matches("[0-9]{1,4}") || Integer.parseInt(raw) < 1 || Integer.parseInt(raw) > MAX_LIMIT) {
                throw new BadRequest(400, "limit must be an integer from 1 to " + MAX_LIMIT);
            }
            return Integer.parseInt(raw);
        }

        private static AuditedOutcome.Position cursor(Map<String, String> q) throws BadRequest {
            String raw = q.get("cursor");
            if (raw == null) {
                return null;
            }
            if (!POSITION.matcher(raw).matches()) {
                throw new BadRequest(400, "cursor must be a next_cursor from a previous page");
            }
            try {
                return AuditedOutcome.Position.parse(raw);
            } catch (IllegalArgumentException e) {
                throw new BadRequest(400, "cursor must be a next_cursor from a previous page");
            }
        }

        private static Map<String, String> query(String raw) throws BadRequest {
            Map<String, String> out = new LinkedHashMap<>();
            if (raw == null || raw.isEmpty()) {
                return out;
            }
            String[] pairs = raw.split("&", -1);
            if (pairs.length > 8) {
                throw new BadRequest(400, "too many parameters");
            }
            for (String pair : pairs) {
                int eq = pair.indexOf('=');
                String name = decode(eq < 0 ? pair : pair.substring(0, eq));
                String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
                if (out.put(name, value) != null) {
                    throw new BadRequest(400, "parameter '" + abbreviate(name) + "' is given twice");
                }
            }
            return out;
        }

        /** Percent-decoding as in a URI (a '+' stays a '+'); malformed escapes or UTF-8 are refused. */
        private static String decode(String s) throws BadRequest {
            if (s.indexOf('%') < 0) {
                return s;
            }
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '%') {
                    if (i + 2 >= s.length()) {
                        throw new BadRequest(400, "malformed percent-encoding");
                    }
                    int hi = Character.digit(s.charAt(i + 1), 16);
                    int lo = Character.digit(s.charAt(i + 2), 16);
                    if (hi < 0 || lo < 0) {
                        throw new BadRequest(400, "malformed percent-encoding");
                    }
                    out.write(hi << 4 | lo);
                    i += 2;
                } else {
                    byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                    out.write(b, 0, b.length);
                }
            }
            try {
                return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(out.toByteArray())).toString();
            } catch (java.nio.charset.CharacterCodingException e) {
                throw new BadRequest(400, "percent-encoding that is not UTF-8");
            }
        }

        private static boolean hasControl(String s) {
            return s.chars().anyMatch(Character::isISOControl);
        }

        private static String abbreviate(String s) {
            String shown = s.replaceAll("\\p{Cntrl}", "?");
            return shown.length() > 40 ? shown.substring(0, 40) + "…" : shown;
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
        try {
            access.close();
        } catch (IOException e) {
            log.warn("event=close_failed component=audit_access_log error={}", e.getClass().getSimpleName());
        }
    }
}
