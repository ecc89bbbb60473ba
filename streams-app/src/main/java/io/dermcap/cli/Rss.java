package io.dermcap.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** This process's resident memory from {@code /proc/self/status} (Linux); -1 elsewhere. */
final class Rss {

    private Rss() {
    }

    /** Current resident set, bytes. */
    static long current() {
        return field("VmRSS:");
    }

    /** Peak resident set since start or the last {@link #resetPeak()}, bytes. */
    static long peak() {
        return field("VmHWM:");
    }

    /** Starts a new peak measurement ({@code echo 5 > /proc/self/clear_refs}); false if the kernel refused. */
    static boolean resetPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    private static long field(String name) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(name)) {
                    return Long.parseLong(line.substring(name.length()).trim().split("\\s+")[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
