package io.dermcap.registry;

import io.dermcap.events.CaptionRequest;
import org.apache.avro.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RequestSubjectCheckTest {

    private static final String SCOPE = "request-subject-check";
    private static final Schema READER = CaptionRequest.getClassSchema();
    private final MockSchemaRegistry registry = MockSchemaRegistry.forScope(SCOPE);

    @AfterEach
    void drop() {
        MockSchemaRegistry.dropScope(SCOPE);
    }

    @Test
    void aMissingSubjectIsAProblemUnlessTheServiceMayRegister() {
        var verdict = RequestSubjectCheck.check(registry, "image-requests-value", READER, RequestSubjectCheck.Mode.WARN);
        assertThat(verdict.ok()).isFalse();
        assertThat(verdict.problem()).contains("image-requests-value has no schema", "CaptionRequest.avsc");

        var registered = RequestSubjectCheck.check(registry, "image-requests-value", READER, RequestSubjectCheck.Mode.REGISTER);
        assertThat(registered.ok()).isTrue();
        assertThat(registered.done()).startsWith("registered");
        assertThat(registry.latest("image-requests-value").schema()).isEqualTo(READER);
        assertThat(RequestSubjectCheck.check(registry, "image-requests-value", READER, RequestSubjectCheck.Mode.FAIL).ok()).isTrue();
    }

    @Test
    void aSubjectHoldingAnUnreadableSchemaIsAProblemEvenInRegisterMode() {
        Schema other = new Schema.Parser().parse("""
                {"type":"record","name":"CaptionRequest","namespace":"io.dermcap.events","fields":[
                  {"name":"request_id","type":"string"},{"name":"image_uri","type":"int"}]}""");
        registry.register("image-requests-value", other);
        var verdict = RequestSubjectCheck.check(registry, "image-requests-value", READER, RequestSubjectCheck.Mode.REGISTER);
        assertThat(verdict.ok()).isFalse();
        assertThat(verdict.problem()).contains("cannot be read as io.dermcap.events.CaptionRequest", "image_uri")
                .hasSizeLessThan(800);
    }

    @Test
    void anOlderCompatibleVersionIsReadable() {
        Schema older = new Schema.Parser().parse("""
                {"type":"record","name":"CaptionRequest","namespace":"io.dermcap.events","fields":[
                  {"name":"request_id","type":"string"},{"name":"image_uri","type":"string"}]}""");
        registry.register("image-requests-value", older);
        var verdict = RequestSubjectCheck.check(registry, "image-requests-value", READER, RequestSubjectCheck.Mode.FAIL);
        assertThat(verdict.ok()).as(verdict.problem()).isTrue();
        assertThat(RequestSubjectCheck.check(registry, "x-value", READER, RequestSubjectCheck.Mode.OFF).ok()).isTrue();
    }
}
