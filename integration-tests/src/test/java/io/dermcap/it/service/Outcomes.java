package io.dermcap.it.service;

import io.dermcap.events.CaptionEvent;
import io.dermcap.events.FailureEvent;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Everything read from the caption and failure topics so far, by record key. */
public final class Outcomes {

    /** One outcome record; exactly one of caption and failure is set. */
    public record Outcome(String key, int schemaId, CaptionEvent caption, FailureEvent failure) {
    }

    private final List<Outcome> all = new ArrayList<>();
    private final Map<String, List<Outcome>> byKey = new HashMap<>();

    void add(Outcome o) {
        all.add(o);
        byKey.computeIfAbsent(o.key(), k -> new ArrayList<>()).add(o);
    }

    public List<Outcome> all() {
        return all;
    }

    public List<CaptionEvent> captions() {
        return all.stream().filter(o -> o.caption() != null).map(Outcome::caption).toList();
    }

    public List<FailureEvent> failures() {
        return all.stream().filter(o -> o.failure() != null).map(Outcome::failure).toList();
    }

    public Map<String, List<Outcome>> byKey() {
        return byKey;
    }

    /** How many distinct keys have at least one outcome. */
    public int distinctKeys() {
        return byKey.size();
    }

    /** Keys with more than one outcome. */
    public List<String> duplicated() {
        return byKey.entrySet().stream().filter(e -> e.getValue().size() > 1).map(Map.Entry::getKey).sorted().toList();
    }
}
