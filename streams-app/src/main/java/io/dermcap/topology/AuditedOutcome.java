package io.dermcap.topology;

import io.dermcap.events.CaptionEvent;
import io.dermcap.events.FailureEvent;
import io.dermcap.events.Passthrough;
import io.dermcap.events.SourcePosition;
import io.dermcap.schemas.SchemaHistory;
import io.dermcap.schemas.TrustedEvents;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.specific.SpecificRecordBase;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Comparator;

/**
 * One outcome as the audit stores keep it: the caption or failure event itself. Stored as a kind
 * byte and the event's Avro single-object encoding (its writer schema's fingerprint first), so a
 * store restored by a newer dermcap still reads entries an older one wrote.
 */
public record AuditedOutcome(SpecificRecordBase event) {

    private static final byte CAPTION = 'C';
    private static final byte FAILURE = 'F';
    private static final BinaryMessageDecoder<CaptionEvent> CAPTIONS;
    private static final BinaryMessageDecoder<FailureEvent> FAILURES;

    static {
        TrustedEvents.trust();
        CAPTIONS = CaptionEvent.createDecoder(SchemaHistory.storeOf(CaptionEvent.getClassSchema()));
        FAILURES = FailureEvent.createDecoder(SchemaHistory.storeOf(FailureEvent.getClassSchema()));
    }

    /** Newest first; among outcomes of the same millisecond, the later input position first. */
    public static final Comparator<AuditedOutcome> NEWEST_FIRST = Comparator
            .comparing(AuditedOutcome::at).thenComparing(o -> o.source().getPartition())
            .thenComparing(o -> o.source().getOffset()).reversed();

    public AuditedOutcome {
        if (!(event instanceof CaptionEvent) && !(event instanceof FailureEvent)) {
            throw new IllegalArgumentException("not an outcome event: " + event.getClass().getName());
        }
    }

    public boolean failed() {
        return event instanceof FailureEvent;
    }

    /** The request id; null for a failure whose record could not be read. */
    public String requestId() {
        return event instanceof CaptionEvent c ? c.getRequestId() : ((FailureEvent) event).getRequestId();
    }

    /** When the outcome was decided: captioned_at or failed_at. */
    public Instant at() {
        return event instanceof CaptionEvent c ? c.getCaptionedAt() : ((FailureEvent) event).getFailedAt();
    }

    /** Where the request record was read. */
    public SourcePosition source() {
        return event instanceof CaptionEvent c ? c.getSource() : ((FailureEvent) event).getSource();
    }

    /** The sha256 of the captioned bytes; null for a failure (its bytes may never have been read). */
    public String imageSha256() {
        return event instanceof CaptionEvent c ? c.getImageSha256() : null;
    }

    /** The passthrough identifiers, or null. */
    public Passthrough ids() {
        return event instanceof CaptionEvent c ? c.getIds() : ((FailureEvent) event).getIds();
    }

    /**
     * A position that orders outcomes newest first across partitions and instances:
     * {@code <epoch ms>-<partition>-<offset>}, used as the pagination cursor.
     */
    public Position position() {
        return new Position(at().toEpochMilli(), source().getPartition(), source().getOffset());
    }

    /** A point in the newest-first order of outcomes. */
    public record Position(long epochMillis, int partition, long offset) implements Comparable<Position> {

        /** Parses {@link #toString()}; throws IllegalArgumentException when it is not one. */
        public static Position parse(String text) {
            String[] parts = text.split("-", -1);
            if (parts.length != 3) {
                throw new IllegalArgumentException("a cursor is <epoch ms>-<partition>-<offset>");
            }
            try {
                return new Position(Long.parseLong(parts[0]), Integer.parseInt(parts[1]), Long.parseLong(parts[2]));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("a cursor is <epoch ms>-<partition>-<offset>");
            }
        }

        /** Newer positions sort first. */
        @Override
        public int compareTo(Position o) {
            int c = Long.compare(o.epochMillis, epochMillis);
            if (c == 0) {
                c = Integer.compare(o.partition, partition);
            }
            return c != 0 ? c : Long.compare(o.offset, offset);
        }

        @Override
        public String toString() {
            return epochMillis + "-" + partition + "-" + offset;
        }
    }

    public byte[] encode() {
        try {
            ByteBuffer body = event instanceof CaptionEvent c ? c.toByteBuffer() : ((FailureEvent) event).toByteBuffer();
            byte[] out = new byte[1 + body.remaining()];
            out[0] = failed() ? FAILURE : CAPTION;
            body.get(out, 1, out.length - 1);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode an outcome", e);
        }
    }

    public static AuditedOutcome decode(byte[] bytes) {
        try {
            ByteBuffer body = ByteBuffer.wrap(bytes, 1, bytes.length - 1);
            return switch (bytes[0]) {
                case CAPTION -> new AuditedOutcome(CAPTIONS.decode(body));
                case FAILURE -> new AuditedOutcome(FAILURES.decode(body));
                default -> throw new IllegalArgumentException("not a stored outcome (kind byte " + bytes[0] + ")");
            };
        } catch (IOException e) {
            throw new UncheckedIOException("cannot decode a stored outcome", e);
        }
    }
}
