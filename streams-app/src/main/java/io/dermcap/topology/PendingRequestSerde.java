package io.dermcap.topology;

import io.dermcap.events.internal.PendingRequest;
import io.dermcap.schemas.SchemaHistory;
import io.dermcap.schemas.TrustedEvents;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The batcher's stored entries: Avro single-object encoding (the writer schema's fingerprint
 * leads each value), decodable from every released version of {@code PendingRequest}, so a
 * store restored by a newer dermcap still reads what an older one buffered.
 */
public final class PendingRequestSerde implements Serde<PendingRequest> {

    private static final BinaryMessageDecoder<PendingRequest> DECODER;

    static {
        TrustedEvents.trust();
        DECODER = PendingRequest.createDecoder(SchemaHistory.storeOf(PendingRequest.getClassSchema()));
    }

    @Override
    public Serializer<PendingRequest> serializer() {
        return (topic, value) -> {
            if (value == null) {
                return null;
            }
            try {
                ByteBuffer buf = value.toByteBuffer();
                byte[] out = new byte[buf.remaining()];
                buf.get(out);
                return out;
            } catch (IOException e) {
                throw new SerializationException("cannot encode a pending request", e);
            }
        };
    }

    @Override
    public Deserializer<PendingRequest> deserializer() {
        return (topic, bytes) -> {
            if (bytes == null) {
                return null;
            }
            try {
                return DECODER.decode(bytes);
            } catch (IOException e) {
                throw new SerializationException("cannot decode a stored pending request", e);
            }
        };
    }
}
