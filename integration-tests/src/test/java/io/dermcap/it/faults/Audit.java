package io.dermcap.it.faults;

import io.dermcap.events.CaptionEvent;
import io.dermcap.events.FailureEvent;
import io.dermcap.it.service.Outcomes;
import io.dermcap.it.service.ServiceScenario;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The audit invariant, checked at the end of every scenario: every request sent has an outcome
 * (a caption or a failure event), exactly one under exactly_once_v2 and at least one under
 * at_least_once, where every repeat must be the same outcome (inference is deterministic); and
 * no outcome names a request that was never sent.
 *
 * @param lost         keys sent without an outcome
 * @param duplicated   keys with more than one outcome
 * @param unknown      outcome keys that were never sent
 * @param inconsistent duplicated keys whose outcomes differ (another caption text or failure code)
 */
record Audit(String scenario, boolean exactlyOnce, int sent, int outcomeRecords, int captions, int failures,
             List<String> lost, List<String> duplicated, List<String> unknown, List<String> inconsistent) {

    static Audit of(String scenario, boolean exactlyOnce, Collection<String> sentKeys, Outcomes outcomes) {
        Set<String> sent = new TreeSet<>(sentKeys);
        List<String> lost = sent.stream().filter(k -> !outcomes.byKey().containsKey(k)).toList();
        List<String> unknown = outcomes.byKey().keySet().stream().filter(k -> !sent.contains(k)).sorted().toList();
        List<String> duplicated = outcomes.duplicated();
        List<String> inconsistent = duplicated.stream()
                .filter(k -> outcomes.byKey().get(k).stream().map(Audit::essence).distinct().count() > 1).toList();
        return new Audit(scenario, exactlyOnce, sent.size(), outcomes.all().size(), outcomes.captions().size(),
                outcomes.failures().size(), lost, duplicated, unknown, inconsistent);
    }

    /**
     * Waits until every sent key has an outcome, reads on for {@code quiet} more (late duplicates)
     * and audits what arrived.
     */
    static Audit await(ServiceScenario s, String scenario, boolean exactlyOnce, Collection<String> sentKeys,
                       Duration timeout, Duration quiet) {
        s.awaitOutcomes(o -> covered(o, sentKeys), timeout);
        return of(scenario, exactlyOnce, sentKeys, s.settle(quiet));
    }

    /** Whether every sent key has at least one outcome (the wait condition of a scenario). */
    static boolean covered(Outcomes outcomes, Collection<String> sentKeys) {
        return outcomes.byKey().keySet().containsAll(sentKeys);
    }

    /** What must be equal between repeats of one request's outcome. */
    private static String essence(Outcomes.Outcome o) {
        CaptionEvent c = o.caption();
        FailureEvent f = o.failure();
        return c != null ? "caption:" + c.getCaption() + ":" + c.getImageSha256()
                : "failure:" + Objects.toString(f.getCode());
    }

    void assertHolds() {
        StringBuilder problems = new StringBuilder();
        if (!lost.isEmpty()) {
            problems.append("\n  lost ").append(lost.size()).append(": ").append(head(lost));
        }
        if (!unknown.isEmpty()) {
            problems.append("\n  outcomes for requests never sent: ").append(head(unknown));
        }
        if (exactlyOnce && !duplicated.isEmpty()) {
            problems.append("\n  duplicated under exactly_once_v2 ").append(duplicated.size()).append(": ").append(head(duplicated));
        }
        if (!inconsistent.isEmpty()) {
            problems.append("\n  repeats that differ: ").append(head(inconsistent));
        }
        if (!problems.isEmpty()) {
            throw new AssertionError("audit of " + scenario + " failed (" + this.summary() + "):" + problems);
        }
    }

    String summary() {
        return "sent=" + sent + " outcomes=" + outcomeRecords + " (captions=" + captions + " failures=" + failures
                + ") lost=" + lost.size() + " duplicated=" + duplicated.size() + " unknown=" + unknown.size();
    }

    private static String head(List<String> keys) {
        return keys.size() <= 10 ? keys.toString() : keys.subList(0, 10) + " ...";
    }
}
