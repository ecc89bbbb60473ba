package io.dermcap.cli;

import io.dermcap.pipeline.FailureReason;
import io.dermcap.storage.FetchException;
import io.dermcap.storage.StorageFetcher;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The images named on a command line, as URIs for the fetcher: files and folders (searched
 * recursively, as {@code file://}), {@code s3://bucket/prefix/} (listed through the fetcher, so the
 * bucket allow-list holds), and single {@code s3://}, {@code https://} or {@code http://} objects
 * (fetched later like any other; a refusal is that image's failure). An argument that names
 * nothing is a problem of that argument.
 */
final class Inputs {

    /** One image: {@code name} as the user wrote it (or the listed URI), {@code uri} for the fetcher. */
    record Input(String name, String uri) {
    }

    /** An argument that named nothing readable. */
    record Problem(String argument, String message) {
    }

    record Expanded(List<Input> inputs, List<Problem> problems) {
    }

    private static final Set<String> IMAGE_SUFFIXES = Set.of("jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff", "webp");
    private static final Set<String> OBJECT_SCHEMES = Set.of("s3", "https", "http");
    /** Keys per listing request (S3's own maximum). */
    private static final int LIST_PAGE = 1000;

    private Inputs() {
    }

    static Expanded expand(List<String> arguments, StorageFetcher fetcher) {
        List<Input> inputs = new ArrayList<>();
        List<Problem> problems = new ArrayList<>();
        for (String argument : arguments) {
            try {
                List<Input> found = expand(argument, fetcher);
                if (found.isEmpty()) {
                    problems.add(new Problem(argument, "no images found (looked for " + IMAGE_SUFFIXES + ")"));
                }
                inputs.addAll(found);
            } catch (FetchException e) {
                problems.add(new Problem(argument, FailureReason.of(e.reason()) + ": " + e.getMessage()));
            } catch (IOException | IllegalArgumentException e) {
                problems.add(new Problem(argument, e.getMessage() == null ? e.toString() : e.getMessage()));
            }
        }
        return new Expanded(inputs, problems);
    }

    private static List<Input> expand(String argument, StorageFetcher fetcher) throws IOException, FetchException {
        String scheme = scheme(argument);
        if (scheme == null || scheme.equals("file")) {
            return localFiles(scheme == null ? Path.of(argument) : Path.of(URI.create(argument)));
        }
        if (!OBJECT_SCHEMES.contains(scheme)) {
            throw new IllegalArgumentException("no input source for " + scheme + "://; files, folders, s3://, https:// and "
                    + "http:// are read");
        }
        if (scheme.equals("s3") && argument.endsWith("/")) {
            return fetcher.list(argument, LIST_PAGE).stream().filter(Inputs::isImage).map(u -> new Input(u, u)).toList();
        }
        return List.of(new Input(argument, argument));
    }

    /** Lower case; null when the argument is a plain path. */
    private static String scheme(String argument) {
        if (!argument.matches("^[a-zA-Z][a-zA-Z0-9+.-]*://.*")) {
            return null;
        }
        return argument.substring(0, argument.indexOf("://")).toLowerCase(Locale.ROOT);
    }

    /** A file, or a folder's images (sorted, so runs are repeatable). */
    private static List<Input> localFiles(Path path) throws IOException {
        if (Files.isRegularFile(path)) {
            return List.of(file(path));
        }
        if (!Files.isDirectory(path)) {
            throw new java.nio.file.NoSuchFileException(path.toString(), null, "no such file or folder");
        }
        try (Stream<Path> walk = Files.walk(path)) {
            return walk.filter(Files::isRegularFile).filter(p -> isImage(p.getFileName().toString())).sorted()
                    .map(Inputs::file).toList();
        }
    }

    private static boolean isImage(String name) {
        int dot = name.lastIndexOf('.');
        return dot > 0 && IMAGE_SUFFIXES.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    private static Input file(Path path) {
        return new Input(path.toString(), path.toAbsolutePath().normalize().toUri().toString());
    }
}
