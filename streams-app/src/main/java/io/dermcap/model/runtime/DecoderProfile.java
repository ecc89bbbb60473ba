package io.dermcap.model.runtime;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where a decoder call's time goes, from ONNX Runtime's profile of the decoder session (a JSON
 * array of events): the node events of each {@code model_run}, summed into attention (the
 * {@code GroupQueryAttention} nodes), GEMM (MatMul and its fused forms) and the rest, for the
 * decoding steps (one new position per row), grouped by the number of rows of the call.
 */
public final class DecoderProfile {

    /** The decoding steps with {@code rows} rows: {@code calls} of them, milliseconds summed. */
    public record Rows(int rows, int calls, double runMs, double attentionMs, double gemmMs, double otherMs) {
        Rows plus(Rows o) {
            return new Rows(rows, calls + o.calls, runMs + o.runMs, attentionMs + o.attentionMs, gemmMs + o.gemmMs, otherMs + o.otherMs);
        }
    }

    private DecoderProfile() {
    }

    /** The decoding steps of the profile, by row count (ascending). */
    public static List<Rows> steps(Path profile) throws IOException {
        List<long[]> runs = new ArrayList<>(); // ts, dur (µs)
        List<JsonNode> nodes = new ArrayList<>();
        ObjectMapper mapper = new ObjectMapper();
        try (JsonParser p = mapper.getFactory().createParser(profile.toFile())) {
            if (p.nextToken() != JsonToken.START_ARRAY) {
                throw new IOException(profile + " is not an ONNX Runtime profile (no JSON array)");
            }
            while (p.nextToken() == JsonToken.START_OBJECT) {
                JsonNode e = mapper.readTree(p);
                String cat = e.path("cat").asText();
                if (cat.equals("Session") && e.path("name").asText().equals("model_run")) {
                    runs.add(new long[] {e.path("ts").asLong(), e.path("dur").asLong()});
                } else if (cat.equals("Node") && e.path("name").asText().endsWith("_kernel_time")) {
                    nodes.add(e);
                }
            }
        }
        runs.sort((a, b) -> Long.compare(a[0], b[0]));
        double[][] perRun = new double[runs.size()][3];
        int[] rows = new int[runs.size()];
        int[] sequence = new int[runs.size()];
        for (JsonNode e : nodes) {
            int run = runAt(runs, e.path("ts").asLong());
            if (run < 0) {
                continue;
            }
            String op = e.path("args").path("op_name").asText();
            double ms = e.path("dur").asLong() / 1000.0;
            if (op.equals("GroupQueryAttention")) {
                perRun[run][0] += ms;
                // {"float": [rows, sequence, 3D]}, or "float16" with a float16 cache
                JsonNode typeShape = e.path("args").path("input_type_shape").path(0);
                JsonNode query = typeShape.isObject() && typeShape.size() == 1 ? typeShape.elements().next() : typeShape;
                rows[run] = query.path(0).asInt();
                sequence[run] = query.path(1).asInt();
            } else if (op.equals("MatMul") || op.equals("FusedMatMul") || op.equals("Gemm")) {
                perRun[run][1] += ms;
            } else {
                perRun[run][2] += ms;
            }
        }
        Map<Integer, Rows> byRows = new TreeMap<>();
        for (int r = 0; r < runs.size(); r++) {
            if (sequence[r] == 1) {
                Rows one = new Rows(rows[r], 1, runs.get(r)[1] / 1000.0, perRun[r][0], perRun[r][1], perRun[r][2]);
                byRows.merge(rows[r], one, Rows::plus);
            }
        }
        return List.copyOf(byRows.values());
    }

    private static int runAt(List<long[]> runs, long ts) {
        int lo = 0;
        int hi = runs.size() - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (runs.get(mid)[0] <= ts) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found >= 0 && ts <= runs.get(found)[0] + runs.get(found)[1] ? found : -1;
    }
}
