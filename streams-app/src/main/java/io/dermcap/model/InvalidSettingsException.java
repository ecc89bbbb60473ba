package io.dermcap.model;

/** A request's generation settings are out of bounds (e.g. a prompt too long for the context). */
public class InvalidSettingsException extends Exception {
    public InvalidSettingsException(String message) {
        super(message);
    }
}
