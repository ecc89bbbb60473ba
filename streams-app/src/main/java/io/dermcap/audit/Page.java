package io.dermcap.audit;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * Outcomes newest first (each as {@link OutcomeJson#outcome}), and the cursor of the next page:
 * the position of the last one when more follow, else null.
 */
public record Page(List<ObjectNode> outcomes, String nextCursor) {

    /**
     * The first {@code limit} of several newest-first pages, each holding its source's first
     * {@code limit} after the same cursor: the merged page is exactly the first {@code limit}
     * of all, so paging through a fan-out neither skips nor repeats an outcome.
     */
    public static Page merge(Collection<Page> pages, int limit) {
        List<ObjectNode> all = new ArrayList<>();
        boolean more = false;
        for (Page p : pages) {
            all.addAll(p.outcomes());
            more |= p.nextCursor() != null;
        }
        all.sort(Comparator.comparing(OutcomeJson::position));
        if (all.size() > limit) {
            more = true;
            all = new ArrayList<>(all.subList(0, limit));
        }
        String next = more && !all.isEmpty() ? OutcomeJson.position(all.get(all.size() - 1)).toString() : null;
        return new Page(List.copyOf(all), next);
    }
}
