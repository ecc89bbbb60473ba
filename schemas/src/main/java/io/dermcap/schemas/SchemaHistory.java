package io.dermcap.schemas;

import io.dermcap.events.CaptionEvent;
import io.dermcap.events.CaptionRequest;
import io.dermcap.events.FailureEvent;
import io.dermcap.events.internal.PendingRequest;
import org.apache.avro.Schema;
import org.apache.avro.message.SchemaStore;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Every released version of each top-level schema, as committed under
 * {@code io/dermcap/events/history/<RecordName>/v<N>.avsc}. The compatibility tests check the
 * current schemas against them; the batcher's store decodes entries written by any of them.
 */
public final class SchemaHistory {

    /** The top-level schemas that are versioned: published events and the batcher's stored entries. */
    public static final List<Schema> CURRENT = List.of(
            CaptionRequest.getClassSchema(),
            CaptionEvent.getClassSchema(),
            FailureEvent.getClassSchema(),
            PendingRequest.getClassSchema());

    private SchemaHistory() {
    }

    /** Resource path of version {@code version} of the record named {@code simpleName}. */
    public static String resource(String simpleName, int version) {
        return "io/dermcap/events/history/" + simpleName + "/v" + version + ".avsc";
    }

    /** The committed versions of a schema, oldest first (v1, v2, ... up to the first gap). */
    public static List<Schema> versions(Schema current) {
        List<Schema> versions = new ArrayList<>();
        for (int v = 1; ; v++) {
            try (InputStream in = SchemaHistory.class.getClassLoader().getResourceAsStream(resource(current.getName(), v))) {
                if (in == null) {
                    return versions;
                }
                versions.add(new Schema.Parser().parse(in));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + resource(current.getName(), v), e);
            }
        }
    }

    /** A schema store that knows every committed version of {@code current} and the current one. */
    public static SchemaStore.Cache storeOf(Schema current) {
        SchemaStore.Cache cache = new SchemaStore.Cache();
        versions(current).forEach(cache::addSchema);
        cache.addSchema(current);
        return cache;
    }
}
