package io.dermcap.audit;

import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Who may use the audit endpoint: clients with a hashed secret each, one per line as
 * {@code NAME sha256:HEX} (for long random tokens) or
 * {@code NAME pbkdf2-sha256:ITERATIONS:SALT_BASE64:HASH_BASE64} (for passwords people choose).
 * A bearer token is checked against every sha256 entry; basic auth against its user's entry.
 * The secrets themselves are never held.
 */
public final class Credentials {

    private sealed interface Secret permits Sha256, Pbkdf2 {
        boolean matches(String secret);
    }

    private record Sha256(byte[] hash) implements Secret {
        @Override
        public boolean matches(String secret) {
            return MessageDigest.isEqual(hash, sha256(secret));
        }
    }

    private record Pbkdf2(int iterations, byte[] salt, byte[] hash) implements Secret {
        @Override
        public boolean matches(String secret) {
            return MessageDigest.isEqual(hash, pbkdf2(secret, salt, iterations, hash.length));
        }
    }

    private final Map<String, Secret> clients;

    private Credentials(Map<String, Secret> clients) {
        this.clients = clients;
    }

    /**
     * @param text lines (or {@code ;}-separated entries); blank ones and {@code #} comments skipped
     * @throws IllegalArgumentException naming the entry (by number, never its content) that is wrong
     */
    public static Credentials parse(String text) {
        Map<String, Secret> clients = new LinkedHashMap<>();
        String[] entries = text.split("[;\\n]");
        for (int i = 0; i < entries.length; i++) {
            String line = entries[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] parts = line.split("\\s+");
            if (parts.length != 2 || !parts[0].matches("[A-Za-z0-9._@-]{1,64}")) {
                throw new IllegalArgumentException("entry " + (i + 1) + " is not 'NAME sha256:HEX' or 'NAME pbkdf2-sha256:...'");
            }
            if (clients.put(parts[0], secret(parts[1], i + 1)) != null) {
                throw new IllegalArgumentException("entry " + (i + 1) + " repeats a client name");
            }
        }
        if (clients.isEmpty()) {
            throw new IllegalArgumentException("no client is configured");
        }
        return new Credentials(Map.copyOf(clients));
    }

    private static Secret secret(String spec, int entry) {
        try {
            if (spec.startsWith("sha256:")) {
                byte[] hash = HexFormat.of().parseHex(spec.substring(7).toLowerCase(java.util.Locale.ROOT));
                if (hash.length == 32) {
                    return new Sha256(hash);
                }
            } else if (spec.startsWith("pbkdf2-sha256:")) {
                String[] p = spec.split(":");
                if (p.length == 4 && Integer.parseInt(p[1]) >= 10_000) {
                    return new Pbkdf2(Integer.parseInt(p[1]), Base64.getDecoder().decode(p[2]), Base64.getDecoder().decode(p[3]));
                }
            }
        } catch (IllegalArgumentException malformed) {
            // reported below without the content
        }
        throw new IllegalArgumentException("entry " + entry + " has no valid hash (sha256:<64 hex> or "
                + "pbkdf2-sha256:<iterations >= 10000>:<salt base64>:<hash base64>)");
    }

    /** The client a bearer token belongs to, or null. Every entry is compared, so timing tells nothing. */
    public String bearer(String token) {
        String who = null;
        for (Map.Entry<String, Secret> e : clients.entrySet()) {
            if (e.getValue() instanceof Sha256 s && s.matches(token)) {
                who = e.getKey();
            }
        }
        return who;
    }

    /** {@code user} when the password is right, else null. */
    public String basic(String user, String password) {
        Secret s = clients.get(user);
        return s != null && s.matches(password) ? user : null;
    }

    /** The entry line for a new token: {@code NAME sha256:HEX}. */
    public static String sha256Entry(String name, String token) {
        return name + " sha256:" + HexFormat.of().formatHex(sha256(token));
    }

    static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    static byte[] pbkdf2(String secret, byte[] salt, int iterations, int length) {
        try {
            return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
                    .generateSecret(new PBEKeySpec(secret.toCharArray(), salt, iterations, length * 8)).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("PBKDF2WithHmacSHA256 is part of every JDK", e);
        }
    }
}
