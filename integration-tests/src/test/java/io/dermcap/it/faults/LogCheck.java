package io.dermcap.it.faults;

import io.dermcap.events.CaptionEvent;
import io.dermcap.it.service.Outcomes;
import io.dermcap.it.service.ServiceScenario;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The privacy rule of the logs, checked on everything the scenario's child JVMs wrote at the
 * production log level (INFO): no caption text and no patient identifier (the DICOM UIDs and the
 * record numbers in the passthrough identifiers) appears anywhere.
 */
final class LogCheck {

    /** Captions shorter than this could match log text by chance (the tiny model's output is arbitrary). */
    private static final int MIN_CAPTION_LENGTH = 12;
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9.]+");

    private LogCheck() {
    }

    static void assertNoPrivateData(ServiceScenario scenario, Traffic traffic, Outcomes outcomes) {
        assertNoPrivateData(scenario.dir, traffic.identifiers(), outcomes);
    }

    /** @return how many caption texts were searched for */
    static int assertNoPrivateData(Path dir, Set<String> identifiers, Outcomes outcomes) {
        return assertNoPrivateData(dir, identifiers, outcomes.captions().stream().map(CaptionEvent::getCaption).toList());
    }

    /** @return how many caption texts were searched for (those long enough not to match by chance) */
    static int assertNoPrivateData(Path dir, Set<String> identifiers, Collection<String> captionTexts) {
        List<Path> logs = logs(dir);
        assertThat(logs).as("child logs in " + dir).isNotEmpty();
        Set<String> captions = new HashSet<>();
        for (String c : captionTexts) {
            String text = c.strip();
            if (text.length() >= MIN_CAPTION_LENGTH) {
                captions.add(text);
            }
        }
        List<String> found = new ArrayList<>();
        long bytes = 0;
        for (Path log : logs) {
            String text = read(log);
            bytes += text.length();
            Matcher m = TOKEN.matcher(text);
            while (m.find()) {
                String token = m.group();
                String trimmed = token.endsWith(".") ? token.substring(0, token.length() - 1) : token;
                if (identifiers.contains(token) || identifiers.contains(trimmed)) {
                    found.add(log.getFileName() + ": identifier " + trimmed);
                }
            }
            for (String caption : captions) {
                if (text.contains(caption)) {
                    found.add(log.getFileName() + ": caption text '" + caption + "'");
                }
            }
        }
        System.out.printf("[faults] log check: %d logs, %d chars, %d identifiers, %d caption texts: %d found%n",
                logs.size(), bytes, identifiers.size(), captions.size(), found.size());
        assertThat(found).as("private data in the service's INFO logs").isEmpty();
        return captions.size();
    }

    private static List<Path> logs(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".log")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String read(Path log) {
        try {
            return new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
