package io.dermcap.schemas;

import io.dermcap.events.CaptionEvent;
import io.dermcap.events.CaptionRequest;
import io.dermcap.events.FailureEvent;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code schemas/published/<Record>.avsc} are the topic value schemas handed to other teams: each
 * is the generated class's schema with every named type inlined (self-contained, registrable as
 * it is by any Confluent-compatible client), byte for byte what the build resolves. Run with
 * {@code -Ddermcap.schemas.publish=true} to rewrite them after a released change (EVOLUTION.md).
 */
class PublishedSchemasTest {

    static final List<Schema> TOPIC_VALUES = List.of(
            CaptionRequest.getClassSchema(), CaptionEvent.getClassSchema(), FailureEvent.getClassSchema());
    private static final Path DIR = Path.of(System.getProperty("dermcap.schemas.published", "published"));

    @ParameterizedTest(name = "{0}")
    @FieldSource("TOPIC_VALUES")
    void publishedSchemaIsTheResolvedBuildSchema(Schema built) throws IOException {
        Path file = DIR.resolve(built.getName() + ".avsc");
        String expected = built.toString(true) + "\n";
        if (Boolean.getBoolean("dermcap.schemas.publish")) {
            Files.writeString(file, expected);
        }
        assertThat(file).as("%s: run with -Ddermcap.schemas.publish=true after a released change", file).exists();
        assertThat(Files.readString(file)).as(file.toString()).isEqualTo(expected);
        // self-contained: a parser that knows no other dermcap type accepts it
        assertThat(new Schema.Parser().parse(file.toFile())).isEqualTo(built);
    }

    @Test
    void everyPublishedSchemaIsTheLatestReleasedVersion() {
        for (Schema built : TOPIC_VALUES) {
            List<Schema> versions = SchemaHistory.versions(built);
            assertThat(versions.get(versions.size() - 1)).as(built.getName()).isEqualTo(built);
        }
    }

    @Test
    void theEventsPageShowsTheExampleEventsVerbatim() throws IOException {
        String page = Files.readString(Path.of("..", "docs", "events.md"));
        for (String example : List.of("CaptionEvent.json", "FailureEvent.json")) {
            assertThat(page).as("docs/events.md shows examples/" + example)
                    .contains(Files.readString(DIR.resolve("examples").resolve(example)).strip());
        }
    }

    @Test
    void aSchemaWithAnUndefinedNameIsRefused() {
        // the check above is meaningful: the source file alone names a type defined elsewhere
        assertThat(Path.of("src/main/avro/CaptionRequest.avsc")).content().contains("\"io.dermcap.events.Passthrough\"");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new Schema.Parser().parse(
                        Path.of("src/main/avro/CaptionRequest.avsc").toFile()))
                .hasMessageContaining("Passthrough");
    }
}
