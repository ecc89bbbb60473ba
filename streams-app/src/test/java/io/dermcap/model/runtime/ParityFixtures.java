package io.dermcap.model.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dermcap.TestPaths;
import io.dermcap.image.ImageException;
import io.dermcap.image.ImagePreprocessor;
import io.dermcap.image.PixelTensor;
import io.dermcap.model.Captioner.Request;
import io.dermcap.model.GenerationSettings;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;

/** {@code onnx-models/fixtures/parity/cases.json} and the files it names (BUNDLE.md, "Parity fixtures"). */
public final class ParityFixtures {

    static final Path DIR = TestPaths.fixtures().resolve("parity");
    static final Path TINY_BUNDLE = TestPaths.fixtures().resolve("tiny-bundle");
    static final JsonNode INDEX = read();

    private ParityFixtures() {
    }

    private static JsonNode read() {
        try {
            return new ObjectMapper().readTree(DIR.resolve("cases.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static List<JsonNode> cases() {
        List<JsonNode> out = new ArrayList<>();
        INDEX.get("cases").forEach(out::add);
        return out;
    }

    static byte[] image(JsonNode c) throws IOException {
        return Files.readAllBytes(DIR.resolve(c.get("image").asText()));
    }

    /** The uint8 HWC 224×224×3 crop torchvision produced. */
    static byte[] pixels(JsonNode c) throws IOException {
        try (GZIPInputStream in = new GZIPInputStream(Files.newInputStream(DIR.resolve(c.get("pixels").asText())))) {
            return in.readAllBytes();
        }
    }

    static float[] prefixEmbeds(JsonNode c) throws IOException {
        byte[] raw = Files.readAllBytes(DIR.resolve(c.get("prefix_embeds").asText()));
        float[] out = new float[raw.length / 4];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    /** One generation of a case: "case/generation", the request that asks for it, torch's result. */
    record Generation(String name, Request request, JsonNode reference) {
    }

    /** Every generation of every case, in the order of cases.json. */
    static List<Generation> generations(ImagePreprocessor preprocessor) throws IOException, ImageException {
        List<Generation> out = new ArrayList<>();
        for (JsonNode c : cases()) {
            PixelTensor pixels = preprocessor.preprocess(image(c));
            for (JsonNode g : c.get("generations")) {
                out.add(new Generation(c.get("id").asText() + "/" + g.get("name").asText(), new Request(pixels, settings(g)), g));
            }
        }
        return out;
    }

    /** torch's tokens of a generation without its final EOS: the engine's caption tokens. */
    static int[] captionTokens(JsonNode generation) {
        int[] reference = ints(generation.get("token_ids"));
        return endsOnEos(generation) ? Arrays.copyOf(reference, reference.length - 1) : reference;
    }

    static boolean endsOnEos(JsonNode generation) {
        JsonNode ids = generation.get("token_ids");
        return ids.size() > 0 && ids.get(ids.size() - 1).asInt() == 50256;
    }

    static GenerationSettings settings(JsonNode generation) {
        JsonNode s = generation.get("settings");
        List<List<Integer>> badWords = new ArrayList<>();
        s.get("bad_words_ids").forEach(seq -> badWords.add(Arrays.stream(ints(seq)).boxed().toList()));
        return new GenerationSettings(generation.get("profile").asText(), INDEX.get("prompt").asText(),
                s.get("num_beams").asInt(), s.get("max_new_tokens").asInt(), s.get("min_new_tokens").asInt(),
                s.get("no_repeat_ngram_size").asInt(), s.get("repetition_penalty").asDouble(),
                s.get("length_penalty").asDouble(), s.get("early_stopping").asBoolean(), badWords,
                generation.get("collapse_whitespace").asBoolean());
    }
}
