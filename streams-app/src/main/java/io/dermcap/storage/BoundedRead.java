package io.dermcap.storage;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

import io.dermcap.storage.FetchException.Reason;

/** Reads a body while enforcing the byte limit, so an over-long or lying server cannot exhaust memory. */
final class BoundedRead {

    private BoundedRead() {
    }

    /**
     * @param declared the length the server announced, or -1; more than {@code max} fails before reading
     * @throws FetchException TOO_LARGE past {@code max} bytes
     * @throws EOFException   when fewer than {@code declared} bytes arrive
     */
    static byte[] readAll(InputStream in, long declared, long max, String what) throws IOException, FetchException {
        if (declared > max) {
            throw tooLarge(what, declared + " bytes declared", max);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(declared > 0 ? (int) declared : 8192);
        byte[] buffer = new byte[8192];
        long total = 0;
        int n;
        while ((n = in.read(buffer)) != -1) {
            total += n;
            if (total > max) {
                throw tooLarge(what, "more than " + max + " bytes sent", max);
            }
            out.write(buffer, 0, n);
        }
        if (declared >= 0 && total != declared) {
            throw new EOFException(what + ": connection ended after " + total + " of " + declared + " bytes");
        }
        return out.toByteArray();
    }

    static FetchException tooLarge(String what, String detail, long max) {
        return new FetchException(Reason.TOO_LARGE, false, 0, what + " is too large: " + detail
                + " (limit " + max + " bytes)", null);
    }
}
