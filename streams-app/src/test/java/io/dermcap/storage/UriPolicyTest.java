package io.dermcap.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.dermcap.storage.FetchException.Reason;

/** Hostile and well-formed URIs against the policy (no network: IP literals and names only). */
class UriPolicyTest {

    private static final Path ROOT = Path.of("/srv/dermcap/images");
    private static UriPolicy policy;

    @BeforeAll
    static void policy() {
        policy = new UriPolicy(StorageOptionsBuilder.defaults()
                .buckets("images", "scans.v2")
                .hosts("images.example.org", "*.cdn.example.net", "93.184.216.34", "[2606:2800:220:1::1]",
                        "127.0.0.1", "169.254.169.254")
                .fileRoot(ROOT)
                .build());
    }

    static Stream<Arguments> refused() {
        return Stream.of(
                // syntax
                Arguments.of("", Reason.INVALID_URI, "empty"),
                Arguments.of("images/x.png", Reason.INVALID_URI, "unsupported scheme"),
                Arguments.of("ftp://images.example.org/x.png", Reason.INVALID_URI, "unsupported scheme 'ftp'"),
                Arguments.of("javascript:alert(1)", Reason.INVALID_URI, "unsupported scheme"),
                Arguments.of("https://images.example.org/a b.png", Reason.INVALID_URI, "whitespace"),
                Arguments.of("https://images.example.org/x\r\nHost: evil.com", Reason.INVALID_URI, "control character"),
                Arguments.of("https://images.example.org\\@evil.com/x", Reason.INVALID_URI, "backslash"),
                Arguments.of("https:///x.png", Reason.INVALID_URI, "needs a host"),
                Arguments.of("https://images.example.org:99999/x", Reason.INVALID_URI, "out of range"),
                Arguments.of("https://exa_mple.org/x", Reason.INVALID_URI, "valid host"),
                Arguments.of("https://" + "a".repeat(5000) + ".org/", Reason.INVALID_URI, "longer than"),
                // numeric host forms that resolvers read as 127.0.0.1
                Arguments.of("https://2130706433/x", Reason.INVALID_URI, "non-canonical IPv4"),
                Arguments.of("https://0177.0.0.1/x", Reason.INVALID_URI, "non-canonical IPv4"),
                Arguments.of("https://0x7f.0.0.1/x", Reason.INVALID_URI, "non-canonical IPv4"),
                Arguments.of("https://0x7f000001/x", Reason.INVALID_URI, "non-canonical IPv4"),
                Arguments.of("https://127.1/x", Reason.INVALID_URI, "non-canonical IPv4"),
                Arguments.of("https://127.0.0.1.5/x", Reason.INVALID_URI, "non-canonical IPv4"),
                Arguments.of("https://[fe80::1%25eth0]/x", Reason.INVALID_URI, "zone"),
                // s3
                Arguments.of("s3://Images/x.png", Reason.INVALID_URI, "bucket name"),
                Arguments.of("s3://ab/x.png", Reason.INVALID_URI, "bucket name"),
                Arguments.of("s3://images@evil/x.png", Reason.INVALID_URI, "bucket name"),
                Arguments.of("s3://images:443/x.png", Reason.INVALID_URI, "bucket name"),
                Arguments.of("s3://192.168.0.1/x.png", Reason.INVALID_URI, "bucket name"),
                Arguments.of("s3://images/", Reason.INVALID_URI, "no object key"),
                Arguments.of("s3://images", Reason.INVALID_URI, "no object key"),
                Arguments.of("s3:images/x.png", Reason.INVALID_URI, "s3://bucket/key"),
                Arguments.of("s3://images/x.png?versionId=1", Reason.INVALID_URI, "no query"),
                Arguments.of("s3://other-bucket/x.png", Reason.URI_NOT_ALLOWED, "not allow-listed"),
                Arguments.of("s3://images/../secrets/x.png", Reason.URI_NOT_ALLOWED, "'..' segment"),
                Arguments.of("s3://images/a/./b.png", Reason.URI_NOT_ALLOWED, "'.' or '..'"),
                // hosts and the allow-list
                Arguments.of("https://evil.com/x.png", Reason.URI_NOT_ALLOWED, "not allow-listed"),
                Arguments.of("https://images.example.org.evil.com/x.png", Reason.URI_NOT_ALLOWED, "not allow-listed"),
                Arguments.of("https://evilimages.example.org/x.png", Reason.URI_NOT_ALLOWED, "not allow-listed"),
                Arguments.of("https://cdn.example.net/x.png", Reason.URI_NOT_ALLOWED, "not allow-listed"),
                Arguments.of("https://images.example.org@evil.com/x.png", Reason.URI_NOT_ALLOWED, "user info"),
                Arguments.of("https://user:pw@images.example.org/x.png", Reason.URI_NOT_ALLOWED, "user info"),
                Arguments.of("https://evil.com#@images.example.org/x.png", Reason.URI_NOT_ALLOWED, "not allow-listed"),
                Arguments.of("https://exаmple.org/x.png", Reason.URI_NOT_ALLOWED, "xn--"), // Cyrillic а
                Arguments.of("http://images.example.org/x.png", Reason.URI_NOT_ALLOWED, "plain http"),
                // forbidden address classes, even when allow-listed
                Arguments.of("https://169.254.169.254/latest/meta-data/", Reason.URI_NOT_ALLOWED, "METADATA"),
                Arguments.of("https://127.0.0.1/x", Reason.URI_NOT_ALLOWED, "LOOPBACK"),
                Arguments.of("https://[fd00:ec2::254]/latest/meta-data/", Reason.URI_NOT_ALLOWED, "METADATA"),
                Arguments.of("https://metadata.google.internal/computeMetadata/v1/", Reason.URI_NOT_ALLOWED, "metadata"),
                Arguments.of("https://[::1]/x", Reason.URI_NOT_ALLOWED, "LOOPBACK"),
                Arguments.of("https://[::ffff:127.0.0.1]/x", Reason.URI_NOT_ALLOWED, "LOOPBACK"),
                Arguments.of("https://[::ffff:a9fe:a9fe]/x", Reason.URI_NOT_ALLOWED, "METADATA"),
                Arguments.of("https://[64:ff9b::a9fe:a9fe]/x", Reason.URI_NOT_ALLOWED, "METADATA"),
                Arguments.of("https://[2002:a9fe:a9fe::1]/x", Reason.URI_NOT_ALLOWED, "METADATA"),
                Arguments.of("https://[::127.0.0.1]/x", Reason.URI_NOT_ALLOWED, "LOOPBACK"),
                Arguments.of("https://10.0.0.1/x", Reason.URI_NOT_ALLOWED, "PRIVATE"),
                Arguments.of("https://172.16.5.4/x", Reason.URI_NOT_ALLOWED, "PRIVATE"),
                Arguments.of("https://192.168.1.1/x", Reason.URI_NOT_ALLOWED, "PRIVATE"),
                Arguments.of("https://100.64.0.1/x", Reason.URI_NOT_ALLOWED, "PRIVATE"),
                Arguments.of("https://[fc00::1]/x", Reason.URI_NOT_ALLOWED, "PRIVATE"),
                Arguments.of("https://[fe80::1]/x", Reason.URI_NOT_ALLOWED, "LINK_LOCAL"),
                Arguments.of("https://169.254.1.1/x", Reason.URI_NOT_ALLOWED, "LINK_LOCAL"),
                Arguments.of("https://0.0.0.0/x", Reason.URI_NOT_ALLOWED, "UNSPECIFIED"),
                Arguments.of("https://[::]/x", Reason.URI_NOT_ALLOWED, "UNSPECIFIED"),
                Arguments.of("https://224.0.0.1/x", Reason.URI_NOT_ALLOWED, "MULTICAST"),
                Arguments.of("https://[ff02::1]/x", Reason.URI_NOT_ALLOWED, "MULTICAST"),
                Arguments.of("https://240.0.0.1/x", Reason.URI_NOT_ALLOWED, "RESERVED"),
                Arguments.of("https://8.8.8.8/x", Reason.URI_NOT_ALLOWED, "not allow-listed"),
                // file://
                Arguments.of("file:///etc/passwd", Reason.URI_NOT_ALLOWED, "outside the allowed root"),
                Arguments.of("file://" + ROOT + "/../../../etc/passwd", Reason.URI_NOT_ALLOWED, "traversal"),
                Arguments.of("file://" + ROOT + "/%2e%2e/%2e%2e/etc/passwd", Reason.URI_NOT_ALLOWED, "traversal"),
                Arguments.of("file://" + ROOT + "/a/%2E%2e/x.png", Reason.URI_NOT_ALLOWED, "traversal"),
                Arguments.of("file://" + ROOT + "/a/%2f..%2f..%2fetc", Reason.URI_NOT_ALLOWED, "percent-encoded path separators"),
                Arguments.of("file://" + ROOT + "images/x.png", Reason.URI_NOT_ALLOWED, "outside"),
                Arguments.of("file://evil.host" + ROOT + "/x.png", Reason.URI_NOT_ALLOWED, "remote host"),
                Arguments.of("file://" + ROOT + "/x.png%00.jpg", Reason.URI_NOT_ALLOWED, "NUL"),
                Arguments.of("file://" + ROOT + "/x.png?a=1", Reason.INVALID_URI, "file:///absolute/path"),
                Arguments.of("file:relative/x.png", Reason.INVALID_URI, "file:///absolute/path"));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("refused")
    void refuses(String uri, Reason reason, String message) {
        assertThatThrownBy(() -> policy.parse(uri))
                .isInstanceOfSatisfying(FetchException.class, e -> {
                    assertThat(e.reason()).isEqualTo(reason);
                    assertThat(e.retryable()).isFalse();
                    assertThat(e.attempts()).isZero();
                })
                .hasMessageContaining(message);
    }

    @Test
    void acceptsWellFormedAllowedUris() throws FetchException {
        assertThat(policy.parse("s3://images/2024/01/img-1.png")).isEqualTo(new ObjectLocation.S3("images", "2024/01/img-1.png"));
        assertThat(policy.parse("S3://scans.v2/x.dcm")).isEqualTo(new ObjectLocation.S3("scans.v2", "x.dcm"));
        // keys are literal, as the AWS CLI reads them: an encoded dot segment is just three characters
        assertThat(policy.parse("s3://images/%2e%2e/x")).isEqualTo(new ObjectLocation.S3("images", "%2e%2e/x"));

        ObjectLocation.Http http = (ObjectLocation.Http) policy.parse("https://IMAGES.Example.ORG./a/x.png?sig=a%2Fb");
        assertThat(http.host()).isEqualTo("images.example.org");
        assertThat(http.port()).isEqualTo(443);
        assertThat(http.target()).isEqualTo("/a/x.png?sig=a%2Fb");
        assertThat(http.literal()).isNull();
        assertThat(((ObjectLocation.Http) policy.parse("https://a.cdn.example.net:8443")).target()).isEqualTo("/");
        assertThat(((ObjectLocation.Http) policy.parse("https://93.184.216.34/x")).literal()).isNotNull();
        assertThat(((ObjectLocation.Http) policy.parse("https://[2606:2800:220:1:0:0:0:1]/x")).host())
                .isEqualTo("2606:2800:220:1:0:0:0:1");

        assertThat(policy.parse("file://" + ROOT + "/sub/x.png")).isEqualTo(new ObjectLocation.File(ROOT.resolve("sub/x.png")));
        assertThat(policy.parse("file://localhost" + ROOT + "/x%20y.png")).isEqualTo(new ObjectLocation.File(ROOT.resolve("x y.png")));
    }

    @Test
    void fileAndPlainHttpAreOffByDefault() {
        UriPolicy defaults = new UriPolicy(StorageOptionsBuilder.defaults().hosts("127.0.0.1").build());
        assertThatThrownBy(() -> defaults.parse("file:///srv/x.png")).hasMessageContaining("file:// URIs are disabled");
        assertThatThrownBy(() -> defaults.parse("https://127.0.0.1/x")).hasMessageContaining("LOOPBACK");
        assertThatThrownBy(() -> defaults.parse("s3://images/x")).hasMessageContaining("not allow-listed");
    }

    @Test
    void redirectsAreCheckedLikeRequests() throws FetchException {
        ObjectLocation.Http from = (ObjectLocation.Http) policy.parse("https://images.example.org/a/x.png");
        assertThat(policy.redirect(from, "../b/y.png").target()).isEqualTo("/b/y.png");
        assertThat(policy.redirect(from, "https://a.cdn.example.net/z").host()).isEqualTo("a.cdn.example.net");
        assertThatThrownBy(() -> policy.redirect(from, "https://169.254.169.254/latest/meta-data/"))
                .isInstanceOfSatisfying(FetchException.class, e -> assertThat(e.reason()).isEqualTo(Reason.URI_NOT_ALLOWED))
                .hasMessageContaining("redirect from https://images.example.org/a/x.png refused");
        assertThatThrownBy(() -> policy.redirect(from, "file:///etc/passwd"))
                .isInstanceOfSatisfying(FetchException.class, e -> assertThat(e.reason()).isEqualTo(Reason.URI_NOT_ALLOWED));
        assertThatThrownBy(() -> policy.redirect(from, "http://images.example.org/x"))
                .isInstanceOfSatisfying(FetchException.class, e -> assertThat(e.reason()).isEqualTo(Reason.URI_NOT_ALLOWED));
        assertThatThrownBy(() -> policy.redirect(from, "https://2130706433/"))
                .isInstanceOfSatisfying(FetchException.class, e -> assertThat(e.reason()).isEqualTo(Reason.FETCH_FAILED));
    }
}
