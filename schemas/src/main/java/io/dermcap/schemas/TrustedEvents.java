package io.dermcap.schemas;

import org.apache.avro.util.ClassSecurityValidator;

/**
 * Avro (1.11.4+) instantiates only trusted classes when a schema names one. dermcap's generated
 * event classes (package {@code io.dermcap.events} and below) are ours and hold no behaviour, so
 * readers of dermcap's own data trust exactly them.
 */
public final class TrustedEvents {

    private static final String PACKAGE = "io.dermcap.events.";
    private static boolean done;

    private TrustedEvents() {
    }

    /** Adds the generated event classes to Avro's global validator (idempotent). */
    public static synchronized void trust() {
        if (done) {
            return;
        }
        ClassSecurityValidator.ClassSecurityPredicate ours = c -> c.getName().startsWith(PACKAGE);
        ClassSecurityValidator.setGlobal(ClassSecurityValidator.composite(ClassSecurityValidator.getGlobal(), ours));
        done = true;
    }
}
