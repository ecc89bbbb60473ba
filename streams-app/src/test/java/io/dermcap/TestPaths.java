package io.dermcap;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the tests find the repository's committed fixtures and the released model's reference data. */
public final class TestPaths {

    private TestPaths() {
    }

    /** The repository root: surefire sets {@code dermcap.repo.root}; an IDE run falls back to the working directory's parent. */
    public static Path repoRoot() {
        String root = System.getProperty("dermcap.repo.root");
        Path path = root != null ? Path.of(root) : Path.of("").toAbsolutePath().getParent();
        if (!Files.isDirectory(path.resolve("onnx-models"))) {
            throw new IllegalStateException("no onnx-models folder under " + path.toAbsolutePath()
                    + "; set -Ddermcap.repo.root to the repository root");
        }
        return path.toAbsolutePath().normalize();
    }

    public static Path fixtures() {
        return repoRoot().resolve("onnx-models/fixtures");
    }

    /** {@code onnx-models/release}: the released config and reference captions (its README names their origin). */
    public static Path release() {
        return repoRoot().resolve("onnx-models/release");
    }
}
