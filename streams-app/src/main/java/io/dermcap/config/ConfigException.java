package io.dermcap.config;

/** Invalid configuration; the message names the key (and where its value came from). */
public class ConfigException extends RuntimeException {

    private final String key;

    public ConfigException(String key, String message) {
        super(key + ": " + message);
        this.key = key;
    }

    /** The offending key, as written in the properties file. */
    public String key() {
        return key;
    }
}
