package io.dermcap.model;

/** The model runtime failed on a batch; every request of that batch failed with it. */
public class ModelException extends Exception {
    public ModelException(String message, Throwable cause) {
        super(message, cause);
    }

    public ModelException(String message) {
        super(message);
    }
}
