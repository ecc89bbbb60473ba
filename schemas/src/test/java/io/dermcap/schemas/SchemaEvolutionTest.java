package io.dermcap.schemas;

import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The committed schemas stay BACKWARD compatible with every released version (transitively), and
 * every released version is committed. Run with {@code -Ddermcap.schemas.snapshot=true} to commit
 * the current schemas as a new version after a compatible change (see EVOLUTION.md).
 */
class SchemaEvolutionTest {

    static final List<Schema> CURRENT = SchemaHistory.CURRENT;

    @ParameterizedTest(name = "{0}")
    @FieldSource("CURRENT")
    void currentReadsEveryReleasedVersion(Schema current) throws IOException {
        maybeSnapshot(current);
        List<Schema> versions = SchemaHistory.versions(current);
        assertThat(versions).as("released versions of %s", current.getFullName()).isNotEmpty();
        for (int i = 0; i < versions.size(); i++) {
            var result = SchemaCompatibility.checkReaderWriterCompatibility(current, versions.get(i)).getResult();
            assertThat(result.getCompatibility())
                    .as("%s must read data written with v%d: %s", current.getName(), i + 1, result.getIncompatibilities())
                    .isEqualTo(SchemaCompatibilityType.COMPATIBLE);
        }
    }

    @ParameterizedTest(name = "{0}")
    @FieldSource("CURRENT")
    void latestReleasedVersionIsTheCurrentSchema(Schema current) {
        List<Schema> versions = SchemaHistory.versions(current);
        assertThat(versions).isNotEmpty();
        assertThat(versions.get(versions.size() - 1))
                .as("%s changed: check EVOLUTION.md and commit it as v%d (-Ddermcap.schemas.snapshot=true)",
                        current.getName(), versions.size() + 1)
                .isEqualTo(current);
    }

    @ParameterizedTest(name = "{0}")
    @FieldSource("CURRENT")
    void everyFieldIsDocumentedAndEveryOptionalPartHasADefault(Schema current) {
        List<String> problems = new ArrayList<>();
        lint(current, problems, new IdentityHashMap<>());
        assertThat(problems).isEmpty();
    }

    // Negative controls: the check above really catches the edits EVOLUTION.md forbids.

    @Test
    void addingAFieldWithoutDefaultIsCaught() {
        Schema current = CURRENT.get(0);
        String json = current.toString().replaceFirst("\"fields\":\\[",
                "\"fields\":[{\"name\":\"priority\",\"type\":\"int\"},");
        assertThat(compatibility(new Schema.Parser().parse(json), current)).isEqualTo(SchemaCompatibilityType.INCOMPATIBLE);
        String withDefault = current.toString().replaceFirst("\"fields\":\\[",
                "\"fields\":[{\"name\":\"priority\",\"type\":\"int\",\"default\":0},");
        assertThat(compatibility(new Schema.Parser().parse(withDefault), current)).isEqualTo(SchemaCompatibilityType.COMPATIBLE);
    }

    @Test
    void changingAFieldTypeIsCaught() {
        Schema current = CURRENT.get(0);
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field f : current.getFields()) {
            Schema type = f.name().equals("image_uri") ? Schema.create(Schema.Type.INT) : f.schema();
            fields.add(new Schema.Field(f, type));
        }
        Schema changed = Schema.createRecord(current.getName(), current.getDoc(), current.getNamespace(), false, fields);
        assertThat(compatibility(changed, current)).isEqualTo(SchemaCompatibilityType.INCOMPATIBLE);
    }

    @Test
    void renamingARecordWithoutAliasIsCaught() {
        Schema current = CURRENT.get(0);
        String json = current.toString().replaceFirst("\"name\":\"CaptionRequest\"", "\"name\":\"ImageRequest\"");
        assertThat(compatibility(new Schema.Parser().parse(json), current)).isEqualTo(SchemaCompatibilityType.INCOMPATIBLE);
    }

    @Test
    void enumDefaultsLetOldReadersMeetNewCodes() {
        // FORWARD direction for enums: an old reader meets a symbol a newer writer added.
        Schema failure = CURRENT.get(2);
        String newer = failure.toString().replace("\"INTERNAL_ERROR\"]", "\"INTERNAL_ERROR\",\"QUOTA_EXCEEDED\"]");
        assertThat(newer).isNotEqualTo(failure.toString());
        assertThat(compatibility(failure, new Schema.Parser().parse(newer))).isEqualTo(SchemaCompatibilityType.COMPATIBLE);
    }

    private static SchemaCompatibilityType compatibility(Schema reader, Schema writer) {
        return SchemaCompatibility.checkReaderWriterCompatibility(reader, writer).getType();
    }

    private static void lint(Schema schema, List<String> problems, Map<Schema, Boolean> seen) {
        if (seen.put(schema, true) != null) {
            return;
        }
        switch (schema.getType()) {
            case RECORD -> {
                if (blank(schema.getDoc())) {
                    problems.add(schema.getFullName() + " has no doc");
                }
                for (Schema.Field f : schema.getFields()) {
                    String where = schema.getName() + "." + f.name();
                    if (blank(f.doc())) {
                        problems.add(where + " has no doc");
                    }
                    if (f.schema().isNullable() && !(f.hasDefaultValue() && f.defaultVal() == org.apache.avro.JsonProperties.NULL_VALUE)) {
                        problems.add(where + " is nullable without default null");
                    }
                    lint(f.schema(), problems, seen);
                }
            }
            case ENUM -> {
                if (schema.getEnumDefault() == null) {
                    problems.add(schema.getFullName() + " has no default symbol");
                }
            }
            case UNION -> schema.getTypes().forEach(t -> lint(t, problems, seen));
            case ARRAY -> lint(schema.getElementType(), problems, seen);
            case MAP -> lint(schema.getValueType(), problems, seen);
            default -> {
            }
        }
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    /** Writes the current schema as the next version when asked to and when it changed compatibly. */
    private static void maybeSnapshot(Schema current) throws IOException {
        if (!Boolean.getBoolean("dermcap.schemas.snapshot")) {
            return;
        }
        List<Schema> versions = SchemaHistory.versions(current);
        if (!versions.isEmpty() && versions.get(versions.size() - 1).equals(current)) {
            return;
        }
        for (Schema old : versions) {
            if (compatibility(current, old) != SchemaCompatibilityType.COMPATIBLE) {
                throw new AssertionError(current.getName() + " is not BACKWARD compatible; not snapshotting");
            }
        }
        Path root = Path.of(System.getProperty("dermcap.schemas.dir", "src/main/resources"));
        Path file = root.resolve(SchemaHistory.resource(current.getName(), versions.size() + 1));
        Files.createDirectories(file.getParent());
        Files.writeString(file, current.toString(true) + "\n");
        throw new AssertionError("wrote " + file + ": rebuild and commit it");
    }
}
