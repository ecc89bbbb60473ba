package io.dermcap.it.faults;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The child JVM's heap as its GC log reports it ({@code -Xlog:gc:file=F:utctime}): every pause
 * with the heap in use before and after it. The peak before a pause is the most heap the JVM
 * used; the peak after a pause is the most that was still live (retained).
 */
final class GcLog {

    record Pause(Instant at, long beforeBytes, long afterBytes) {
    }

    private static final Pattern LINE = Pattern.compile(
            "^\\[([^]]+)].*Pause.*?(\\d+)([KMG])->(\\d+)([KMG])\\((\\d+)([KMG])\\)");
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSZ");

    private GcLog() {
    }

    /** The option that writes the log this class reads. */
    static String option(Path file) {
        return "-Xlog:gc:file=" + file + ":utctime";
    }

    static List<Pause> read(Path file) {
        List<Pause> pauses = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(file)) {
                Matcher m = LINE.matcher(line);
                if (m.find()) {
                    pauses.add(new Pause(OffsetDateTime.parse(m.group(1), TIME).toInstant(),
                            bytes(m.group(2), m.group(3)), bytes(m.group(4), m.group(5))));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return pauses;
    }

    static List<Pause> between(List<Pause> pauses, Instant from, Instant to) {
        return pauses.stream().filter(p -> !p.at().isBefore(from) && !p.at().isAfter(to)).toList();
    }

    static long peakUsed(List<Pause> pauses) {
        return pauses.stream().mapToLong(Pause::beforeBytes).max().orElse(0);
    }

    static long peakLive(List<Pause> pauses) {
        return pauses.stream().mapToLong(Pause::afterBytes).max().orElse(0);
    }

    static String mb(long bytes) {
        return (bytes >> 20) + " MB";
    }

    private static long bytes(String n, String unit) {
        long v = Long.parseLong(n);
        return switch (unit) {
            case "K" -> v << 10;
            case "M" -> v << 20;
            default -> v << 30;
        };
    }
}
