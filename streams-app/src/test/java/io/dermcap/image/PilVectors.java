package io.dermcap.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dermcap.TestPaths;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The vectors of {@code onnx-models/fixtures/pil_vectors.py}: inputs and what Pillow made of them. */
final class PilVectors {

    static final Path DIR = TestPaths.fixtures().resolve("pil-vectors");

    private PilVectors() {
    }

    static JsonNode index() {
        try {
            return new ObjectMapper().readTree(DIR.resolve("vectors.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] bytes(String name) {
        try {
            return Files.readAllBytes(DIR.resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An expected image, stored as an 8-bit RGB PNG (read with the plain JDK reader). */
    static RgbImage expected(String name) {
        try {
            BufferedImage image = ImageIO.read(DIR.resolve(name).toFile());
            int w = image.getWidth();
            int h = image.getHeight();
            byte[] rgb = new byte[3 * w * h];
            int bands = image.getRaster().getNumBands();
            int[] px = image.getRaster().getPixels(0, 0, w, h, (int[]) null);
            for (int p = 0; p < w * h; p++) {
                for (int c = 0; c < 3; c++) {
                    rgb[3 * p + c] = (byte) px[bands * p + c];
                }
            }
            return new RgbImage(w, h, rgb);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Fails with the first differing sample and the largest difference, not a dump of both arrays. */
    static void assertSame(String what, RgbImage actual, RgbImage expected) {
        org.assertj.core.api.Assertions.assertThat(actual.width() + "x" + actual.height()).as(what)
                .isEqualTo(expected.width() + "x" + expected.height());
        for (int i = 0; i < actual.rgb().length; i++) {
            if (actual.rgb()[i] != expected.rgb()[i]) {
                int p = i / 3;
                throw new AssertionError(String.format("%s: first difference at x=%d y=%d channel %d: %d, Pillow %d; max difference %d",
                        what, p % actual.width(), p / actual.width(), i % 3, actual.rgb()[i] & 0xff,
                        expected.rgb()[i] & 0xff, maxDiff(actual, expected)));
            }
        }
    }

    static double meanDiff(RgbImage a, RgbImage b) {
        long sum = 0;
        for (int i = 0; i < a.rgb().length; i++) {
            sum += Math.abs((a.rgb()[i] & 0xff) - (b.rgb()[i] & 0xff));
        }
        return (double) sum / a.rgb().length;
    }

    /** Largest absolute difference of two equally sized images, in uint8 steps. */
    static int maxDiff(RgbImage a, RgbImage b) {
        int max = 0;
        for (int i = 0; i < a.rgb().length; i++) {
            max = Math.max(max, Math.abs((a.rgb()[i] & 0xff) - (b.rgb()[i] & 0xff)));
        }
        return max;
    }
}
