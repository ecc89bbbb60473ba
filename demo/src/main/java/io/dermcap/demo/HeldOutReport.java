package io.dermcap.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Scores {@code dermcap caption} output (JSON lines on stdin) of the held-out drawings against
 * their true attributes and prints the per-attribute table:
 * {@code java -cp dermcap-demo.jar io.dermcap.demo.HeldOutReport < captions.jsonl} ({@code scripts/toy-model eval}
 * runs it for greedy and beam decoding). Exit status 1 when a line is not a caption of a held-out drawing.
 */
public final class HeldOutReport {

    private HeldOutReport() {
    }

    public static void main(String[] args) throws IOException {
        HeldOutLesions heldOut = HeldOutLesions.builtIn();
        Map<String, Map<String, String>> truth = new LinkedHashMap<>();
        heldOut.examples().forEach(e -> truth.put(e.file(), e.attributes()));
        CaptionScorer.Tally tally = heldOut.scorer().tally(truth);
        ObjectMapper json = new ObjectMapper();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        int captions = 0;
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            JsonNode row = json.readTree(line);
            String file = Path.of(row.path("path").asText()).getFileName().toString();
            if (!row.hasNonNull("caption") || !truth.containsKey(file)) {
                System.err.println("not a caption of a held-out drawing: " + line);
                System.exit(1);
            }
            tally.add(file, row.get("caption").asText());
            captions++;
        }
        System.out.println("| attribute | correct | accuracy |");
        System.out.println("|---|---|---|");
        tally.perAttribute().forEach((attribute, rate) -> {
            String[] n = rate.split("/");
            System.out.printf(Locale.ROOT, "| %s | %s | %.1f %% |%n", attribute, rate,
                    100.0 * Integer.parseInt(n[0]) / Integer.parseInt(n[1]));
        });
        System.out.printf(Locale.ROOT, "| **all** | %d/%d | %.1f %% |%n", tally.matched(), tally.total(), 100 * tally.accuracy());
        System.out.printf(Locale.ROOT, "%d captions; %d fit another drawing better than their own%n", captions,
                tally.confusions().size());
        tally.misses().forEach(m -> System.out.println("miss: " + m));
    }
}
