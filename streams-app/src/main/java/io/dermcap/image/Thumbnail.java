package io.dermcap.image;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A small PNG of an encoded image, made in memory: decoded under the same byte and pixel limits
 * as captioning (the pixel count read from the header first), scaled so its longer side is at
 * most {@code maxSide}, encoded without touching the disk (ImageIO's cache is off).
 */
public final class Thumbnail {

    static {
        ImageIO.setUseCache(false);
    }

    private Thumbnail() {
    }

    public static byte[] png(byte[] encoded, ImageLimits limits, int maxSide) throws ImageException {
        RgbImage image = new ImagePreprocessor(null, limits).decode(encoded);
        double scale = Math.min(1.0, (double) maxSide / Math.max(image.width(), image.height()));
        int w = Math.max(1, (int) Math.round(image.width() * scale));
        int h = Math.max(1, (int) Math.round(image.height() * scale));
        RgbImage small = scale < 1.0 ? BicubicResampler.resizeWindow(image, w, h, 0, 0, w, h) : image;
        BufferedImage out = new BufferedImage(small.width(), small.height(), BufferedImage.TYPE_INT_RGB);
        byte[] rgb = small.rgb();
        for (int y = 0, i = 0; y < small.height(); y++) {
            for (int x = 0; x < small.width(); x++, i += 3) {
                out.setRGB(x, y, (rgb[i] & 0xff) << 16 | (rgb[i + 1] & 0xff) << 8 | (rgb[i + 2] & 0xff));
            }
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            ImageIO.write(out, "png", bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode a PNG in memory", e);
        }
        return bytes.toByteArray();
    }
}
