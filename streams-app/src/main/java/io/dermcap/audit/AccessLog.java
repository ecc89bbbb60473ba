package io.dermcap.audit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.HexFormat;

/**
 * One line per audit request: when, who (client name or {@code -}), from where, what was looked
 * up and by which key, the status and how many outcomes went out. Never a caption or an event
 * field; a passthrough value (possibly an accession number) is written as the first 16 hex digits
 * of its sha256, enough to match it against a known value. To a file, or else to the logger
 * {@value #LOGGER}.
 */
final class AccessLog implements AutoCloseable {

    static final String LOGGER = "dermcap.audit.access";
    private static final Logger log = LoggerFactory.getLogger(LOGGER);

    private final Writer file;

    AccessLog(Path file) {
        try {
            this.file = file == null ? null : Files.newBufferedWriter(file, StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the audit access log " + file, e);
        }
    }

    /** What a request looked up: the route and its key, as it may be written. */
    record Lookup(String route, String key) {
        static final Lookup NONE = new Lookup("-", "-");

        static Lookup hashed(String route, String secretish) {
            return new Lookup(route, "sha256:" + HexFormat.of().formatHex(Credentials.sha256(secretish)).substring(0, 16));
        }
    }

    void write(String client, String remote, String method, Lookup lookup, String scope, int status, int outcomes, long micros) {
        String line = "at=" + Instant.now() + " client=" + client + " remote=" + remote + " method=" + method
                + " route=" + lookup.route() + " key=" + clean(lookup.key()) + " scope=" + scope + " status=" + status
                + " outcomes=" + outcomes + " us=" + micros;
        if (file == null) {
            log.info(line);
            return;
        }
        synchronized (this) {
            try {
                file.write(line);
                file.write('\n');
                file.flush();
            } catch (IOException e) {
                log.error("event=audit_access_log_failed error={}", e.getClass().getSimpleName());
            }
        }
    }

    /** Keys are validated before they are logged; this keeps a line one line whatever comes. */
    private static String clean(String s) {
        return s.replaceAll("[\\s\\p{Cntrl}]", "_");
    }

    @Override
    public synchronized void close() throws IOException {
        if (file != null) {
            file.close();
        }
    }
}
