package io.dermcap.demo;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads the toy captioner's captions back into the attributes of a synthetic drawing (size, colour,
 * skin, hair), from the vocabulary the drawings' captions were written
 * with ({@code onnx-models/dermcap_toy/lesions.py}, exported into the held-out set's labels.json):
 * an attribute reads as the one value whose phrases occur in the caption as whole words; none or
 * several is "unread" and counts as a miss. The demo and the semantic tests score with this one
 * class.
 */
public final class CaptionScorer {

    /** What a caption says about one image's true attributes. */
    public record Score(int matched, int total, Map<String, String> read, List<String> missed) {

        public Score {
            read = Collections.unmodifiableMap(new LinkedHashMap<>(read));
            missed = List.copyOf(missed);
        }

        public boolean perfect() {
            return matched == total;
        }
    }

    /** attribute → value → phrase patterns, in the vocabulary's order. */
    private final Map<String, Map<String, List<Pattern>>> vocabulary;

    private CaptionScorer(Map<String, Map<String, List<Pattern>>> vocabulary) {
        this.vocabulary = vocabulary;
    }

    /** From {@code {"attribute": {"value": ["phrase", ...], ...}, ...}}. */
    public static CaptionScorer of(JsonNode vocabulary) {
        if (!vocabulary.isObject() || vocabulary.isEmpty()) {
            throw new IllegalArgumentException("the vocabulary must be a non-empty object of attributes, found " + vocabulary);
        }
        Map<String, Map<String, List<Pattern>>> table = new LinkedHashMap<>();
        vocabulary.fields().forEachRemaining(attribute -> {
            Map<String, List<Pattern>> values = new LinkedHashMap<>();
            attribute.getValue().fields().forEachRemaining(value -> {
                List<Pattern> phrases = new ArrayList<>();
                value.getValue().forEach(p -> phrases.add(wholeWords(p.asText())));
                if (phrases.isEmpty()) {
                    throw new IllegalArgumentException(attribute.getKey() + "=" + value.getKey() + " has no phrases");
                }
                values.put(value.getKey(), phrases);
            });
            if (values.isEmpty()) {
                throw new IllegalArgumentException("attribute " + attribute.getKey() + " has no values");
            }
            table.put(attribute.getKey(), values);
        });
        return new CaptionScorer(table);
    }

    /** A phrase not inside a longer word ("regular" does not occur in "irregular"), any case. */
    private static Pattern wholeWords(String phrase) {
        if (phrase.isBlank()) {
            throw new IllegalArgumentException("empty phrase in the vocabulary");
        }
        return Pattern.compile("(?<![\\p{L}\\p{N}-])" + Pattern.quote(phrase.toLowerCase(Locale.ROOT)) + "(?![\\p{L}\\p{N}-])");
    }

    public List<String> attributes() {
        return List.copyOf(vocabulary.keySet());
    }

    /** The attributes the caption names unambiguously; an attribute it names no or several values of is absent. */
    public Map<String, String> read(String caption) {
        String text = caption.toLowerCase(Locale.ROOT);
        Map<String, String> read = new LinkedHashMap<>();
        vocabulary.forEach((attribute, values) -> {
            List<String> found = values.entrySet().stream()
                    .filter(v -> v.getValue().stream().anyMatch(p -> p.matcher(text).find()))
                    .map(Map.Entry::getKey).toList();
            if (found.size() == 1) {
                read.put(attribute, found.get(0));
            }
        });
        return read;
    }

    /** How many of the vocabulary's attributes the caption states as {@code truth} has them. */
    public Score score(String caption, Map<String, String> truth) {
        Map<String, String> read = read(caption);
        List<String> missed = new ArrayList<>();
        for (String attribute : vocabulary.keySet()) {
            String expected = truth.get(attribute);
            if (expected == null) {
                throw new IllegalArgumentException("the truth has no value for " + attribute + ": " + truth);
            }
            if (!expected.equals(read.get(attribute))) {
                missed.add(attribute + "=" + expected + " read " + read.getOrDefault(attribute, "nothing"));
            }
        }
        return new Score(vocabulary.size() - missed.size(), vocabulary.size(), read, missed);
    }

    /** A tally over a set of captions of known images; {@code truth} maps each request (or file) to its image's attributes. */
    public Tally tally(Map<String, Map<String, String>> truth) {
        return new Tally(truth);
    }

    /**
     * Scores of many captions: per attribute, the misses, and the captions that fit another
     * image of the set better than their own (outcomes attached to the wrong request, say).
     */
    public final class Tally {
        private final Map<String, Map<String, String>> truth;
        private final Map<String, int[]> perAttribute = new LinkedHashMap<>();
        private final List<String> misses = new ArrayList<>();
        private final List<String> confusions = new ArrayList<>();
        private int matched;
        private int total;

        private Tally(Map<String, Map<String, String>> truth) {
            this.truth = Map.copyOf(truth);
            vocabulary.keySet().forEach(a -> perAttribute.put(a, new int[2]));
        }

        /** Scores the caption of {@code id} against its own image and every other image of the set. */
        public synchronized Score add(String id, String caption) {
            Map<String, String> own = truth.get(id);
            if (own == null) {
                throw new IllegalArgumentException("no truth for " + id);
            }
            Score score = score(caption, own);
            matched += score.matched();
            total += score.total();
            for (Map.Entry<String, int[]> a : perAttribute.entrySet()) {
                a.getValue()[1]++;
                if (score.missed().stream().noneMatch(m -> m.startsWith(a.getKey() + "="))) {
                    a.getValue()[0]++;
                }
            }
            if (!score.perfect()) {
                misses.add(id + " " + score.missed() + ": \"" + caption + "\"");
            }
            truth.forEach((other, attributes) -> {
                int theirs = score(caption, attributes).matched();
                if (!other.equals(id) && theirs > score.matched()) {
                    confusions.add(id + ": \"" + caption + "\" fits " + other + " (" + theirs + "/" + score.total()
                            + ") better than its own image (" + score.matched() + "/" + score.total() + ")");
                }
            });
            return score;
        }

        public synchronized int matched() {
            return matched;
        }

        public synchronized int total() {
            return total;
        }

        public synchronized double accuracy() {
            return total == 0 ? 0 : (double) matched / total;
        }

        /** attribute → "correct/captions". */
        public synchronized Map<String, String> perAttribute() {
            Map<String, String> rates = new LinkedHashMap<>();
            perAttribute.forEach((a, n) -> rates.put(a, n[0] + "/" + n[1]));
            return rates;
        }

        public synchronized List<String> misses() {
            return List.copyOf(misses);
        }

        public synchronized List<String> confusions() {
            return List.copyOf(confusions);
        }
    }
}
