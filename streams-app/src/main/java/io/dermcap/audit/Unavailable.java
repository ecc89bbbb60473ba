package io.dermcap.audit;

/** The stores cannot answer now (rebalancing, restoring, an owner unreachable): 503 with Retry-After. */
public final class Unavailable extends Exception {

    public Unavailable(String message) {
        super(message, null, false, false);
    }
}
