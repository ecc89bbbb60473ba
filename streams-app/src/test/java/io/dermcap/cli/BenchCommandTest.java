package io.dermcap.cli;

import io.dermcap.TestPaths;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class BenchCommandTest {

    @Test
    void printsARowPerBatchSizeAndComparesWithTheTorchReference() {
        CaptionCommandTest.Run r = CaptionCommandTest.run("bench",
                "--bundle", TestPaths.fixtures().resolve("tiny-bundle").toString(),
                "--onnx-models", TestPaths.repoRoot().resolve("onnx-models").toString(),
                "--threads", "1", "--batch", "1,2", "--rounds", "1", "--reference-images", "1",
                "--max-new-tokens", "8", "--min-new-tokens", "2",
                TestPaths.fixtures().resolve("parity/images/rgb.bmp").toString(),
                TestPaths.fixtures().resolve("parity/images/gray.png").toString());
        assertThat(r.exit()).as(r.stderr()).isZero();
        String out = String.join("\n", r.stdout());
        assertThat(out).contains("float32 cache").contains("loaded in").contains("| batch | images | images/s |");
        assertThat(r.stdout()).anyMatch(l -> l.startsWith("| 1 | 1 |")).anyMatch(l -> l.startsWith("| 2 | 2 |"));
        // same weights, image and settings: the engine and torch must agree token for token
        assertThat(out).contains("engine ÷ torch:").contains("identical tokens for 1 of 1 images");
    }
}
