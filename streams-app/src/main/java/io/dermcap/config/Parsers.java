package io.dermcap.config;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/** Text → typed value; each throws IllegalArgumentException saying what was expected. */
final class Parsers {

    private Parsers() {
    }

    static Function<String, String> text() {
        return s -> s;
    }

    static Function<String, String> nonBlank() {
        return s -> {
            if (s.isBlank()) {
                throw new IllegalArgumentException("must not be empty");
            }
            return s;
        };
    }

    static Function<String, Integer> integer(int min, int max) {
        return s -> {
            long v = parseLong(s, "an integer");
            if (v < min || v > max) {
                throw new IllegalArgumentException("must be between " + min + " and " + max);
            }
            return (int) v;
        };
    }

    static Function<String, Duration> millis(long min, long max) {
        return s -> {
            long v = parseLong(s, "a number of milliseconds");
            if (v < min || v > max) {
                throw new IllegalArgumentException("must be between " + min + " and " + max + " ms");
            }
            return Duration.ofMillis(v);
        };
    }

    static Function<String, Long> longValue(long min, long max) {
        return s -> {
            long v = parseLong(s, "an integer");
            if (v < min || v > max) {
                throw new IllegalArgumentException("must be between " + min + " and " + max);
            }
            return v;
        };
    }

    static Function<String, Boolean> bool() {
        return s -> switch (s.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("must be true or false");
        };
    }

    static Function<String, String> oneOf(String... allowed) {
        return s -> {
            for (String a : allowed) {
                if (a.equalsIgnoreCase(s)) {
                    return a;
                }
            }
            throw new IllegalArgumentException("must be one of " + String.join(", ", allowed));
        };
    }

    /** Comma-separated, blanks dropped; empty text is the empty list. */
    static Function<String, List<String>> list() {
        return s -> Arrays.stream(s.split(",")).map(String::trim).filter(x -> !x.isEmpty()).toList();
    }

    private static long parseLong(String s, String what) {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("must be " + what);
        }
    }
}
