package io.dermcap.image;

/** 8-bit RGB pixels, row-major, interleaved ({@code rgb[3 * (y * width + x) + c]}). */
public record RgbImage(int width, int height, byte[] rgb) {
    public RgbImage {
        if (width < 1 || height < 1 || rgb.length != 3L * width * height) {
            throw new IllegalArgumentException("expected " + width + "x" + height + "x3 bytes, got " + rgb.length);
        }
    }
}
