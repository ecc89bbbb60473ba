package io.dermcap.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The raw settings: a properties file, then {@code DERMCAP_*} environment variables on top, then
 * settings given on the command line.
 * Each value remembers where it came from, so an error can say which line to fix.
 */
final class ConfigSource {

    static final String ENV_PREFIX = "DERMCAP_";
    /** The variable that names the properties file when the command line names none. */
    static final String CONFIG_FILE = "DERMCAP_CONFIG";
    /** Environment variables of the launcher, not configuration keys. */
    static final java.util.Set<String> NOT_KEYS = java.util.Set.of(CONFIG_FILE, "DERMCAP_OPTS");

    record Value(String text, String origin) {
    }

    private final Map<String, Value> values = new TreeMap<>();

    private ConfigSource() {
    }

    /**
     * @param knownKey tells whether a key (as in the file) is declared, to map env names back
     * @param prefixes pass-through prefixes (e.g. {@code kafka.}) whose keys are free-form
     */
    static ConfigSource read(Path file, Map<String, String> env, Map<String, String> settings,
                             java.util.function.Predicate<String> knownKey,
                             java.util.List<String> prefixes, java.util.Collection<String> declared) {
        ConfigSource source = new ConfigSource();
        if (file != null) {
            Properties props = new Properties();
            try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                props.load(r);
            } catch (NoSuchFileException e) {
                throw new ConfigException("--config", "no such file " + file);
            } catch (IOException | IllegalArgumentException e) {
                throw new ConfigException("--config", "cannot read " + file + ": " + e.getMessage());
            }
            for (String k : props.stringPropertyNames()) {
                source.values.put(k.trim(), new Value(props.getProperty(k).trim(), file.getFileName().toString()));
            }
        }
        Map<String, String> envToKey = new TreeMap<>();
        for (String k : declared) {
            envToKey.put(envName(k), k);
        }
        for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
            String var = e.getKey();
            if (!var.startsWith(ENV_PREFIX) || NOT_KEYS.contains(var)) {
                continue;
            }
            String key = envToKey.get(var);
            if (key == null) {
                key = prefixedKey(var, prefixes);
            }
            if (key == null) {
                throw new ConfigException(var, "is not a dermcap setting (see README.md, Configuration)");
            }
            source.values.put(key, new Value(e.getValue().trim(), "environment " + var));
        }
        settings.forEach((k, v) -> source.values.put(k.trim(), new Value(v.trim(), "the command line")));
        for (String key : source.values.keySet()) {
            if (!knownKey.test(key) && prefixes.stream().noneMatch(key::startsWith)) {
                throw new ConfigException(key, "unknown key (from " + source.values.get(key).origin()
                        + "); did you mean " + KnownSettings.nearest(key, new java.util.TreeSet<>(declared))
                        + "? (see README.md, Configuration)");
            }
        }
        return source;
    }

    Value get(String key) {
        return values.get(key);
    }

    /** Every key under {@code prefix}, with the prefix removed. */
    Map<String, Value> withPrefix(String prefix) {
        Map<String, Value> out = new TreeMap<>();
        values.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                out.put(k.substring(prefix.length()), v);
            }
        });
        return out;
    }

    static String envName(String key) {
        return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** {@code DERMCAP_KAFKA_SASL_JAAS_CONFIG} → {@code kafka.sasl.jaas.config}. */
    private static String prefixedKey(String var, java.util.List<String> prefixes) {
        String rest = var.substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.');
        return prefixes.stream().filter(rest::startsWith).findFirst().map(p -> rest).orElse(null);
    }

    /** Values of such keys never appear in messages or logs. */
    static boolean isSecret(String key) {
        String k = key.toLowerCase(Locale.ROOT);
        return k.contains("password") || k.contains("secret") || k.contains("jaas") || k.contains("user.info")
                || k.contains("credentials") || k.contains("token");
    }
}
