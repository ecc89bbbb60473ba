package io.dermcap.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The toy captioner's held-out drawings ({@code onnx-models/toy/heldout}, rendered by {@code
 * python3 -m dermcap_toy heldout} from seeds the training never used), built into the jar: each
 * image's bytes and true attributes, and the scorer for their captions. Loaded from the classpath
 * so the demo works wherever the jar runs.
 */
public final class HeldOutLesions {

    static final String RESOURCE_DIR = "/io/dermcap/demo/toy-heldout/";

    /** One drawing: its file name in the set, its JPEG bytes, its true attributes and the caption it was trained to get. */
    public record Example(String file, byte[] bytes, Map<String, String> attributes, String caption) {

        /** e.g. {@code size=small colour=red skin=deep hair=no}. */
        public String describe() {
            StringBuilder s = new StringBuilder();
            attributes.forEach((k, v) -> s.append(s.isEmpty() ? "" : " ").append(k).append('=').append(v));
            return s.toString();
        }
    }

    private final List<Example> examples;
    private final CaptionScorer scorer;

    private HeldOutLesions(List<Example> examples, CaptionScorer scorer) {
        this.examples = List.copyOf(examples);
        this.scorer = scorer;
    }

    /** The set built into the jar. */
    public static HeldOutLesions builtIn() {
        try {
            JsonNode labels = new ObjectMapper().readTree(read("labels.json"));
            List<Example> examples = new ArrayList<>();
            for (JsonNode image : labels.path("images")) {
                Map<String, String> attributes = new LinkedHashMap<>();
                image.path("attributes").fields().forEachRemaining(e -> attributes.put(e.getKey(), e.getValue().asText()));
                String file = image.path("file").asText();
                if (file.isEmpty() || file.contains("/") || file.contains("\\")) {
                    throw new IOException("labels.json names an unexpected file '" + file + "'");
                }
                examples.add(new Example(file, read(file), attributes, image.path("caption").asText()));
            }
            if (examples.isEmpty()) {
                throw new IOException("labels.json lists no images");
            }
            return new HeldOutLesions(examples, CaptionScorer.of(labels.path("vocabulary")));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the built-in held-out lesions", e);
        }
    }

    public List<Example> examples() {
        return examples;
    }

    public CaptionScorer scorer() {
        return scorer;
    }

    private static byte[] read(String file) throws IOException {
        try (InputStream in = HeldOutLesions.class.getResourceAsStream(RESOURCE_DIR + file)) {
            if (in == null) {
                throw new IOException("resource " + RESOURCE_DIR + file + " is missing from the jar");
            }
            return in.readAllBytes();
        }
    }
}
