package io.dermcap.demo;

import io.dermcap.TestPaths;
import io.dermcap.model.bundle.Bundle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ToyBundleTest {

    @Test
    void extractsTheCommittedToyBundleAndTheLoaderAcceptsIt(@TempDir Path tmp) throws Exception {
        Path dir = ToyBundle.extract(tmp.resolve("bundle"));
        Bundle bundle = Bundle.load(dir);
        assertThat(bundle.manifest().name()).isEqualTo(ToyBundle.NAME);
        Path toy = TestPaths.fixtures().resolveSibling("toy").resolve("bundle");
        List<String> committed = names(toy);
        assertThat(names(dir)).isEqualTo(committed);
        for (String f : committed) {
            assertThat(dir.resolve(f)).as(f).hasSameBinaryContentAs(toy.resolve(f));
        }
    }

    private static List<String> names(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void listsTheGraphsAndTheirExternalDataAndRefusesPaths() throws IOException {
        String manifest = """
                {"graphs": {"a": {"file": "a.onnx", "external_data": [{"file": "a.onnx.data"}]},
                            "b": {"file": "b.onnx", "external_data": []}}}""";
        assertThat(ToyBundle.listedFiles(manifest.getBytes(StandardCharsets.UTF_8)))
                .isEqualTo(List.of("a.onnx", "a.onnx.data", "b.onnx"));
        String escaping = """
                {"graphs": {"a": {"file": "../a.onnx", "external_data": []}}}""";
        assertThatThrownBy(() -> ToyBundle.listedFiles(escaping.getBytes(StandardCharsets.UTF_8)))
                .hasMessageContaining("../a.onnx");
    }
}
