package io.dermcap.demo;

import io.dermcap.image.ImageLimits;
import io.dermcap.image.ImagePreprocessor;
import io.dermcap.image.PixelTensor;
import io.dermcap.image.PreprocessingSpec;
import io.dermcap.image.RgbImage;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class SyntheticLesionsTest {

    private final ImagePreprocessor preprocessor = new ImagePreprocessor(PreprocessingSpec.CLIP_224, ImageLimits.DEFAULT);

    @Test
    void theSameSeedGivesTheSameBytes() {
        assertThat(SyntheticLesions.generate(7).bytes()).isEqualTo(SyntheticLesions.generate(7).bytes());
        assertThat(SyntheticLesions.generate(7).bytes()).isNotEqualTo(SyntheticLesions.generate(8).bytes());
    }

    @Test
    void pngAndJpegOfVariedSizesAndAspectRatiosThatTheServiceDecodes() throws Exception {
        Set<SyntheticLesions.Format> formats = EnumSet.noneOf(SyntheticLesions.Format.class);
        Set<Long> aspects = new HashSet<>();
        boolean portrait = false;
        boolean landscape = false;
        for (int seed = 0; seed < 30; seed++) {
            SyntheticLesions.Image image = SyntheticLesions.generate(seed);
            formats.add(image.format());
            byte[] b = image.bytes();
            if (image.format() == SyntheticLesions.Format.PNG) {
                assertThat(Arrays.copyOf(b, 4)).containsExactly(0x89, 'P', 'N', 'G');
            } else {
                assertThat(Arrays.copyOf(b, 2)).containsExactly(0xFF, 0xD8);
            }
            RgbImage decoded = preprocessor.decode(b);
            assertThat(decoded.width()).isEqualTo(image.width());
            assertThat(decoded.height()).isEqualTo(image.height());
            assertThat(Math.max(image.width(), image.height())).isBetween(224, 640);
            aspects.add(Math.round(100.0 * image.width() / image.height()));
            portrait |= image.height() > image.width();
            landscape |= image.width() > image.height();
            PixelTensor tensor = preprocessor.preprocess(b);
            assertThat(tensor).isNotNull();
        }
        assertThat(formats).containsExactlyInAnyOrder(SyntheticLesions.Format.values());
        assertThat(aspects).hasSizeGreaterThanOrEqualTo(5);
        assertThat(portrait).isTrue();
        assertThat(landscape).isTrue();
    }

    @Test
    void aDarkerLesionOnSkinToneBackground() throws Exception {
        for (int seed = 0; seed < 20; seed++) {
            RgbImage img = preprocessor.decode(SyntheticLesions.generate(seed).bytes());
            int n = img.width() * img.height();
            double[] luminance = new double[n];
            long red = 0;
            long green = 0;
            long blue = 0;
            for (int i = 0; i < n; i++) {
                int r = img.rgb()[3 * i] & 0xff;
                int g = img.rgb()[3 * i + 1] & 0xff;
                int b = img.rgb()[3 * i + 2] & 0xff;
                luminance[i] = 0.299 * r + 0.587 * g + 0.114 * b;
                red += r;
                green += g;
                blue += b;
            }
            double[] sorted = luminance.clone();
            Arrays.sort(sorted);
            double median = sorted[n / 2];
            long dark = Arrays.stream(luminance).filter(l -> l < 0.75 * median).count();
            // a lesion, not a dark image: some clearly darker pixels, most of the frame skin
            assertThat(dark / (double) n).as("seed %d", seed).isBetween(0.01, 0.5);
            // skin and pigment are warm: red above green above blue on average
            assertThat(red).as("seed %d", seed).isGreaterThan(green);
            assertThat(green).as("seed %d", seed).isGreaterThan(blue);
        }
    }
}
