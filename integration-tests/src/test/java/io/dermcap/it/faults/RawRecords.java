package io.dermcap.it.faults;

import io.dermcap.events.CaptionRequest;
import io.dermcap.registry.WireFormat;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/** Request records built by hand in the Confluent wire format, for writer schemas the service has not seen. */
final class RawRecords {

    private RawRecords() {
    }

    /** {@code CaptionRequest} plus one optional string field: a newer version a producer might write with. */
    static Schema requestWithExtraField(String name) {
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field f : CaptionRequest.getClassSchema().getFields()) {
            fields.add(new Schema.Field(f, f.schema()));
        }
        fields.add(new Schema.Field(name, SchemaBuilder.unionOf().nullType().and().stringType().endUnion(),
                "A newer producer's field dermcap does not read.", Schema.Field.NULL_DEFAULT_VALUE));
        return Schema.createRecord(CaptionRequest.getClassSchema().getName(), "a newer CaptionRequest",
                CaptionRequest.getClassSchema().getNamespace(), false, fields);
    }

    /** {@code CaptionRequest} without its required {@code image_uri}: a producer of an incompatible schema. */
    static Schema requestWithoutImageUri() {
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field f : CaptionRequest.getClassSchema().getFields()) {
            if (!f.name().equals("image_uri")) {
                fields.add(new Schema.Field(f, f.schema()));
            }
        }
        return Schema.createRecord(CaptionRequest.getClassSchema().getName(), "an incompatible CaptionRequest",
                CaptionRequest.getClassSchema().getNamespace(), false, fields);
    }

    /** {@code request} written with {@code writer} (whose fields resolve from CaptionRequest's) under {@code schemaId}. */
    static byte[] framed(int schemaId, Schema writer, CaptionRequest request) {
        try {
            ByteArrayOutputStream specific = new ByteArrayOutputStream();
            BinaryEncoder e = EncoderFactory.get().binaryEncoder(specific, null);
            new SpecificDatumWriter<CaptionRequest>(CaptionRequest.getClassSchema()).write(request, e);
            e.flush();
            // resolution: a field the writer adds takes its default, one it lacks is skipped
            GenericRecord generic = new GenericDatumReader<GenericRecord>(CaptionRequest.getClassSchema(), writer,
                    GenericData.get())
                    .read(null, DecoderFactory.get().binaryDecoder(specific.toByteArray(), null));
            return framed(schemaId, writer, generic);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] framed(int schemaId, Schema writer, GenericRecord record) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(new byte[WireFormat.HEADER_SIZE]);
            BinaryEncoder e = EncoderFactory.get().binaryEncoder(out, null);
            new GenericDatumWriter<GenericRecord>(writer).write(record, e);
            e.flush();
            byte[] bytes = out.toByteArray();
            WireFormat.writeHeader(bytes, schemaId);
            return bytes;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
