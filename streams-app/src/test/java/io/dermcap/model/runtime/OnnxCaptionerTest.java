package io.dermcap.model.runtime;

import io.dermcap.image.PixelTensor;
import io.dermcap.model.Caption;
import io.dermcap.model.Captioner.Overrides;
import io.dermcap.model.Captioner.Request;
import io.dermcap.model.EngineOptions;
import io.dermcap.model.GenerationSettings;
import io.dermcap.model.InvalidSettingsException;
import io.dermcap.model.ModelException;
import io.dermcap.model.ModelInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OnnxCaptionerTest {

    private static OnnxCaptioner captioner;

    @BeforeAll
    static void load() throws Exception {
        captioner = OnnxCaptioner.load(ParityFixtures.TINY_BUNDLE, new EngineOptions(1, EngineOptions.OptimizationLevel.ALL,
                EngineOptions.ExecutionProvider.CPU, 0, true));
    }

    @AfterAll
    static void close() {
        captioner.close();
    }

    @Test
    void infoCarriesTheLineageAndRuntime() {
        ModelInfo info = captioner.info();
        assertThat(info.bundleName()).isEqualTo("dermlip-gpt2-captioner-random-tiny");
        assertThat(info.randomWeights()).isTrue();
        assertThat(info.graphSha256()).containsKeys("vision_encoder.onnx", "embed_tokens.onnx", "decoder_model_merged.onnx");
        assertThat(info.runtime().engine()).isEqualTo("onnxruntime");
        assertThat(info.runtime().engineVersion()).startsWith("1.29");
        assertThat(info.runtime().executionProvider()).isEqualTo("CPU");
        assertThat(info.defaults().numBeams()).isEqualTo(4);
        assertThat(info.defaults().prompt()).startsWith("Describe the skin lesion");
    }

    @Test
    void overridesWithinBoundsAndDefaultsOtherwise() throws Exception {
        GenerationSettings d = captioner.settingsFor(Overrides.NONE);
        assertThat(d).isEqualTo(captioner.info().defaults());
        GenerationSettings s = captioner.settingsFor(new Overrides("Describe the lesion.", 2, 30, 10));
        assertThat(s.prompt()).isEqualTo("Describe the lesion.");
        assertThat(s.numBeams()).isEqualTo(2);
        assertThat(s.maxNewTokens()).isEqualTo(30);
        assertThat(s.minNewTokens()).isEqualTo(10);
        assertThat(s.repetitionPenalty()).isEqualTo(1.15);
        // a max below the default min lowers the min with it
        assertThat(captioner.settingsFor(new Overrides(null, null, 8, null)).minNewTokens()).isEqualTo(8);
    }

    @Test
    void aRequestPicksAProfileAndItsSettings() throws Exception {
        assertThat(captioner.info().defaults().profile()).isEqualTo("published");
        GenerationSettings card = captioner.settingsFor(new Overrides(null, null, null, null, "card"));
        assertThat(card.profile()).isEqualTo("card");
        assertThat(card.maxNewTokens()).isEqualTo(60);
        assertThat(card.badWordsIds()).isEmpty();
        assertThat(card.collapseWhitespace()).isFalse();
        GenerationSettings published = captioner.settingsFor(new Overrides(null, 1, null, null, "published"));
        assertThat(published.maxNewTokens()).isEqualTo(80);
        assertThat(published.numBeams()).isEqualTo(1);
        assertThat(published.badWordsIds()).hasSize(10).first().isEqualTo(List.of(36163, 3315, 3241)); // "seek medical attention"
        assertThat(published.collapseWhitespace()).isTrue();
        assertInvalid(new Overrides(null, null, null, null, "fancy"),
                "unknown generation profile 'fancy'; the bundle has card, training-eval, published");
    }

    @Test
    void overridesOutOfBoundsAreRefusedWithTheBound() {
        assertInvalid(new Overrides(null, 0, null, null), "num_beams must be between 1 and 8, got 0");
        assertInvalid(new Overrides(null, 9, null, null), "num_beams must be between 1 and 8, got 9");
        assertInvalid(new Overrides(null, null, 0, null), "max_new_tokens must be between 1 and 256, got 0");
        assertInvalid(new Overrides(null, null, 300, null), "max_new_tokens must be between 1 and 256, got 300");
        assertInvalid(new Overrides(null, null, 20, 30), "min_new_tokens must be between 0 and max_new_tokens (20), got 30");
        String longPrompt = "lesion ".repeat(1000);
        assertInvalid(new Overrides(longPrompt, null, null, null), "over the model's 1024");
    }

    @Test
    void aMisSizedPixelTensorFailsTheBatchWithAModelException() {
        Request bad = new Request(new PixelTensor(8, new float[3 * 8 * 8]), captioner.info().defaults());
        assertThatThrownBy(() -> captioner.caption(List.of(bad)))
                .isInstanceOf(ModelException.class)
                .hasMessageContaining("preprocessed to 8 pixels, the bundle needs 224");
    }

    @Test
    void concurrentCallersGetTheSameCaptionsAsSequentialOnes() throws Exception {
        GenerationSettings quick = captioner.settingsFor(new Overrides(null, 2, 12, 4));
        List<Request> requests = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            float[] chw = new float[3 * 224 * 224];
            java.util.Arrays.fill(chw, i * 0.3f - 0.5f);
            requests.add(new Request(new PixelTensor(224, chw), quick));
        }
        List<Caption> sequential = new ArrayList<>();
        for (Request r : requests) {
            sequential.add(captioner.caption(List.of(r)).get(0));
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Caption>> futures = new ArrayList<>();
            for (Request r : requests) {
                futures.add(pool.submit(() -> captioner.caption(List.of(r)).get(0)));
            }
            for (int i = 0; i < requests.size(); i++) {
                assertThat(futures.get(i).get().tokenIds()).isEqualTo(sequential.get(i).tokenIds());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static void assertInvalid(Overrides o, String message) {
        assertThatThrownBy(() -> captioner.settingsFor(o)).isInstanceOf(InvalidSettingsException.class).hasMessageContaining(message);
    }
}
