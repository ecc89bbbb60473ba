package io.dermcap.it.faults;

import io.dermcap.it.service.Outcomes;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Time to recover: from the end of a fault (a kill -9 with the restart issued at once, a server
 * back up) to the first outcome the service produced after it, by the outcome's own timestamp
 * ({@code captioned_at} / {@code failed_at}; the service and the test share one clock).
 */
final class Recovery {

    private final List<Duration> times = new ArrayList<>();

    /** The first outcome produced after {@code faultEnd}, if any. */
    static Optional<Duration> firstOutcomeAfter(Outcomes outcomes, Instant faultEnd) {
        return times(outcomes)
                .filter(t -> t.isAfter(faultEnd))
                .min(Instant::compareTo)
                .map(t -> Duration.between(faultEnd, t));
    }

    /** Outcomes produced per second in {@code [from, to)}, by their own timestamps. */
    static double rate(Outcomes outcomes, Instant from, Instant to) {
        long n = times(outcomes).filter(t -> !t.isBefore(from) && t.isBefore(to)).count();
        return n / (Duration.between(from, to).toMillis() / 1000.0);
    }

    /** The longest time without any outcome produced, between {@code from} and the last outcome. */
    static Duration longestPause(Outcomes outcomes, Instant from) {
        List<Instant> sorted = times(outcomes).filter(t -> t.isAfter(from)).sorted().toList();
        Duration longest = Duration.ZERO;
        Instant previous = from;
        for (Instant t : sorted) {
            Duration gap = Duration.between(previous, t);
            longest = gap.compareTo(longest) > 0 ? gap : longest;
            previous = t;
        }
        return longest;
    }

    private static java.util.stream.Stream<Instant> times(Outcomes outcomes) {
        return outcomes.all().stream().map(o -> o.caption() != null ? o.caption().getCaptionedAt() : o.failure().getFailedAt());
    }

    /** Adds the recovery after {@code faultEnd}; fails when nothing was produced after it. */
    Duration add(Outcomes outcomes, Instant faultEnd) {
        Duration d = firstOutcomeAfter(outcomes, faultEnd)
                .orElseThrow(() -> new AssertionError("no outcome after the fault that ended at " + faultEnd));
        times.add(d);
        return d;
    }

    /** Adds a recovery time measured some other way (kill to ready, say). */
    void add(Duration d) {
        times.add(d);
    }

    List<Duration> times() {
        return times;
    }

    Duration max() {
        return times.stream().max(Duration::compareTo).orElseThrow();
    }

    /** "9.8 s" for one, "median 9.8 s, max 14.1 s over 6 (...)" for several. */
    String summary() {
        if (times.size() == 1) {
            return seconds(times.get(0));
        }
        List<Duration> sorted = times.stream().sorted().toList();
        long medianMillis = (sorted.get((sorted.size() - 1) / 2).toMillis() + sorted.get(sorted.size() / 2).toMillis()) / 2;
        return "median " + seconds(Duration.ofMillis(medianMillis)) + ", max " + seconds(sorted.get(sorted.size() - 1))
                + " over " + sorted.size() + " (" + String.join(", ", sorted.stream().map(Recovery::seconds).toList()) + ")";
    }

    static String seconds(Duration d) {
        return String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }
}
