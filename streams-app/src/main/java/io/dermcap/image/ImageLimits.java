package io.dermcap.image;

/**
 * What an encoded image may cost before it is decoded.
 *
 * @param maxPixels width × height read from the header; Pillow's default bomb limit is 89,478,485
 * @param maxBytes  size of the encoded bytes
 */
public record ImageLimits(long maxPixels, long maxBytes) {

    public static final long PIL_MAX_PIXELS = 89_478_485L;
    public static final ImageLimits DEFAULT = new ImageLimits(PIL_MAX_PIXELS, 64L * 1024 * 1024);

    public ImageLimits {
        if (maxPixels < 1 || maxBytes < 1) {
            throw new IllegalArgumentException("image limits must be positive: " + maxPixels + " px, " + maxBytes + " bytes");
        }
    }
}
