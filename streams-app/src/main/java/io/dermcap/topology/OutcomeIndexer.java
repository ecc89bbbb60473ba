package io.dermcap.topology;

import io.dermcap.events.CaptionEvent;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Writes every outcome into the audit stores, then forwards it unchanged to its sink. An outcome
 * without a request id (an unreadable record) is forwarded but not stored: nothing could look it up.
 */
final class OutcomeIndexer implements Processor<String, Object, String, Object> {

    private final OutcomeStores.Options options;
    private final String captionSink;
    private final String failureSink;
    private ProcessorContext<String, Object> context;
    private WindowStore<String, byte[]> byRequest;
    private WindowStore<String, byte[]> byImage;
    private WindowStore<String, byte[]> byPassthrough;
    private WindowStore<String, byte[]> byTime;

    OutcomeIndexer(OutcomeStores.Options options, String captionSink, String failureSink) {
        this.options = options;
        this.captionSink = captionSink;
        this.failureSink = failureSink;
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
        this.context = context;
        byRequest = context.getStateStore(OutcomeStores.BY_REQUEST);
        byImage = context.getStateStore(OutcomeStores.BY_IMAGE);
        byPassthrough = context.getStateStore(OutcomeStores.BY_PASSTHROUGH);
        byTime = context.getStateStore(OutcomeStores.BY_TIME);
    }

    @Override
    public void process(Record<String, Object> record) {
        AuditedOutcome outcome = new AuditedOutcome((SpecificRecordBase) record.value());
        String requestId = outcome.requestId();
        if (requestId != null) {
            AuditedOutcome.Position p = outcome.position();
            long at = p.epochMillis();
            byRequest.put(requestId, outcome.encode(), at);
            byte[] reference = OutcomeStores.reference(requestId, p);
            byTime.put(OutcomeStores.TIME_KEY, reference, at);
            if (outcome.imageSha256() != null) {
                byImage.put(outcome.imageSha256(), reference, at);
            }
            String field = options.passthrough() == null ? null : options.passthrough().valueIn(outcome.ids());
            if (field != null) {
                byPassthrough.put(field, reference, at);
            }
        }
        context.forward(record, outcome.event() instanceof CaptionEvent ? captionSink : failureSink);
    }
}
