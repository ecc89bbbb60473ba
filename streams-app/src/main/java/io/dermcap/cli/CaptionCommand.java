package io.dermcap.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dermcap.image.ImagePreprocessor;
import io.dermcap.model.Caption;
import io.dermcap.model.GenerationSettings;
import io.dermcap.model.InvalidSettingsException;
import io.dermcap.model.ModelInfo;
import io.dermcap.model.bundle.BundleException;
import io.dermcap.model.runtime.OnnxCaptioner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code dermcap caption}: captions image files and folders offline. One JSON line per image on
 * stdout (a caption, or the reason it failed), progress on stderr; exit code 1 when any failed.
 */
@Command(name = "caption", mixinStandardHelpOptions = true,
        description = "Caption image files and folders with a bundle; JSON Lines on stdout, progress on stderr.")
final class CaptionCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    EngineArgs engine;

    @Mixin
    GenerationArgs generation;

    @Option(names = "--batch-size", defaultValue = "8", description = "images per model run (default ${DEFAULT-VALUE})")
    int batchSize;

    @Parameters(arity = "1..*", paramLabel = "PATH", description = "image files or folders (searched recursively)")
    List<String> paths;

    private final ObjectMapper json = new ObjectMapper();

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Inputs.Expanded expanded = Inputs.expand(paths, List.of(new Inputs.LocalFiles()));
        for (Inputs.Problem p : expanded.problems()) {
            err.println("dermcap caption: " + p.argument() + ": " + p.message());
        }
        if (expanded.inputs().isEmpty()) {
            err.println("dermcap caption: nothing to caption");
            return 2;
        }
        try (OnnxCaptioner captioner = OnnxCaptioner.load(engine.bundle, engine.engineOptions())) {
            GenerationSettings settings = captioner.settingsFor(generation.overrides());
            ModelInfo info = captioner.info();
            err.printf("dermcap caption: %s %s on %s, loaded in %.1f s; %d images%n", info.bundleName(), info.bundleVersion(),
                    info.runtime().executionProvider(), captioner.loadTimings().totalNanos() / 1e9, expanded.inputs().size());
            Progress progress = new Progress(err, expanded.inputs().size());
            int[] failed = {0};
            try (BatchRunner runner = new BatchRunner(captioner, new ImagePreprocessor(captioner.preprocessing(), engine.imageLimits()), batchSize)) {
                runner.run(expanded.inputs(), settings, outcome -> {
                    if (outcome.failed()) {
                        failed[0]++;
                        progress.log(outcome.input().name() + ": " + outcome.error() + ": " + outcome.errorMessage());
                    }
                    out.println(line(outcome, info, settings));
                    out.flush();
                    progress.advance(outcome.failed());
                });
            }
            progress.finish();
            return failed[0] > 0 || !expanded.problems().isEmpty() ? 1 : 0;
        } catch (BundleException e) {
            err.println("dermcap caption: bundle " + engine.bundle + " refused (" + e.reason() + "): " + e.getMessage());
            return 2;
        } catch (InvalidSettingsException e) {
            err.println("dermcap caption: " + e.getMessage());
            return 2;
        }
    }

    private String line(BatchRunner.Outcome o, ModelInfo info, GenerationSettings s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", o.input().name());
        m.put("sha256", o.sha256());
        if (o.failed()) {
            m.put("error", Map.of("reason", o.error(), "message", o.errorMessage()));
        } else {
            Caption c = o.caption();
            m.put("caption", c.text());
            m.put("token_ids", c.tokenIds());
            m.put("finish_reason", c.finishReason().name());
            Map<String, Object> timings = new LinkedHashMap<>();
            timings.put("read_ms", o.readNanos() / 1e6);
            timings.put("preprocess_ms", o.preprocessNanos() / 1e6);
            timings.put("batch_encode_ms", c.encodeNanos() / 1e6);
            timings.put("batch_decode_ms", c.decodeNanos() / 1e6);
            m.put("batch_size", c.batchSize());
            m.put("timings", timings);
            m.put("settings", Map.of("profile", String.valueOf(s.profile()), "prompt", s.prompt(), "num_beams", s.numBeams(),
                    "max_new_tokens", s.maxNewTokens(), "min_new_tokens", s.minNewTokens(),
                    "bad_words_sequences", s.badWordsIds().size(), "collapse_whitespace", s.collapseWhitespace()));
        }
        m.put("bundle", Map.of("name", info.bundleName(), "version", info.bundleVersion()));
        try {
            return json.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A progress bar on a terminal, a line per tenth of the work otherwise. */
    static final class Progress {
        private final PrintWriter err;
        private final int total;
        private final boolean terminal = System.console() != null;
        private final long start = System.nanoTime();
        private int done;
        private int failed;
        private int lastDecile = -1;

        Progress(PrintWriter err, int total) {
            this.err = err;
            this.total = total;
        }

        void advance(boolean failure) {
            done++;
            failed += failure ? 1 : 0;
            int decile = 10 * done / total;
            if (terminal) {
                int width = 30;
                int filled = width * done / total;
                err.print("\r[" + "#".repeat(filled) + ".".repeat(width - filled) + "] " + status());
            } else if (decile != lastDecile) {
                err.println(status());
                lastDecile = decile;
            }
            err.flush();
        }

        void log(String message) {
            if (terminal) {
                err.print("\r\033[K");
            }
            err.println(message);
        }

        void finish() {
            if (terminal) {
                err.println();
            }
            err.println("dermcap caption: " + status());
        }

        private String status() {
            double seconds = (System.nanoTime() - start) / 1e9;
            return String.format("%d/%d images, %d failed, %.2f images/s", done, total, failed, done / Math.max(seconds, 1e-9));
        }
    }
}
