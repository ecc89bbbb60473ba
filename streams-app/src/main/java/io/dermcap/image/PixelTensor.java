package io.dermcap.image;

/**
 * One preprocessed image: CHW float32 values, already normalised with the CLIP mean and std,
 * ready for {@code pixel_values}.
 */
public record PixelTensor(int size, float[] chw) {
    public PixelTensor {
        if (chw.length != 3 * size * size) {
            throw new IllegalArgumentException("expected 3x" + size + "x" + size + " values, got " + chw.length);
        }
    }
}
