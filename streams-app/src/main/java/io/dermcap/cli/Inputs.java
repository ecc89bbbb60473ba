package io.dermcap.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The images named on a command line. Local files and folders are read here; a URI scheme is
 * served by a {@link Source} registered for it (object stores plug in here once the storage
 * module is wired into the CLI), and an argument no source accepts is an error for that argument.
 */
final class Inputs {

    /** One image to caption; {@link #read()} fetches its bytes. */
    interface Input {
        String name();

        byte[] read() throws IOException;
    }

    /** A way to list the images behind an argument. */
    interface Source {
        boolean accepts(String argument);

        List<Input> expand(String argument) throws IOException;
    }

    /** An argument that named nothing readable. */
    record Problem(String argument, String message) {
    }

    record Expanded(List<Input> inputs, List<Problem> problems) {
    }

    private static final Set<String> IMAGE_SUFFIXES = Set.of("jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff", "webp");

    private Inputs() {
    }

    static Expanded expand(List<String> arguments, List<Source> sources) {
        List<Input> inputs = new ArrayList<>();
        List<Problem> problems = new ArrayList<>();
        for (String argument : arguments) {
            Source source = sources.stream().filter(s -> s.accepts(argument)).findFirst().orElse(null);
            if (source == null) {
                problems.add(new Problem(argument, "no input source for " + scheme(argument)
                        + ":// in this command; it reads local files and folders"));
                continue;
            }
            try {
                List<Input> found = source.expand(argument);
                if (found.isEmpty()) {
                    problems.add(new Problem(argument, "no images found (looked for " + IMAGE_SUFFIXES + ")"));
                }
                inputs.addAll(found);
            } catch (IOException e) {
                problems.add(new Problem(argument, e.getMessage() == null ? e.toString() : e.getMessage()));
            }
        }
        return new Expanded(inputs, problems);
    }

    private static String scheme(String argument) {
        int at = argument.indexOf("://");
        return at > 0 ? argument.substring(0, at) : "?";
    }

    /** Files, and folders searched recursively for image suffixes (sorted, so runs are repeatable). */
    static final class LocalFiles implements Source {
        @Override
        public boolean accepts(String argument) {
            return !argument.matches("^[a-zA-Z][a-zA-Z0-9+.-]*://.*") || argument.startsWith("file://");
        }

        @Override
        public List<Input> expand(String argument) throws IOException {
            Path path = argument.startsWith("file://") ? Path.of(java.net.URI.create(argument)) : Path.of(argument);
            if (Files.isRegularFile(path)) {
                return List.of(file(path));
            }
            if (!Files.isDirectory(path)) {
                throw new java.nio.file.NoSuchFileException(argument, null, "no such file or folder");
            }
            try (Stream<Path> walk = Files.walk(path)) {
                return walk.filter(Files::isRegularFile).filter(LocalFiles::isImage).sorted().map(LocalFiles::file).toList();
            }
        }

        private static boolean isImage(Path p) {
            String name = p.getFileName().toString();
            int dot = name.lastIndexOf('.');
            return dot > 0 && IMAGE_SUFFIXES.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
        }

        private static Input file(Path path) {
            return new Input() {
                @Override
                public String name() {
                    return path.toString();
                }

                @Override
                public byte[] read() throws IOException {
                    return Files.readAllBytes(path);
                }
            };
        }
    }
}
