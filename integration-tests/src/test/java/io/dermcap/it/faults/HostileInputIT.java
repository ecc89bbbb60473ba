package io.dermcap.it.faults;

import io.dermcap.events.CaptionRequest;
import io.dermcap.events.ErrorCode;
import io.dermcap.events.GenerationOverrides;
import io.dermcap.events.Passthrough;
import io.dermcap.it.service.ChildService;
import io.dermcap.it.service.Outcomes;
import io.dermcap.it.service.ServiceScenario;
import io.dermcap.registry.AvroSerde;
import io.dermcap.registry.SchemaRegistryClient;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hostile and odd inputs against a running service: each kind is sent once and must produce its
 * own failure code with a message that says what was wrong (or, for odd but valid images, a
 * caption), while the service keeps running: no stream thread fails, and ordinary requests sent
 * afterwards are captioned. The catalogue below is the table in docs/reliability.md (checked by
 * this test, regenerated with -Dreliability.write=true).
 * <p>
 * Two services: the main one keeps the default SSRF guard (public addresses only) and allow-lists
 * the names and addresses of the SSRF cases, so that only the address check refuses them; the
 * second allows loopback for one host name, {@code localhost}, where a local https server
 * redirects to forbidden targets and misbehaves.
 */
class HostileInputIT {

    private static final Duration TIMEOUT = Duration.ofMinutes(5);
    private static final long MAX_BYTES = 2_000_000;

    /** How one hostile record is produced: its record key, and its value bytes (null: a tombstone). */
    private interface Sender {
        byte[] value(HostileInputIT t, String key) throws Exception;
    }

    /**
     * One kind of hostile input.
     *
     * @param code     the failure code it must produce, or null for a caption
     * @param contains what the failure message must say (empty for a caption)
     */
    private record Case(String category, String kind, String input, ErrorCode code, String contains, String key, Sender sender) {
        String expected() {
            return code == null ? "caption" : code.name();
        }
    }

    private static HostileHttpsServer https;
    private ServiceScenario scenario;
    private Traffic traffic;
    private AvroSerde<CaptionRequest> serde;

    @BeforeAll
    static void startHttps() throws Exception {
        https = new HostileHttpsServer(Files.createTempDirectory("dermcap-hostile-"), HostileImages.lesionPng());
    }

    @AfterAll
    static void stopHttps() {
        https.close();
    }

    // ---- the catalogue --------------------------------------------------------------------

    private static final List<Case> MAIN = new ArrayList<>();
    private static final List<Case> REDIRECTS = new ArrayList<>();

    private static void add(List<Case> to, String category, String kind, String input, ErrorCode code, String contains, Sender s) {
        to.add(new Case(category, kind, input, code, contains, kind, s));
    }

    static {
        ErrorCode undeserializable = ErrorCode.UNDESERIALIZABLE_RECORD;
        add(MAIN, "record", "not-avro", "JSON text instead of an Avro record", undeserializable, "WRONG_MAGIC_BYTE",
                (t, k) -> "{\"request_id\":\"x\",\"image_uri\":\"s3://a/b.png\"}".getBytes(StandardCharsets.UTF_8));
        add(MAIN, "record", "short-header", "3 bytes, shorter than the 5-byte header", undeserializable, "TRUNCATED",
                (t, k) -> new byte[] {0, 0, 0});
        add(MAIN, "record", "unknown-schema-id", "a header naming schema id 2147483647", undeserializable, "UNKNOWN_SCHEMA_ID",
                (t, k) -> new byte[] {0, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff, 2, 'x'});
        add(MAIN, "record", "non-avro-schema", "a record framed with the id of a JSON Schema", undeserializable, "NOT_AVRO",
                (t, k) -> t.framedWithJsonSchema());
        add(MAIN, "record", "wrong-record-schema", "a registered record of another type (LabResult)", undeserializable,
                "INCOMPATIBLE_SCHEMA", (t, k) -> t.labResult());
        add(MAIN, "record", "missing-required-field", "a CaptionRequest schema without image_uri", undeserializable,
                "INCOMPATIBLE_SCHEMA", (t, k) -> t.withoutImageUri(k));
        add(MAIN, "record", "corrupt-body", "the request schema's id, then random bytes", undeserializable, "CORRUPT_BODY",
                (t, k) -> t.corruptBody());
        add(MAIN, "record", "truncated-body", "a request cut in half", undeserializable, "CORRUPT_BODY",
                (t, k) -> Arrays.copyOf(t.bytes(t.request(k, t.imageUri())), 30));
        add(MAIN, "record", "trailing-bytes", "a request followed by 3 more bytes", undeserializable, "bytes left over",
                (t, k) -> {
                    byte[] r = t.bytes(t.request(k, t.imageUri()));
                    byte[] more = Arrays.copyOf(r, r.length + 3);
                    more[r.length] = 1;
                    return more;
                });
        add(MAIN, "record", "oversized-garbage", "1,048,000 bytes that are not a record (just under 1 MiB)", undeserializable,
                "raw value cut to its first 65536 of 1048000 bytes", (t, k) -> randomBytes(1_048_000, (byte) 'x'));
        add(MAIN, "record", "tombstone", "a record with no value", ErrorCode.INVALID_REQUEST, "no value (a tombstone)",
                (t, k) -> null);

        add(MAIN, "field", "empty-request-id", "request_id \"\"", ErrorCode.INVALID_REQUEST, "request_id is empty",
                (t, k) -> t.bytes(t.request("", t.imageUri())));
        String longId = "oversized-request-id-" + "x".repeat(300);
        MAIN.add(new Case("field", "oversized-request-id", "request_id of 321 characters", ErrorCode.INVALID_REQUEST,
                "request_id is longer than 256", longId, (t, k) -> t.bytes(t.request(longId, t.imageUri()))));
        add(MAIN, "field", "empty-image-uri", "image_uri \"\"", ErrorCode.INVALID_REQUEST, "image_uri is empty",
                (t, k) -> t.bytes(t.request(k, "")));
        add(MAIN, "field", "oversized-image-uri", "image_uri of 9,000 characters", ErrorCode.INVALID_REQUEST,
                "image_uri is longer than 8192", (t, k) -> t.bytes(t.request(k, t.imageUri() + "x".repeat(9000))));
        // just under the broker's record limit (1 MB): an outcome that copied them could not be written
        add(MAIN, "field", "oversized-passthrough", "passthrough ids of 1,047,000 bytes (a record just under 1 MiB)",
                ErrorCode.INVALID_REQUEST, "over the limit of 65536 (left out of this event)", (t, k) -> {
                    CaptionRequest r = t.request(k, t.imageUri());
                    r.setIds(Passthrough.newBuilder(r.getIds()).setCorrelation(Map.of("note", "y".repeat(1_047_000))).build());
                    return t.bytes(r);
                });
        add(MAIN, "field", "malformed-sha256", "expected_sha256 \"not-a-digest\"", ErrorCode.INVALID_REQUEST,
                "expected_sha256 must be 64 hexadecimal characters", (t, k) -> {
                    CaptionRequest r = t.request(k, t.imageUri());
                    r.setExpectedSha256("not-a-digest");
                    return t.bytes(r);
                });
        add(MAIN, "field", "over-long-prompt", "a prompt of 20,000 characters", ErrorCode.INVALID_REQUEST,
                "positions, over the model's", (t, k) -> t.overriding(k, "the lesion shows " .repeat(1200), null, null, null));
        add(MAIN, "field", "num-beams-zero", "num_beams 0", ErrorCode.INVALID_REQUEST, "num_beams must be between 1 and",
                (t, k) -> t.overriding(k, null, 0, null, null));
        add(MAIN, "field", "num-beams-huge", "num_beams 10,000", ErrorCode.INVALID_REQUEST, "num_beams must be between 1 and",
                (t, k) -> t.overriding(k, null, 10_000, null, null));
        add(MAIN, "field", "max-new-tokens-negative", "max_new_tokens -5", ErrorCode.INVALID_REQUEST,
                "max_new_tokens must be between 1 and", (t, k) -> t.overriding(k, null, null, -5, null));
        add(MAIN, "field", "min-over-max", "min_new_tokens 50 with max_new_tokens 10", ErrorCode.INVALID_REQUEST,
                "min_new_tokens must be between 0 and max_new_tokens (10)", (t, k) -> t.overriding(k, null, null, 10, 50));

        add(MAIN, "uri", "uri-syntax", "s3://bucket/a b.png (a space)", ErrorCode.INVALID_REQUEST, "not a valid URI",
                (t, k) -> t.bytes(t.request(k, t.scenario.uri("a b.png"))));
        add(MAIN, "uri", "uri-no-scheme", "lesions/0.png", ErrorCode.INVALID_REQUEST, "has no scheme",
                (t, k) -> t.bytes(t.request(k, "lesions/0.png")));
        add(MAIN, "uri", "uri-unsupported-scheme", "ftp://images.example.org/x.png", ErrorCode.INVALID_REQUEST,
                "unsupported scheme 'ftp'", (t, k) -> t.bytes(t.request(k, "ftp://images.example.org/x.png")));
        add(MAIN, "uri", "uri-non-canonical-ip", "https://2130706433/x.png (127.0.0.1 as a number)", ErrorCode.INVALID_REQUEST,
                "non-canonical IPv4 literal", (t, k) -> t.bytes(t.request(k, "https://2130706433/x.png")));
        add(MAIN, "uri", "path-traversal", "s3://bucket/lesions/../../etc/passwd", ErrorCode.URI_NOT_ALLOWED,
                "contains a '.' or '..' segment", (t, k) -> t.bytes(t.request(k, t.scenario.uri("lesions/../../etc/passwd"))));
        add(MAIN, "uri", "file-disabled", "file:///etc/passwd with file:// off", ErrorCode.URI_NOT_ALLOWED,
                "file:// URIs are disabled", (t, k) -> t.bytes(t.request(k, "file:///etc/passwd")));
        add(MAIN, "uri", "bucket-not-allowed", "s3://another-hospital/x.png", ErrorCode.URI_NOT_ALLOWED,
                "bucket 'another-hospital' is not allow-listed", (t, k) -> t.bytes(t.request(k, "s3://another-hospital/x.png")));
        add(MAIN, "uri", "host-not-allowed", "https://images.example.org/x.png", ErrorCode.URI_NOT_ALLOWED,
                "host 'images.example.org' is not allow-listed", (t, k) -> t.bytes(t.request(k, "https://images.example.org/x.png")));
        add(MAIN, "uri", "plain-http", "http://images.example.org/x.png", ErrorCode.URI_NOT_ALLOWED,
                "plain http:// is disabled", (t, k) -> t.bytes(t.request(k, "http://images.example.org/x.png")));
        add(MAIN, "uri", "credentials-in-uri", "https://admin:hunter2@images.example.org/x.png", ErrorCode.URI_NOT_ALLOWED,
                "credentials (user info) in URIs are not allowed", (t, k) -> t.bytes(t.request(k,
                        "https://admin:hunter2@images.example.org/x.png")));

        add(MAIN, "ssrf", "ssrf-metadata-ip", "https://169.254.169.254/latest/meta-data/", ErrorCode.URI_NOT_ALLOWED,
                "address 169.254.169.254 is METADATA", (t, k) -> t.bytes(t.request(k, "https://169.254.169.254/latest/meta-data/")));
        add(MAIN, "ssrf", "ssrf-metadata-name", "https://metadata.google.internal/computeMetadata/v1/", ErrorCode.URI_NOT_ALLOWED,
                "is a cloud metadata endpoint", (t, k) -> t.bytes(t.request(k, "https://metadata.google.internal/computeMetadata/v1/")));
        add(MAIN, "ssrf", "ssrf-metadata-ipv6-mapped", "https://[::ffff:169.254.169.254]/", ErrorCode.URI_NOT_ALLOWED,
                "is METADATA", (t, k) -> t.bytes(t.request(k, "https://[::ffff:169.254.169.254]/latest/meta-data/")));
        add(MAIN, "ssrf", "ssrf-link-local", "https://169.254.10.20/x.png", ErrorCode.URI_NOT_ALLOWED,
                "address 169.254.10.20 is LINK_LOCAL", (t, k) -> t.bytes(t.request(k, "https://169.254.10.20/x.png")));
        add(MAIN, "ssrf", "ssrf-loopback-ip", "https://127.0.0.1:PORT/lesion.png (a live server)", ErrorCode.URI_NOT_ALLOWED,
                "address 127.0.0.1 is LOOPBACK", (t, k) -> t.bytes(t.request(k, "https://127.0.0.1:" + https.port() + "/lesion.png")));
        add(MAIN, "ssrf", "ssrf-loopback-ipv6", "https://[::1]:PORT/lesion.png", ErrorCode.URI_NOT_ALLOWED,
                "is LOOPBACK", (t, k) -> t.bytes(t.request(k, "https://[::1]:" + https.port() + "/lesion.png")));
        add(MAIN, "ssrf", "ssrf-loopback-name", "https://localhost:PORT/lesion.png (allow-listed name, loopback address)",
                ErrorCode.URI_NOT_ALLOWED, "host 'localhost' resolves to 127.0.0.1, a LOOPBACK address",
                (t, k) -> t.bytes(t.request(k, https.base() + "/lesion.png")));
        add(MAIN, "ssrf", "ssrf-private-10", "https://10.0.0.5/x.png", ErrorCode.URI_NOT_ALLOWED, "address 10.0.0.5 is PRIVATE",
                (t, k) -> t.bytes(t.request(k, "https://10.0.0.5/x.png")));
        add(MAIN, "ssrf", "ssrf-private-172", "https://172.16.5.4/x.png", ErrorCode.URI_NOT_ALLOWED, "address 172.16.5.4 is PRIVATE",
                (t, k) -> t.bytes(t.request(k, "https://172.16.5.4/x.png")));
        add(MAIN, "ssrf", "ssrf-private-192", "https://192.168.1.20/x.png", ErrorCode.URI_NOT_ALLOWED,
                "address 192.168.1.20 is PRIVATE", (t, k) -> t.bytes(t.request(k, "https://192.168.1.20/x.png")));

        add(MAIN, "object", "missing-object", "an s3 key that does not exist", ErrorCode.OBJECT_MISSING, "no such key",
                (t, k) -> t.bytes(t.request(k, t.scenario.uri("nothing/here.png"))));
        add(MAIN, "object", "missing-bucket", "an allow-listed bucket that does not exist", ErrorCode.OBJECT_MISSING,
                "no such bucket", (t, k) -> t.bytes(t.request(k, "s3://" + t.scenario.bucket + "-gone/x.png")));
        add(MAIN, "object", "byte-limit", "a 2.5 MB object, limit 2 MB", ErrorCode.TOO_LARGE, "(limit " + MAX_BYTES + " bytes)",
                (t, k) -> t.object(k, "big.png", randomBytes(2_500_000)));
        add(MAIN, "object", "integrity-mismatch", "expected_sha256 of other bytes", ErrorCode.INTEGRITY_MISMATCH,
                "the request expected " + "ab".repeat(32), (t, k) -> {
                    CaptionRequest r = t.request(k, t.imageUri());
                    r.setExpectedSha256("ab".repeat(32));
                    return t.bytes(r);
                });

        add(MAIN, "image", "zero-bytes", "an empty object named .png", ErrorCode.UNDECODABLE_IMAGE, "the image is empty (0 bytes)",
                (t, k) -> t.object(k, "empty.png", new byte[0]));
        add(MAIN, "image", "truncated-png", "the first 60% of a PNG", ErrorCode.UNDECODABLE_IMAGE, "as PNG",
                (t, k) -> t.object(k, "cut.png", HostileImages.truncated(HostileImages.lesionPng(), 0.6)));
        add(MAIN, "image", "truncated-jpeg", "the first 60% of a JPEG", ErrorCode.UNDECODABLE_IMAGE, "JPEG image is truncated",
                (t, k) -> t.object(k, "cut.jpg", HostileImages.truncated(HostileImages.lesionJpeg(), 0.6)));
        add(MAIN, "image", "text-as-jpeg", "text bytes named .jpg", ErrorCode.UNDECODABLE_IMAGE,
                "not a JPEG, PNG, GIF, BMP, TIFF or WebP image", (t, k) -> t.object(k, "notes.jpg",
                        "Patient reports itching for two weeks.".getBytes(StandardCharsets.UTF_8)));
        add(MAIN, "image", "html-as-png", "an HTML page with a script, named .png", ErrorCode.UNDECODABLE_IMAGE,
                "not a JPEG, PNG, GIF, BMP, TIFF or WebP image", (t, k) -> t.object(k, "page.png",
                        "<html><script>alert(document.cookie)</script></html>".getBytes(StandardCharsets.UTF_8)));
        add(MAIN, "image", "pdf-jpeg-polyglot", "a PDF wrapping a JPEG, named .jpg", ErrorCode.UNDECODABLE_IMAGE,
                "starts with 255044462d", (t, k) -> t.object(k, "doc.jpg", HostileImages.pdfJpegPolyglot()));
        add(MAIN, "image", "png-zip-polyglot", "a PNG that is also a ZIP with a script", null, "",
                (t, k) -> t.object(k, "polyglot.png", HostileImages.pngZipPolyglot()));
        add(MAIN, "image", "png-bomb", "PNG header declaring 100000x100000 in 100 bytes", ErrorCode.TOO_LARGE,
                "PNG image is 100000x100000", (t, k) -> t.object(k, "bomb.png", HostileImages.pngDeclaring(100_000, 100_000)));
        add(MAIN, "image", "jpeg-bomb", "JPEG frame header declaring 65500x65500", ErrorCode.TOO_LARGE,
                "JPEG image is 65500x65500", (t, k) -> t.object(k, "bomb.jpg", HostileImages.jpegDeclaring(65_500, 65_500)));
        add(MAIN, "image", "gif-bomb", "GIF screen declaring 65535x65535", ErrorCode.TOO_LARGE, "GIF image is 65535x65535",
                (t, k) -> t.object(k, "bomb.gif", HostileImages.gifDeclaring(65_535, 65_535)));
        add(MAIN, "image", "zero-width-png", "PNG header declaring 0x100", ErrorCode.UNDECODABLE_IMAGE, "PNG image is 0x100 pixels",
                (t, k) -> t.object(k, "flat.png", HostileImages.pngDeclaring(0, 100)));
        add(MAIN, "image", "animated-gif", "a GIF of 3 frames", null, "", (t, k) -> t.object(k, "anim.gif", HostileImages.animatedGif()));
        add(MAIN, "image", "animated-png", "an APNG of 2 frames", null, "", (t, k) -> t.object(k, "anim.png", HostileImages.apng()));
        add(MAIN, "image", "multi-page-tiff", "a TIFF of 3 pages", null, "",
                (t, k) -> t.object(k, "pages.tif", HostileImages.multiPageTiff()));
        for (String[] v : new String[][] {{"cmyk-jpeg", "cmyk.jpg", "a CMYK JPEG"}, {"cmyk-tiff", "cmyk.tif", "a CMYK TIFF"},
                {"png-16-bit-rgb", "rgb16.png", "a 16-bit RGB PNG"}, {"png-16-bit-grey", "grey16.png", "a 16-bit grey PNG"},
                {"png-palette", "palette.png", "a palette PNG"}, {"png-grey-alpha", "la.png", "a grey+alpha PNG"},
                {"png-rgba-16-bit", "rgba16.png", "a 16-bit RGBA PNG"}, {"jpeg-progressive", "progressive.jpg", "a progressive JPEG"},
                {"webp-lossless", "lossless.webp", "a lossless WebP"}, {"bmp-palette", "palette.bmp", "a palette BMP"}}) {
            add(MAIN, "image", v[0], v[2] + " (written by Pillow)", null, "", (t, k) -> t.object(k, v[1], HostileImages.pilVector(v[1])));
        }
        add(MAIN, "image", "png-1x1", "a 1x1 PNG", null, "", (t, k) -> t.object(k, "dot.png", HostileImages.gradientPng(1, 1)));
        add(MAIN, "image", "png-1x5000", "a 1x5000 PNG", null, "", (t, k) -> t.object(k, "tall.png", HostileImages.gradientPng(1, 5000)));
        add(MAIN, "image", "png-5000x1", "a 5000x1 PNG", null, "", (t, k) -> t.object(k, "wide.png", HostileImages.gradientPng(5000, 1)));

        add(REDIRECTS, "https", "https-ok", "https://localhost:PORT/lesion.png (allowed host)", null, "",
                (t, k) -> t.bytes(t.request(k, https.base() + "/lesion.png")));
        add(REDIRECTS, "https", "redirect-to-metadata", "302 to https://169.254.169.254/...", ErrorCode.URI_NOT_ALLOWED,
                "refused: address 169.254.169.254 is METADATA", (t, k) -> t.bytes(t.request(k, https.base() + "/to-metadata")));
        add(REDIRECTS, "https", "redirect-to-private", "302 to https://10.1.2.3/...", ErrorCode.URI_NOT_ALLOWED,
                "refused: address 10.1.2.3 is PRIVATE", (t, k) -> t.bytes(t.request(k, https.base() + "/to-private")));
        add(REDIRECTS, "https", "redirect-to-loopback-ip", "302 to https://127.0.0.1:PORT/ (not the allowed name)",
                ErrorCode.URI_NOT_ALLOWED, "refused: host '127.0.0.1' is not allow-listed",
                (t, k) -> t.bytes(t.request(k, https.base() + "/to-loopback-ip")));
        add(REDIRECTS, "https", "redirect-to-file", "302 to file:///etc/passwd", ErrorCode.URI_NOT_ALLOWED,
                "only http(s) redirects are followed", (t, k) -> t.bytes(t.request(k, https.base() + "/to-file")));
        add(REDIRECTS, "https", "redirect-downgrade", "302 to http://localhost:PORT/", ErrorCode.URI_NOT_ALLOWED,
                "plain http:// is disabled", (t, k) -> t.bytes(t.request(k, https.base() + "/to-plain-http")));
        add(REDIRECTS, "https", "redirect-loop", "302 to itself", ErrorCode.FETCH_FAILED, "more than 3 redirects",
                (t, k) -> t.bytes(t.request(k, https.base() + "/loop")));
        add(REDIRECTS, "https", "endless-body", "a chunked body that never ends", ErrorCode.TOO_LARGE,
                "more than " + MAX_BYTES + " bytes sent", (t, k) -> t.bytes(t.request(k, https.base() + "/endless")));
        add(REDIRECTS, "https", "declared-gigabyte", "Content-Length: 1073741824", ErrorCode.TOO_LARGE,
                "1073741824 bytes declared", (t, k) -> t.bytes(t.request(k, https.base() + "/declares-a-gigabyte")));
        add(REDIRECTS, "https", "cut-short", "a body closed at half its Content-Length", ErrorCode.FETCH_FAILED,
                "gave up after 3 attempts", (t, k) -> t.bytes(t.request(k, https.base() + "/cut-short")));
        add(REDIRECTS, "https", "https-403", "HTTP 403", ErrorCode.FETCH_FAILED, "HTTP 403",
                (t, k) -> t.bytes(t.request(k, https.base() + "/forbidden")));
        add(REDIRECTS, "https", "https-404", "HTTP 404", ErrorCode.OBJECT_MISSING, "HTTP 404",
                (t, k) -> t.bytes(t.request(k, https.base() + "/gone")));
    }

    // ---- the test -------------------------------------------------------------------------

    @Test
    void everyHostileInputGetsItsOwnFailureCodeAndTheServiceKeepsRunning() throws Exception {
        Map<String, Outcomes.Outcome> observed = new LinkedHashMap<>();
        run(MAIN, Map.of(
                "storage.max.bytes", Long.toString(MAX_BYTES),
                // the SSRF cases' names and addresses are allow-listed: only the address guard (default: public only) refuses them
                "storage.https.hosts", "localhost,127.0.0.1,::1,169.254.169.254,169.254.10.20,10.0.0.5,172.16.5.4,"
                        + "192.168.1.20,metadata.google.internal",
                "storage.retry.max.attempts", "2", "storage.retry.budget.ms", "1000"), observed);
        run(REDIRECTS, Map.of(
                "storage.max.bytes", Long.toString(MAX_BYTES),
                "storage.https.hosts", "localhost",
                "storage.https.address.classes", "LOOPBACK",
                "storage.https.truststore.location", https.certificate().trustStore().toString(),
                "storage.https.truststore.password", https.certificate().password(),
                "storage.retry.max.attempts", "3", "storage.retry.initial.backoff.ms", "50",
                "storage.retry.budget.ms", "5000"), observed);

        List<Case> all = new ArrayList<>(MAIN);
        all.addAll(REDIRECTS);
        List<String> wrong = new ArrayList<>();
        for (Case c : all) {
            Outcomes.Outcome o = observed.get(c.kind());
            String got = o.failure() == null ? "caption (" + o.caption().getTokenCount() + " tokens)"
                    : o.failure().getCode() + ": " + o.failure().getMessage();
            boolean right = c.code() == null ? o.failure() == null && o.caption().getTokenCount() > 0
                    : o.failure() != null && o.failure().getCode() == c.code() && o.failure().getMessage().contains(c.contains());
            if (!right) {
                wrong.add(c.kind() + ": expected " + c.expected() + " saying \"" + c.contains() + "\", got " + got);
            }
            if (o.failure() != null) {
                assertThat(o.failure().getMessage()).as(c.kind() + ": no password in the event").doesNotContain("hunter2");
            }
        }
        assertThat(wrong).as("hostile inputs with another outcome than expected").isEmpty();
        assertThat(observed.get("cut-short").failure().getRetryable()).isTrue();
        assertThat(observed.get("https-403").failure().getRetryable()).isFalse();
        assertThat(observed.get("not-avro").failure().getRawValue()).isNotNull();
        assertThat(observed.get("oversized-passthrough").failure().getIds().getCorrelation()).isEmpty();
        assertThat(all.stream().map(Case::kind).distinct()).hasSize(all.size()).hasSizeGreaterThanOrEqualTo(30);
        ReliabilityReport.syncDeterministic("hostile", table(all));
    }

    /** Sends every case to a fresh service configured with {@code config}, then ordinary traffic; checks the service stayed healthy. */
    private void run(List<Case> cases, Map<String, String> config, Map<String, Outcomes.Outcome> observed) throws Exception {
        try (ServiceScenario s = new ServiceScenario(1)) {
            scenario = s;
            traffic = new Traffic(s, 4, 17);
            serde = new AvroSerde<>(CaptionRequest.class);
            serde.configure(s.cluster.serde(), false);
            Map<String, String> all = new HashMap<>(config);
            all.put("storage.s3.buckets", s.bucket + "," + s.bucket + "-gone");
            ChildService child = s.startChild("hostile", all);
            child.awaitReady(TIMEOUT);
            List<String> keys = new ArrayList<>();
            for (Case c : cases) {
                s.sendRaw(c.key(), c.sender().value(this, c.key()));
                keys.add(c.key());
            }
            List<CaptionRequest> ordinary = traffic.requests("ordinary", 0, 8);
            s.send(ordinary);
            keys.addAll(Traffic.keys(ordinary));
            Audit audit = Audit.await(s, "hostile inputs (" + cases.get(0).category() + "...)", false, keys, TIMEOUT,
                    Duration.ofSeconds(2));
            Outcomes out = s.outcomes();
            ReliabilityReport.record(new ReliabilityReport.Row(audit, cases.size() + " hostile kinds, then 8 ordinary requests",
                    "no restart (none needed)", out.failures().size() + " failure events, " + out.captions().size() + " captions"));
            audit.assertHolds();
            assertThat(out.duplicated()).isEmpty();
            for (Case c : cases) {
                observed.put(c.kind(), out.byKey().get(c.key()).get(0));
            }
            assertThat(out.captions()).filteredOn(e -> e.getRequestId().startsWith("ordinary-")).hasSize(ordinary.size());
            assertThat(child.alive()).isTrue();
            HttpResponse<String> ready = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + child.opsPort() + "/health/ready")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(ready.statusCode()).as("still ready: " + ready.body()).isEqualTo(200);
            String log = Files.readString(child.log());
            assertThat(log).doesNotContain("event=stream_thread_failed").doesNotContain("inference_thread_died")
                    .doesNotContain("hunter2");
            LogCheck.assertNoPrivateData(s, traffic, out);
            child.stop();
        }
    }

    private static String table(List<Case> cases) {
        StringBuilder t = new StringBuilder("| # | category | kind | input | outcome | the message says |\n|---:|---|---|---|---|---|\n");
        int n = 0;
        for (Case c : cases) {
            t.append("| ").append(++n).append(" | ").append(c.category()).append(" | `").append(c.kind()).append("` | ")
                    .append(c.input().replace("|", "\\|")).append(" | ").append(c.expected()).append(" | ")
                    .append(c.contains().isEmpty() ? "" : "\"" + c.contains().replace("|", "\\|") + "\"").append(" |\n");
        }
        return t.toString();
    }

    // ---- building the inputs --------------------------------------------------------------

    private String imageUri() {
        return traffic.requests("x", 0, 1).get(0).getImageUri();
    }

    private CaptionRequest request(String id, String uri) {
        return traffic.request(id, uri, null);
    }

    private byte[] bytes(CaptionRequest request) {
        return serde.serializer().serialize(scenario.requests, request);
    }

    private byte[] object(String key, String name, byte[] content) {
        scenario.putImage("hostile/" + name, content);
        return bytes(request(key, scenario.uri("hostile/" + name)));
    }

    private byte[] overriding(String key, String prompt, Integer beams, Integer max, Integer min) {
        CaptionRequest r = request(key, imageUri());
        r.setOverrides(new GenerationOverrides(prompt, beams, max, min, null));
        return bytes(r);
    }

    private byte[] corruptBody() {
        byte[] valid = bytes(request("corrupt", imageUri()));
        byte[] garbage = randomBytes(40);
        System.arraycopy(valid, 0, garbage, 0, 5); // the request schema's real header
        return garbage;
    }

    private byte[] withoutImageUri(String key) {
        Schema writer = RawRecords.requestWithoutImageUri();
        int id = scenario.registry().register("hostile-incompatible-request-value", writer);
        return RawRecords.framed(id, writer, request(key, imageUri()));
    }

    private byte[] labResult() {
        Schema lab = SchemaBuilder.record("LabResult").namespace("org.example.lab").fields()
                .requiredString("patient").requiredString("test").requiredDouble("value").endRecord();
        SchemaRegistryClient registry = scenario.registry();
        int id = registry.register("hostile-lab-results-value", lab);
        GenericRecord r = new GenericData.Record(lab);
        r.put("patient", "P-0001");
        r.put("test", "CRP");
        r.put("value", 3.2);
        return RawRecords.framed(id, lab, r);
    }

    /** A JSON Schema registered through the Confluent API (schemaType JSON), and a record naming its id. */
    private byte[] framedWithJsonSchema() throws Exception {
        String body = "{\"schemaType\":\"JSON\",\"schema\":\"{\\\"type\\\":\\\"object\\\",\\\"properties\\\":{\\\"id\\\":{\\\"type\\\":\\\"string\\\"}}}\"}";
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(scenario.cluster.registryUrl() + "/subjects/hostile-json-value/versions"))
                .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("registering a JSON Schema: " + r.body()).isEqualTo(200);
        int id = Integer.parseInt(r.body().replaceAll("\\D+", ""));
        byte[] json = "{\"id\":\"x\"}".getBytes(StandardCharsets.UTF_8);
        byte[] framed = new byte[5 + json.length];
        io.dermcap.registry.WireFormat.writeHeader(framed, id);
        System.arraycopy(json, 0, framed, 5, json.length);
        return framed;
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    private static byte[] randomBytes(int n, byte first) {
        byte[] b = randomBytes(n);
        b[0] = first;
        return b;
    }
}
