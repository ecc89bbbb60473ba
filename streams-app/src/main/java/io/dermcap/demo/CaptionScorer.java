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
 * Reads the toy captioner's captions back into the attributes of a synthetic drawing (count, size,
 * shape, colour, border, skin, hair), from the vocabulary the drawings' captions were written
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
}
