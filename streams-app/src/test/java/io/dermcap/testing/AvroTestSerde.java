package io.dermcap.testing;

import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;

/** Plain Avro binary serde for unit tests (the service uses the registry serde). */
public final class AvroTestSerde<T extends SpecificRecord> implements Serde<T> {

    private final Class<T> type;

    public AvroTestSerde(Class<T> type) {
        this.type = type;
        io.dermcap.schemas.TrustedEvents.trust();
    }

    @Override
    public Serializer<T> serializer() {
        return (topic, value) -> {
            if (value == null) {
                return null;
            }
            try {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
                new SpecificDatumWriter<>(type).write(value, enc);
                enc.flush();
                return out.toByteArray();
            } catch (IOException e) {
                throw new SerializationException(e);
            }
        };
    }

    @Override
    public Deserializer<T> deserializer() {
        return (topic, bytes) -> {
            if (bytes == null) {
                return null;
            }
            try {
                BinaryDecoder dec = DecoderFactory.get().binaryDecoder(bytes, null);
                T value = new SpecificDatumReader<>(type).read(null, dec);
                if (!dec.isEnd()) {
                    throw new SerializationException("trailing bytes after the record");
                }
                return value;
            } catch (IOException | RuntimeException e) {
                throw new SerializationException("not a " + type.getSimpleName() + ": " + e.getMessage(), e);
            }
        };
    }
}
