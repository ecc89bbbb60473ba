package io.dermcap.registry;

/** The registry holds the id, but not as a usable Avro schema (another schema type, references, unparseable). */
public class UnsupportedSchemaException extends RegistryException {
    public UnsupportedSchemaException(String message, Throwable cause) {
        super(200, 0, message, false, cause);
    }
}
