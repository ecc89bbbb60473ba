package io.dermcap.storage;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

import io.dermcap.storage.FetchException.Reason;

/**
 * A deliberately small HTTP/1.1 GET client over a socket that this class opens itself, because
 * the JDK's clients resolve host names on their own: here the name is resolved once, every
 * address is checked by the {@link AddressPolicy}, and the socket connects to a checked address,
 * while TLS still verifies the certificate against the host name (SNI + endpoint identification).
 * Redirects are followed by hand, each target checked like a request URI. No proxies, no
 * compression, no keep-alive: one request per connection.
 */
final class HttpReader {

    private static final int MAX_HEADER_BYTES = 64 * 1024;
    private static final int MAX_HEADERS = 100;

    private final StorageOptions options;
    private final UriPolicy uriPolicy;
    private final AddressPolicy addressPolicy;
    private final SSLSocketFactory tls;

    HttpReader(StorageOptions options, UriPolicy uriPolicy, AddressPolicy addressPolicy, SSLSocketFactory tls) {
        this.options = options;
        this.uriPolicy = uriPolicy;
        this.addressPolicy = addressPolicy;
        this.tls = tls;
    }

    /** A response whose status line and headers have been read. */
    private record Head(int status, Map<String, List<String>> headers) {
        String header(String name) {
            List<String> values = headers.get(name);
            return values == null ? null : values.get(0);
        }
    }

    byte[] read(ObjectLocation.Http start) throws FetchException, TransientFailure {
        long deadline = System.nanoTime() + options.attemptTimeout().toNanos();
        ObjectLocation.Http location = start;
        for (int redirects = 0; ; redirects++) {
            try (Socket socket = connect(location, deadline)) {
                Deadlined in = new Deadlined(socket, new BufferedInputStream(socket.getInputStream()), deadline,
                        (int) options.readTimeout().toMillis());
                send(socket.getOutputStream(), location);
                Head head = readHead(in, location);
                int status = head.status();
                if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
                    String target = head.header("location");
                    if (target == null) {
                        throw failed(location, "redirect " + status + " without a Location header", null);
                    }
                    if (redirects >= options.maxRedirects()) {
                        throw failed(location, "more than " + options.maxRedirects() + " redirects", null);
                    }
                    location = uriPolicy.redirect(location, target);
                    continue;
                }
                if (status == 200) {
                    return body(in, head, location);
                }
                String what = location.uri() + ": HTTP " + status;
                if (status >= 500 || status == 429 || status == 408) {
                    throw new TransientFailure(what, null);
                }
                if (status == 404 || status == 410) {
                    throw new FetchException(Reason.OBJECT_MISSING, false, 0, what, null);
                }
                // 401/403 and other 4xx: the server will not give us this object; retrying cannot help
                throw new FetchException(Reason.FETCH_FAILED, false, 0, what, null);
            } catch (UnknownHostException e) {
                throw new TransientFailure(location.uri() + ": cannot resolve host " + location.host(), e);
            } catch (SSLException e) {
                if (certificateProblem(e)) {
                    throw failed(location, "TLS certificate rejected: " + e.getMessage(), e);
                }
                throw new TransientFailure(location.uri() + ": TLS failure: " + e.getMessage(), e);
            } catch (IOException e) {
                // refused, reset, timed out, cut short: all worth another attempt
                throw new TransientFailure(location.uri() + ": " + e.getClass().getSimpleName() + ": " + e.getMessage(), e);
            }
        }
    }

    /** Connects to the first checked address that answers; TLS is verified against the host name. */
    private Socket connect(ObjectLocation.Http location, long deadline) throws IOException, FetchException {
        List<InetAddress> addresses = addressPolicy.check(location);
        IOException last = null;
        for (InetAddress address : addresses) {
            Socket socket = new Socket();
            try {
                int timeout = (int) Math.min(options.connectTimeout().toMillis(), remainingMillis(deadline));
                socket.connect(new InetSocketAddress(address, location.port()), Math.max(timeout, 1));
                if (!location.tls()) {
                    return socket;
                }
                SSLSocket ssl = (SSLSocket) tls.createSocket(socket, location.host(), location.port(), true);
                SSLParameters parameters = ssl.getSSLParameters();
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                if (location.literal() == null) {
                    parameters.setServerNames(List.of(new SNIHostName(location.host())));
                }
                ssl.setSSLParameters(parameters);
                ssl.setSoTimeout((int) Math.max(1, Math.min(options.readTimeout().toMillis(), remainingMillis(deadline))));
                ssl.startHandshake();
                return ssl;
            } catch (SSLException e) {
                socket.close();
                throw e;
            } catch (IOException e) {
                socket.close();
                last = e;
            }
        }
        throw last;
    }

    private static void send(OutputStream out, ObjectLocation.Http location) throws IOException {
        boolean defaultPort = location.port() == (location.tls() ? 443 : 80);
        String host = location.host().contains(":") ? "[" + location.host() + "]" : location.host();
        String request = "GET " + location.target() + " HTTP/1.1\r\n"
                + "Host: " + host + (defaultPort ? "" : ":" + location.port()) + "\r\n"
                + "User-Agent: dermcap\r\n"
                + "Accept: */*\r\n"
                + "Accept-Encoding: identity\r\n"
                + "Connection: close\r\n\r\n";
        out.write(request.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private Head readHead(Deadlined in, ObjectLocation.Http location) throws IOException, FetchException {
        int[] budget = {MAX_HEADER_BYTES};
        while (true) {
            String statusLine = line(in, budget, location);
            String[] parts = statusLine.split(" ", 3);
            if (parts.length < 2 || !parts[0].startsWith("HTTP/1.") || !parts[1].matches("\\d{3}")) {
                throw failed(location, "not an HTTP/1.x response: '" + abbreviate(statusLine) + "'", null);
            }
            int status = Integer.parseInt(parts[1]);
            Map<String, List<String>> headers = new HashMap<>();
            int count = 0;
            for (String line = line(in, budget, location); !line.isEmpty(); line = line(in, budget, location)) {
                int colon = line.indexOf(':');
                if (colon <= 0 || ++count > MAX_HEADERS) {
                    throw failed(location, "malformed or too many response headers", null);
                }
                headers.computeIfAbsent(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                        .add(line.substring(colon + 1).trim());
            }
            if (status >= 200 || status == 101) {
                return new Head(status, headers);
            }
            // 1xx interim responses precede the real one
        }
    }

    private String line(Deadlined in, int[] budget, ObjectLocation.Http location) throws IOException, FetchException {
        StringBuilder line = new StringBuilder();
        while (true) {
            int c = in.read();
            if (c == -1) {
                throw new EOFException("connection closed in the response head");
            }
            if (--budget[0] < 0) {
                throw failed(location, "response head larger than " + MAX_HEADER_BYTES + " bytes", null);
            }
            if (c == '\n') {
                int end = line.length();
                return end > 0 && line.charAt(end - 1) == '\r' ? line.substring(0, end - 1) : line.toString();
            }
            line.append((char) c);
        }
    }

    private byte[] body(Deadlined in, Head head, ObjectLocation.Http location) throws IOException, FetchException {
        String what = location.uri().toString();
        String encoding = head.header("content-encoding");
        if (encoding != null && !encoding.equalsIgnoreCase("identity")) {
            throw failed(location, "unrequested Content-Encoding '" + encoding + "'", null);
        }
        String transfer = head.header("transfer-encoding");
        if (transfer != null) {
            if (!transfer.toLowerCase(Locale.ROOT).replace(" ", "").equals("chunked")) {
                throw failed(location, "unsupported Transfer-Encoding '" + transfer + "'", null);
            }
            return BoundedRead.readAll(new Chunked(in, location), -1, options.maxBytes(), what);
        }
        List<String> lengths = head.headers().get("content-length");
        long declared = -1;
        if (lengths != null) {
            for (String value : lengths) {
                for (String part : value.split(",")) {
                    if (!part.trim().matches("\\d{1,18}") || (declared >= 0 && declared != Long.parseLong(part.trim()))) {
                        throw failed(location, "invalid or conflicting Content-Length '" + value + "'", null);
                    }
                    declared = Long.parseLong(part.trim());
                }
            }
        }
        return BoundedRead.readAll(in, declared, options.maxBytes(), what); // no length: read until close
    }

    /** Decodes {@code Transfer-Encoding: chunked} (extensions and trailers ignored). */
    private final class Chunked extends InputStream {
        private final Deadlined in;
        private final ObjectLocation.Http location;
        private long left;
        private boolean done;

        Chunked(Deadlined in, ObjectLocation.Http location) {
            this.in = in;
            this.location = location;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) == -1 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (done) {
                return -1;
            }
            if (left == 0) {
                try {
                    int[] budget = {MAX_HEADER_BYTES};
                    String size = line(in, budget, location);
                    int semicolon = size.indexOf(';');
                    String hex = (semicolon >= 0 ? size.substring(0, semicolon) : size).trim();
                    if (!hex.matches("[0-9a-fA-F]{1,15}")) {
                        throw new IOException("malformed chunk size '" + abbreviate(size) + "'");
                    }
                    left = Long.parseLong(hex, 16);
                    if (left == 0) {
                        for (String trailer = line(in, budget, location); !trailer.isEmpty(); trailer = line(in, budget, location)) {
                            // trailers carry nothing we use
                        }
                        done = true;
                        return -1;
                    }
                } catch (FetchException e) {
                    throw new IOException(e.getMessage(), e);
                }
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n == -1) {
                throw new EOFException("connection closed inside a chunk");
            }
            left -= n;
            if (left == 0) {
                if (in.read() != '\r' || in.read() != '\n') {
                    throw new IOException("chunk not followed by CRLF");
                }
            }
            return n;
        }
    }

    /** An input stream whose reads time out on silence AND at the attempt's deadline. */
    private static final class Deadlined extends InputStream {
        private final Socket socket;
        private final InputStream in;
        private final long deadline;
        private final int readTimeout;

        Deadlined(Socket socket, InputStream in, long deadline, int readTimeout) {
            this.socket = socket;
            this.in = in;
            this.deadline = deadline;
            this.readTimeout = readTimeout;
        }

        private void arm() throws IOException {
            long left = remainingMillis(deadline);
            if (left <= 0) {
                throw new SocketTimeoutException("the attempt timed out");
            }
            socket.setSoTimeout((int) Math.min(readTimeout, left));
        }

        @Override
        public int read() throws IOException {
            arm();
            return in.read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            arm();
            return in.read(b, off, len);
        }
    }

    private static long remainingMillis(long deadline) {
        return Math.max(0, (deadline - System.nanoTime()) / 1_000_000);
    }

    private static boolean certificateProblem(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof CertificateException || t instanceof CertPathValidatorException
                    || t instanceof SSLPeerUnverifiedException) {
                return true;
            }
        }
        return false;
    }

    private static FetchException failed(ObjectLocation.Http location, String message, Throwable cause) {
        return new FetchException(Reason.FETCH_FAILED, false, 0, location.uri() + ": " + message, cause);
    }

    private static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "…" : s;
    }
}
