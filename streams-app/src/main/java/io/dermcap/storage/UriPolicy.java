package io.dermcap.storage;

import java.net.IDN;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.dermcap.storage.FetchException.Reason;

/**
 * Decides whether a URI names something the service may read, before any network traffic:
 * syntax (strict, no lenient parsing), scheme switches, bucket and host allow-lists, credentials
 * smuggled into URIs, non-canonical IP literals ({@code 2130706433}, {@code 0177.0.0.1},
 * {@code 0x7f.1}), IP literals and host names of forbidden address classes, and path traversal
 * for {@code file://}. Host names are checked again after DNS resolution by {@link AddressPolicy}.
 */
final class UriPolicy {

    private static final int MAX_URI_LENGTH = 4096;
    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
    private static final Pattern CANONICAL_IPV4 =
            Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
    private static final Pattern NUMERIC_LABEL = Pattern.compile("0x[0-9a-f]*|[0-9]+");
    private static final Pattern AUTHORITY = Pattern.compile("([^:\\[\\]@]+)(?::(\\d{1,5}))?");
    private static final Pattern DNS_NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");
    /** instance-metadata host names, refused unless METADATA addresses are allowed */
    private static final Set<String> METADATA_NAMES = Set.of("metadata", "metadata.google.internal", "metadata.goog",
            "instance-data", "instance-data.ec2.internal", "metadata.azure.com");

    private final StorageOptions options;

    UriPolicy(StorageOptions options) {
        this.options = options;
    }

    ObjectLocation parse(String text) throws FetchException {
        if (text == null || text.isBlank()) {
            throw invalid("the URI is empty");
        }
        if (text.length() > MAX_URI_LENGTH) {
            throw invalid("the URI is longer than " + MAX_URI_LENGTH + " characters");
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c <= 0x20 || c == 0x7f || c == '\\') {
                throw invalid("the URI contains whitespace, a control character or a backslash at position " + i);
            }
        }
        int colon = text.indexOf(':');
        String scheme = colon < 0 ? "" : text.substring(0, colon).toLowerCase(Locale.ROOT);
        return switch (scheme) {
            case "s3" -> s3(text);
            case "https" -> http(text, true);
            case "http" -> http(text, false);
            case "file" -> file(text);
            default -> throw invalid("unsupported scheme '" + (colon < 0 ? text : scheme)
                    + "' (supported: s3, https" + (options.allowPlainHttp() ? ", http" : "")
                    + (options.fileRoot() != null ? ", file" : "") + ")");
        };
    }

    /** The target of a redirect from {@code from}, checked like a URI from a request. */
    ObjectLocation.Http redirect(ObjectLocation.Http from, String location) throws FetchException {
        URI target;
        try {
            target = from.uri().resolve(new URI(location));
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new FetchException(Reason.FETCH_FAILED, false, 0, "redirect from " + from.uri()
                    + " to an invalid Location '" + location + "'", e);
        }
        String scheme = target.getScheme() == null ? "" : target.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("https") && !scheme.equals("http")) {
            throw notAllowed("redirect from " + from.uri() + " to " + target + ": only http(s) redirects are followed");
        }
        try {
            return http(target.toString(), scheme.equals("https"));
        } catch (FetchException e) {
            throw new FetchException(e.reason() == Reason.INVALID_URI ? Reason.FETCH_FAILED : e.reason(), false, 0,
                    "redirect from " + from.uri() + " refused: " + e.getMessage(), e);
        }
    }

    /**
     * An {@code s3://bucket/prefix/} to list: the object checks, with an empty prefix allowed (the whole
     * bucket); the key of the result is the prefix.
     */
    ObjectLocation.S3 s3Prefix(String text) throws FetchException {
        return s3(text, true);
    }

    private ObjectLocation s3(String text) throws FetchException {
        return s3(text, false);
    }

    private ObjectLocation.S3 s3(String text, boolean prefix) throws FetchException {
        if (!text.regionMatches(true, 0, "s3://", 0, 5)) {
            throw invalid("an s3 URI must look like s3://bucket/key");
        }
        String rest = text.substring(5);
        int slash = rest.indexOf('/');
        if (slash < 0 || (slash == rest.length() - 1 && !prefix)) {
            throw invalid("the s3 URI names no object key: " + text);
        }
        String bucket = rest.substring(0, slash);
        String key = rest.substring(slash + 1);
        if (!BUCKET.matcher(bucket).matches() || bucket.contains("..") || CANONICAL_IPV4.matcher(bucket).matches()) {
            throw invalid("'" + bucket + "' is not a valid S3 bucket name");
        }
        if (key.indexOf('?') >= 0 || key.indexOf('#') >= 0) {
            throw invalid("s3 URIs take no query or fragment: " + text);
        }
        if (key.getBytes(StandardCharsets.UTF_8).length > 1024) {
            throw invalid("the S3 key is longer than 1024 bytes");
        }
        for (String segment : key.split("/", -1)) {
            if (segment.equals(".") || segment.equals("..")) {
                throw notAllowed("the S3 key contains a '.' or '..' segment: " + text);
            }
        }
        if (!options.allowedBuckets().contains("*") && !options.allowedBuckets().contains(bucket)) {
            throw notAllowed("bucket '" + bucket + "' is not allow-listed");
        }
        return new ObjectLocation.S3(bucket, key);
    }

    private ObjectLocation.Http http(String text, boolean tls) throws FetchException {
        if (!tls && !options.allowPlainHttp()) {
            throw notAllowed("plain http:// is disabled; use https://");
        }
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw invalid("not a valid URI: " + e.getMessage());
        }
        if (uri.isOpaque() || uri.getRawAuthority() == null) {
            throw invalid("an http(s) URI needs a host: " + text);
        }
        if (uri.getRawUserInfo() != null) {
            throw notAllowed("credentials (user info) in URIs are not allowed: " + redact(uri));
        }
        String rawHost = uri.getHost();
        int port = uri.getPort();
        if (rawHost == null) {
            // java.net.URI gives up on names that are not plain ASCII DNS names; split them ourselves
            // so that numeric tricks get a precise message and internationalised names are converted
            Matcher m = AUTHORITY.matcher(uri.getRawAuthority());
            if (!m.matches() || !(m.group(1).chars().anyMatch(c -> c > 0x7f) || looksNumeric(m.group(1)))) {
                throw invalid("'" + uri.getRawAuthority() + "' is not a valid host[:port]");
            }
            rawHost = m.group(1);
            port = m.group(2) == null ? -1 : Integer.parseInt(m.group(2));
        }
        port = port == -1 ? (tls ? 443 : 80) : port;
        if (port < 1 || port > 65535) {
            throw invalid("port " + port + " is out of range");
        }
        String host;
        InetAddress literal = null;
        if (rawHost.startsWith("[")) {
            String inner = rawHost.substring(1, rawHost.length() - 1);
            if (inner.contains("%")) {
                throw invalid("IPv6 zone ids are not allowed: " + rawHost);
            }
            literal = literal(inner);
            host = literal.getHostAddress();
        } else {
            host = rawHost.toLowerCase(Locale.ROOT);
            if (host.endsWith(".")) {
                host = host.substring(0, host.length() - 1);
            }
            if (!host.isEmpty() && host.chars().anyMatch(c -> c > 0x7f)) {
                try {
                    host = IDN.toASCII(host, IDN.USE_STD3_ASCII_RULES).toLowerCase(Locale.ROOT);
                } catch (IllegalArgumentException e) {
                    throw invalid("'" + rawHost + "' is not a valid internationalised host name");
                }
            }
            if (looksNumeric(host)) {
                // WHATWG and inet_aton read this as an IPv4 address; only the dotted-quad form is unambiguous
                if (!CANONICAL_IPV4.matcher(host).matches()) {
                    throw invalid("'" + rawHost + "' is a non-canonical IPv4 literal (decimal, octal, hex or short form)");
                }
                literal = literal(host);
            } else if (!DNS_NAME.matcher(host).matches() || host.length() > 253) {
                throw invalid("'" + rawHost + "' is not a valid host name");
            }
        }
        if (literal != null) {
            AddressClass kind = AddressClass.of(literal);
            if (!options.allowedAddresses().contains(kind)) {
                throw notAllowed("address " + host + " is " + kind + ", which is not allowed");
            }
        } else if (METADATA_NAMES.contains(host) && !options.allowedAddresses().contains(AddressClass.METADATA)) {
            throw notAllowed("'" + host + "' is a cloud metadata endpoint");
        }
        if (!hostAllowed(host, literal)) {
            throw notAllowed("host '" + host + "' is not allow-listed");
        }
        String target = (uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath())
                + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
        return new ObjectLocation.Http(uri, tls, host, literal, port, target);
    }

    /** Whether a resolver would read the name as an IPv4 address: its last label is a number. */
    private static boolean looksNumeric(String host) {
        String[] labels = host.toLowerCase(Locale.ROOT).split("\\.", -1);
        String last = labels[labels.length - 1].isEmpty() && labels.length > 1 ? labels[labels.length - 2] : labels[labels.length - 1];
        return NUMERIC_LABEL.matcher(last).matches();
    }

    private boolean hostAllowed(String host, InetAddress literal) throws FetchException {
        for (String entry : options.allowedHosts()) {
            String e = entry.toLowerCase(Locale.ROOT);
            if (literal != null) {
                String inner = e.startsWith("[") && e.endsWith("]") ? e.substring(1, e.length() - 1) : e;
                if (inner.contains(":") || CANONICAL_IPV4.matcher(inner).matches()) {
                    if (literal(inner).equals(literal)) {
                        return true;
                    }
                }
            } else if (e.startsWith("*.") ? host.endsWith(e.substring(1)) : host.equals(e)) {
                return true;
            }
        }
        return false;
    }

    private static InetAddress literal(String text) throws FetchException {
        if (!text.contains(":") && !CANONICAL_IPV4.matcher(text).matches()) {
            throw invalid("'" + text + "' is not an IP literal");
        }
        try {
            return InetAddress.getByName(text); // a literal: parsed, never looked up
        } catch (UnknownHostException | IllegalArgumentException e) {
            throw invalid("'" + text + "' is not a valid IP literal");
        }
    }

    private ObjectLocation file(String text) throws FetchException {
        Path root = options.fileRoot();
        if (root == null) {
            throw notAllowed("file:// URIs are disabled");
        }
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw invalid("not a valid URI: " + e.getMessage());
        }
        if (uri.isOpaque() || uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
            throw invalid("a file URI must look like file:///absolute/path");
        }
        if (uri.getHost() != null && !uri.getHost().equalsIgnoreCase("localhost")
                || uri.getHost() == null && uri.getRawAuthority() != null) {
            throw notAllowed("file URIs may not name a remote host: " + text);
        }
        String lower = uri.getRawPath() == null ? "" : uri.getRawPath().toLowerCase(Locale.ROOT);
        if (lower.contains("%2f") || lower.contains("%5c") || lower.contains("%00")) {
            throw notAllowed("percent-encoded path separators or NUL in " + text);
        }
        String path = uri.getPath();
        if (path == null || !path.startsWith("/") || path.indexOf('\0') >= 0 || path.indexOf('\\') >= 0) {
            throw invalid("a file URI must hold an absolute path");
        }
        for (String segment : path.split("/", -1)) {
            if (segment.equals(".") || segment.equals("..")) {
                throw notAllowed("path traversal ('.' or '..' segment, possibly percent-encoded) in " + text);
            }
        }
        Path file = Path.of(path).normalize();
        if (!file.startsWith(root.toAbsolutePath().normalize()) || file.equals(root.toAbsolutePath().normalize())) {
            throw notAllowed(path + " is outside the allowed root " + root);
        }
        return new ObjectLocation.File(file);
    }

    private static String redact(URI uri) {
        return uri.getScheme() + "://…@" + uri.getHost() + (uri.getRawPath() == null ? "" : uri.getRawPath());
    }

    private static FetchException invalid(String message) {
        return new FetchException(Reason.INVALID_URI, false, 0, message, null);
    }

    private static FetchException notAllowed(String message) {
        return new FetchException(Reason.URI_NOT_ALLOWED, false, 0, message, null);
    }
}
