package io.dermcap.image;

/** Encoded bytes that cannot become a {@link PixelTensor}; the message says what is wrong. */
public class ImageException extends Exception {

    public enum Reason {
        /** zero bytes */
        EMPTY,
        /** more encoded bytes than the byte limit allows */
        TOO_LARGE,
        /** not a format we decode (JPEG, PNG, BMP, GIF, TIFF, WebP) */
        UNSUPPORTED_FORMAT,
        /** a known format, but truncated or corrupt */
        CORRUPT,
        /** width × height over the pixel limit, checked from the header before decoding */
        TOO_MANY_PIXELS,
        /** zero width or height */
        EMPTY_DIMENSIONS
    }

    private final Reason reason;

    public ImageException(Reason reason, String message) {
        this(reason, message, null);
    }

    public ImageException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
