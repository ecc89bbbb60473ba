package io.dermcap.deploy;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The repository's files as the deployment tests read them: paths from the repository root,
 * YAML documents as plain maps and lists, and navigation that names the missing path.
 * SnakeYAML is on the classpath already (kafka_2.13 → jackson-dataformat-yaml, runtime scope);
 * declaring it with test scope would take it out of the service's jar.
 */
final class DeployFiles {

    static final Path ROOT = Path.of(System.getProperty("dermcap.repo.root", "..")).toAbsolutePath().normalize();

    private DeployFiles() {
    }

    static Path path(String relative) {
        return ROOT.resolve(relative).normalize();
    }

    static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + ROOT.relativize(file), e);
        }
    }

    /** Every non-empty document of a YAML file (several when separated by ---). */
    static List<Object> yamlObjects(Path file) {
        List<Object> docs = new ArrayList<>();
        for (Object doc : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(read(file))) {
            if (doc != null) {
                docs.add(doc);
            }
        }
        return docs;
    }

    /** Every document of a YAML file of resources (each a mapping). */
    static List<Map<String, Object>> yamlDocuments(Path file) {
        return yamlObjects(file).stream().map(d -> map(d)).toList();
    }

    /** The one document of a YAML file. */
    static Object yaml(Path file) {
        return new Yaml(new SafeConstructor(new LoaderOptions())).load(read(file));
    }

    /** Every .yaml/.yml file under a folder of the repository. */
    static List<Path> yamlFilesUnder(String folder) {
        try (Stream<Path> files = Files.walk(path(folder))) {
            return files.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The value at {@code keys} under {@code node}; fails naming the path when a step is missing. */
    static Object at(Object node, String... keys) {
        Object current = node;
        StringBuilder where = new StringBuilder();
        for (String key : keys) {
            where.append('/').append(key);
            if (!(current instanceof Map<?, ?> m) || !m.containsKey(key)) {
                throw new AssertionError("missing " + where + " in " + abbreviate(node));
            }
            current = m.get(key);
        }
        return current;
    }

    /** Like {@link #at}, or null when a step is missing. */
    static Object find(Object node, String... keys) {
        Object current = node;
        for (String key : keys) {
            if (!(current instanceof Map<?, ?> m)) {
                return null;
            }
            current = m.get(key);
        }
        return current;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object node, String... keys) {
        Object v = at(node, keys);
        if (!(v instanceof Map)) {
            throw new AssertionError("expected a mapping at /" + String.join("/", keys) + ", got " + abbreviate(v));
        }
        return (Map<String, Object>) v;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object node, String... keys) {
        Object v = at(node, keys);
        if (!(v instanceof List)) {
            throw new AssertionError("expected a list at /" + String.join("/", keys) + ", got " + abbreviate(v));
        }
        return (List<Object>) v;
    }

    /** A scalar as text (YAML numbers and booleans included, as Kubernetes and compose read them). */
    static String text(Object node, String... keys) {
        Object v = at(node, keys);
        if (v instanceof Map || v instanceof List || v == null) {
            throw new AssertionError("expected a scalar at /" + String.join("/", keys) + ", got " + abbreviate(v));
        }
        return v.toString();
    }

    static List<Map<String, Object>> maps(List<Object> items) {
        return items.stream().map(i -> map(i)).toList();
    }

    private static String abbreviate(Object node) {
        String s = String.valueOf(node);
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }
}
