package io.dermcap.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The committed toy bundle ({@code onnx-models/toy/bundle}, onnx-models/TOY.md): a small captioner
 * of the released architecture family trained on synthetic lesion drawings, copied into the jar at
 * build time so that the demo works wherever the jar runs. Its captions describe the held-out
 * drawings ({@link HeldOutLesions}); it is not a medical model. {@link #extract} only copies
 * files; the caller loads the copy with the normal bundle loader, which checks every hash against
 * the manifest.
 */
public final class ToyBundle {

    /** The manifest's {@code name}. */
    public static final String NAME = "dermcap-toy-synthetic-lesions";
    static final String RESOURCE_DIR = "/io/dermcap/demo/toy-bundle/";

    private ToyBundle() {
    }

    /** Copies the bundle's manifest and every file it lists into {@code dir} (created); returns {@code dir}. */
    public static Path extract(Path dir) {
        try {
            Files.createDirectories(dir);
            byte[] manifest = read("manifest.json");
            Files.write(dir.resolve("manifest.json"), manifest);
            for (String file : listedFiles(manifest)) {
                Files.write(dir.resolve(file), read(file));
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract the built-in toy bundle into " + dir, e);
        }
    }

    /** The graph files and their external data files, as the manifest names them. */
    static List<String> listedFiles(byte[] manifest) throws IOException {
        JsonNode graphs = new ObjectMapper().readTree(manifest).path("graphs");
        List<String> files = new ArrayList<>();
        for (JsonNode graph : graphs) {
            files.add(graph.path("file").asText());
            graph.path("external_data").forEach(d -> files.add(d.path("file").asText()));
        }
        for (String f : files) {
            if (f.isEmpty() || f.contains("/") || f.contains("\\")) {
                throw new IOException("the built-in manifest names an unexpected file '" + f + "'");
            }
        }
        return files;
    }

    private static byte[] read(String file) throws IOException {
        try (InputStream in = ToyBundle.class.getResourceAsStream(RESOURCE_DIR + file)) {
            if (in == null) {
                throw new IOException("resource " + RESOURCE_DIR + file + " is missing from this build"
                        + " (it is copied from onnx-models/toy/bundle when the demo module is built)");
            }
            return in.readAllBytes();
        }
    }
}
