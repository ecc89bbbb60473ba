package io.dermcap.image;

/**
 * One preprocessed image: CHW float32 values, already normalised with the CLIP mean and std,
 * ready for {@code pixel_values}. {@code sha256} is the hash of the encoded bytes it came from.
 */
public record PixelTensor(int size, float[] chw, String sha256) {
    public PixelTensor {
        if (chw.length != 3 * size * size) {
            throw new IllegalArgumentException("expected 3x" + size + "x" + size + " values, got " + chw.length);
        }
    }
}
