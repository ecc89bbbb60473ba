package io.dermcap.audit;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dermcap.topology.AuditedOutcome;
import io.dermcap.topology.OutcomeStores;

import java.util.List;

/** The lookups the audit API offers; {@code authorization} is passed on to the instances asked. */
public interface OutcomeLookup {

    /** The secondary indexes; TIME holds every outcome under one key, for the latest list. */
    enum Index {
        IMAGE(OutcomeStores.BY_IMAGE), PASSTHROUGH(OutcomeStores.BY_PASSTHROUGH), TIME(OutcomeStores.BY_TIME);

        final String store;

        Index(String store) {
            this.store = store;
        }
    }

    /** Every stored outcome of {@code requestId}, newest first (none: an empty list). */
    List<ObjectNode> byRequest(String requestId, String authorization) throws Unavailable;

    /** The outcomes whose index value is {@code value}, newest first, after {@code after} (null: from the newest). */
    Page byIndex(Index index, String value, AuditedOutcome.Position after, int limit, String authorization)
            throws Unavailable;

    /** The latest outcomes of all requests. */
    Page latest(AuditedOutcome.Position after, int limit, String authorization) throws Unavailable;
}
