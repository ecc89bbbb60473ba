package io.dermcap.registry;

import java.nio.ByteBuffer;

/**
 * Confluent's wire format: magic byte 0, the writer schema's registry id as a 4-byte big-endian
 * int, then the Avro binary body.
 */
public final class WireFormat {

    public static final byte MAGIC_BYTE = 0;
    public static final int HEADER_SIZE = 5;

    private WireFormat() {
    }

    /** The schema id of a framed record. */
    public static int schemaId(byte[] data) {
        if (data.length < HEADER_SIZE) {
            throw new SerdeException(SerdeException.Kind.TRUNCATED, -1, "record of " + data.length
                    + " bytes is shorter than the 5-byte schema-registry header", null);
        }
        if (data[0] != MAGIC_BYTE) {
            throw new SerdeException(SerdeException.Kind.WRONG_MAGIC_BYTE, -1, String.format(
                    "first byte is 0x%02x, not the schema-registry magic byte 0x00: not written by a schema-registry serializer",
                    data[0] & 0xff), null);
        }
        return ByteBuffer.wrap(data, 1, 4).getInt();
    }

    /** Writes the header for {@code schemaId} into the first 5 bytes of {@code target}. */
    public static void writeHeader(byte[] target, int schemaId) {
        target[0] = MAGIC_BYTE;
        ByteBuffer.wrap(target, 1, 4).putInt(schemaId);
    }
}
