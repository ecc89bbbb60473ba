package io.dermcap.registry;

import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;

import java.util.Locale;

/**
 * The start-up check of the request subject: the schema its producers registered must be one the
 * service can read. Producers own the subject (they register {@code schemas/published/CaptionRequest.avsc});
 * the service reads it and, when told to, registers its own schema where none is.
 */
public final class RequestSubjectCheck {

    /** What to do about a missing or unreadable request subject. */
    public enum Mode {
        /** do not look */
        OFF,
        /** log a warning and start */
        WARN,
        /** refuse to start */
        FAIL,
        /** register the service's schema when the subject has none; refuse to start when it holds an unreadable one */
        REGISTER;

        public static Mode parse(String text) {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        }
    }

    /**
     * The check's verdict: {@code problem} is null when the subject is fine (or was registered);
     * {@code missing} when the problem is that the subject has no schema at all.
     */
    public record Verdict(String problem, String done, boolean missing) {
        public boolean ok() {
            return problem == null;
        }
    }

    private RequestSubjectCheck() {
    }

    /**
     * @param reader the schema the service reads requests with
     * @throws RegistryException when the registry cannot be asked (the caller decides about retries)
     */
    public static Verdict check(SchemaRegistryClient client, String subject, Schema reader, Mode mode) {
        if (mode == Mode.OFF) {
            return new Verdict(null, "not checked", false);
        }
        RegisteredSchema latest;
        try {
            latest = client.latest(subject);
        } catch (RegistryException e) {
            if (!e.notFound()) {
                throw e;
            }
            if (mode == Mode.REGISTER) {
                int id = client.register(subject, reader);
                return new Verdict(null, "registered the service's request schema as id " + id, false);
            }
            return new Verdict("subject " + subject + " has no schema: producers register "
                    + "schemas/published/CaptionRequest.avsc under it (or start the service once with "
                    + "registry.request.subject.check=register)", null, true);
        }
        var result = SchemaCompatibility.checkReaderWriterCompatibility(reader, latest.schema()).getResult();
        if (result.getCompatibility() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
            return new Verdict("subject " + subject + " version " + latest.version() + " (id " + latest.id()
                    + ", " + latest.schema().getFullName() + ") cannot be read as " + reader.getFullName() + ": "
                    + SerdeException.describe(reader, result.getIncompatibilities()), null, false);
        }
        return new Verdict(null, "version " + latest.version() + " (id " + latest.id() + ") is readable", false);
    }
}
