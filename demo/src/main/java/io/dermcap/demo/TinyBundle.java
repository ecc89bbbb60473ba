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
 * The committed tiny fixture bundle ({@code onnx-models/fixtures/tiny-bundle}), copied into the
 * jar at build time so that {@code dermcap demo} works wherever the jar runs. Random weights,
 * the real architecture scaled down: its captions are gibberish by design. {@link #extract}
 * only copies files; the caller loads the copy with the normal bundle loader, which checks every
 * hash against the manifest.
 */
public final class TinyBundle {

    static final String RESOURCE_DIR = "/io/dermcap/demo/tiny-bundle/";

    private TinyBundle() {
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
            throw new UncheckedIOException("cannot extract the built-in tiny bundle into " + dir, e);
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
        try (InputStream in = TinyBundle.class.getResourceAsStream(RESOURCE_DIR + file)) {
            if (in == null) {
                throw new IOException("resource " + RESOURCE_DIR + file + " is missing from this build"
                        + " (it is copied from onnx-models/fixtures/tiny-bundle when streams-app is built)");
            }
            return in.readAllBytes();
        }
    }
}
