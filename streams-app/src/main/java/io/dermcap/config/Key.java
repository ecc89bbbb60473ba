package io.dermcap.config;

import java.util.function.Function;

/**
 * One documented configuration key.
 *
 * @param name         the key in the properties file
 * @param defaultValue the value when neither file nor environment sets it; null: required
 * @param doc          one line for the configuration table
 * @param parse        turns the text into the typed value; throws IllegalArgumentException with what is wrong
 */
public record Key<T>(String name, String defaultValue, String doc, Function<String, T> parse) {

    /** The environment variable that overrides this key: {@code batch.max.size} → {@code DERMCAP_BATCH_MAX_SIZE}. */
    public String envName() {
        return ConfigSource.envName(name);
    }

    boolean secret() {
        return ConfigSource.isSecret(name);
    }
}
