package io.dermcap.registry;

import java.util.HashSet;
import java.util.Set;

import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.avro.util.ClassSecurityValidator;

/**
 * Avro (1.11.4+) refuses to instantiate classes named by a schema unless they are trusted, because
 * a schema naming an arbitrary class used to be a remote-code-execution path. The serde trusts
 * exactly the generated classes it reads into: the requested record class and the records, enums
 * and fixeds nested in its schema, or, for reading by schema name, a class that is a generated
 * {@link SpecificRecord}. Nothing else is added to Avro's global validator.
 */
final class TrustedRecords {

    private static final Set<String> TRUSTED = new HashSet<>();

    private TrustedRecords() {
    }

    /** Trusts {@code type} and every named type its schema contains. */
    static synchronized void trust(Class<?> type) {
        Schema schema = SpecificData.get().getSchema(type);
        Set<String> names = new HashSet<>();
        collect(schema, names, new HashSet<>());
        names.removeAll(TRUSTED);
        if (names.isEmpty()) {
            return;
        }
        ClassSecurityValidator.Builder builder = ClassSecurityValidator.builder();
        names.forEach(builder::add);
        ClassSecurityValidator.setGlobal(ClassSecurityValidator.composite(ClassSecurityValidator.getGlobal(), builder.build()));
        TRUSTED.addAll(names);
    }

    /** The generated class named by {@code writer}, trusted, or null when there is none. */
    static Class<?> specificClassFor(Schema writer) {
        if (writer.getType() != Schema.Type.RECORD) {
            return null;
        }
        try {
            // not initialised: only looked at until we know it is a generated record
            Class<?> c = Class.forName(SpecificData.getClassName(writer), false, TrustedRecords.class.getClassLoader());
            if (!SpecificRecord.class.isAssignableFrom(c)) {
                return null;
            }
            trust(c);
            return c;
        } catch (ClassNotFoundException | LinkageError e) {
            return null;
        }
    }

    private static void collect(Schema schema, Set<String> names, Set<Schema> seen) {
        if (!seen.add(schema)) {
            return;
        }
        switch (schema.getType()) {
            case RECORD -> {
                names.add(SpecificData.getClassName(schema));
                schema.getFields().forEach(f -> collect(f.schema(), names, seen));
            }
            case ENUM, FIXED -> names.add(SpecificData.getClassName(schema));
            case ARRAY -> collect(schema.getElementType(), names, seen);
            case MAP -> collect(schema.getValueType(), names, seen);
            case UNION -> schema.getTypes().forEach(t -> collect(t, names, seen));
            default -> {
            }
        }
    }
}
