package io.dermcap.image;

/**
 * What an encoded image may cost before it is decoded.
 *
 * @param maxPixels width × height read from the header
 * @param maxBytes  size of the encoded bytes
 */
public record ImageLimits(long maxPixels, long maxBytes) {

    public ImageLimits {
        if (maxPixels < 1 || maxBytes < 1) {
            throw new IllegalArgumentException("image limits must be positive: " + maxPixels + " px, " + maxBytes + " bytes");
        }
    }
}
