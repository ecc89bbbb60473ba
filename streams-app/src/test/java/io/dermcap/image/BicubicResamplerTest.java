package io.dermcap.image;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BicubicResamplerTest {

    @Test
    void matchesPillowBitForBitOnEverySize() {
        JsonNode resample = PilVectors.index().get("resample");
        RgbImage src = PilVectors.expected(resample.get("source").asText());
        assertThat(resample.get("outputs")).hasSizeGreaterThanOrEqualTo(5);
        for (JsonNode out : resample.get("outputs")) {
            int w = out.get("size").get(0).asInt();
            int h = out.get("size").get(1).asInt();
            RgbImage expected = PilVectors.expected(out.get("file").asText());
            RgbImage actual = BicubicResampler.resize(src, w, h);
            PilVectors.assertSame(w + "x" + h, actual, expected);
        }
    }

    @Test
    void windowEqualsTheSameRegionOfTheFullResize() {
        Random random = new Random(7);
        for (int trial = 0; trial < 20; trial++) {
            RgbImage src = randomImage(random, 1 + random.nextInt(60), 1 + random.nextInt(60));
            int outW = 1 + random.nextInt(80);
            int outH = 1 + random.nextInt(80);
            int w = 1 + random.nextInt(outW);
            int h = 1 + random.nextInt(outH);
            int x0 = random.nextInt(outW - w + 1);
            int y0 = random.nextInt(outH - h + 1);
            RgbImage full = BicubicResampler.resize(src, outW, outH);
            RgbImage window = BicubicResampler.resizeWindow(src, outW, outH, x0, y0, w, h);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    for (int c = 0; c < 3; c++) {
                        assertThat(window.rgb()[3 * (y * w + x) + c])
                                .as("trial %d pixel %d,%d", trial, x, y)
                                .isEqualTo(full.rgb()[3 * ((y0 + y) * outW + x0 + x) + c]);
                    }
                }
            }
        }
    }

    @Test
    void sameSizeIsTheIdentityAndAFlatImageStaysFlat() {
        RgbImage src = randomImage(new Random(3), 17, 9);
        assertThat(BicubicResampler.resize(src, 17, 9).rgb()).isEqualTo(src.rgb());
        byte[] flat = new byte[3 * 31 * 13];
        java.util.Arrays.fill(flat, (byte) 173);
        RgbImage resized = BicubicResampler.resize(new RgbImage(31, 13, flat), 224, 95);
        for (byte b : resized.rgb()) {
            assertThat(b & 0xff).isEqualTo(173);
        }
    }

    @Test
    void bicubicKernelIsKeysWithAMinusOneHalf() {
        assertThat(BicubicResampler.bicubic(0.0)).isEqualTo(1.0);
        assertThat(BicubicResampler.bicubic(1.0)).isZero();
        assertThat(BicubicResampler.bicubic(2.0)).isZero();
        assertThat(BicubicResampler.bicubic(0.5)).isEqualTo(0.5625);
        assertThat(BicubicResampler.bicubic(-1.5)).isEqualTo(-0.0625);
    }

    @Test
    void rejectsAWindowOutsideTheOutput() {
        RgbImage src = randomImage(new Random(1), 4, 4);
        assertThatThrownBy(() -> BicubicResampler.resizeWindow(src, 10, 10, 5, 0, 6, 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("outside a 10x10 image");
    }

    static RgbImage randomImage(Random random, int w, int h) {
        byte[] rgb = new byte[3 * w * h];
        random.nextBytes(rgb);
        return new RgbImage(w, h, rgb);
    }
}
