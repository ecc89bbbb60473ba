package io.dermcap.audit;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * A token bucket per client (the authenticated name, or the remote address before
 * authentication): {@code perMinute} requests in a burst, refilled evenly over a minute.
 */
final class RateLimiter {

    private static final int MAX_CLIENTS = 10_000;

    private final int perMinute;
    private final LongSupplier nanos;
    private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

    private static final class Bucket {
        double tokens;
        long at;

        Bucket(double tokens, long at) {
            this.tokens = tokens;
            this.at = at;
        }
    }

    RateLimiter(int perMinute, LongSupplier nanos) {
        this.perMinute = perMinute;
        this.nanos = nanos;
    }

    /** Takes one request from {@code client}'s bucket; returns 0 when allowed, else the seconds to wait. */
    long acquire(String client) {
        if (buckets.size() > MAX_CLIENTS) {
            buckets.clear(); // a flood of addresses: start over rather than grow without bound
        }
        long now = nanos.getAsLong();
        Bucket b = buckets.computeIfAbsent(client, c -> new Bucket(perMinute, now));
        synchronized (b) {
            b.tokens = Math.min(perMinute, b.tokens + (now - b.at) * perMinute / 60e9);
            b.at = now;
            if (b.tokens >= 1) {
                b.tokens -= 1;
                return 0;
            }
            return (long) Math.ceil((1 - b.tokens) * 60.0 / perMinute);
        }
    }
}
