package io.dermcap.it.faults;

import java.util.Locale;

/**
 * How big the fault scenarios are: {@code fast} (the default, run by {@code .ci/run}) or
 * {@code full} ({@code mvn -pl integration-tests -am verify -Dfaults=full}), read from the
 * system property {@code dermcap.faults} that Maven sets from {@code -Dfaults}.
 */
enum FaultMode {
    FAST, FULL;

    static FaultMode current() {
        String mode = System.getProperty("dermcap.faults", "fast").trim().toLowerCase(Locale.ROOT);
        return switch (mode) {
            case "", "fast" -> FAST;
            case "full" -> FULL;
            default -> throw new IllegalArgumentException("dermcap.faults must be fast or full, not '" + mode + "'");
        };
    }

    <T> T pick(T fast, T full) {
        return this == FAST ? fast : full;
    }

    /** The seed of the random fault moments: -Ddermcap.faults.seed, else a new one (logged and reported). */
    static long seed() {
        String seed = System.getProperty("dermcap.faults.seed", "");
        return seed.isBlank() ? System.nanoTime() : Long.parseLong(seed.trim());
    }
}
