package io.dermcap.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dermcap.config.ConfigException;
import io.dermcap.config.OfflineConfig;
import io.dermcap.model.Caption;
import io.dermcap.model.GenerationSettings;
import io.dermcap.model.InvalidSettingsException;
import io.dermcap.model.ModelInfo;
import io.dermcap.model.bundle.BundleException;
import io.dermcap.model.runtime.OnnxCaptioner;
import io.dermcap.pipeline.Outcome;
import io.dermcap.storage.StorageFetcher;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code dermcap caption}: captions images offline through the service's pipeline (fetcher, limits,
 * decoder, engine), so an image fails here for the same reason as in a failure event. One JSON
 * line per image on stdout (a caption, or the reason it failed), progress on stderr; exit code 1
 * when any failed.
 */
@Command(name = "caption", mixinStandardHelpOptions = true,
        description = {"Caption images with a bundle; JSON Lines on stdout, progress on stderr.",
                "INPUT: an image file or a folder (searched recursively), s3://bucket/prefix/ (every image listed under it), "
                        + "or one s3:// or https:// object. Objects are fetched with the storage settings, allow-lists and "
                        + "limits of `dermcap run` (--config, --set; README.md, Configuration): name the buckets in "
                        + "storage.s3.buckets and the hosts in storage.https.hosts. Local files are read under "
                        + "storage.file.root when it is set, anywhere otherwise.",
                "A failed image's line has error.reason, one of the failure events' codes (INVALID_REQUEST, "
                        + "URI_NOT_ALLOWED, OBJECT_MISSING, FETCH_FAILED, TOO_LARGE, INTEGRITY_MISMATCH, UNDECODABLE_IMAGE, "
                        + "MODEL_ERROR, INTERNAL_ERROR).",
                "Exit status: 0 all captioned; 1 an image or an argument failed; 2 invalid settings or bundle refused."})
final class CaptionCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    EngineArgs engine;

    @Mixin
    GenerationArgs generation;

    @Option(names = "--batch-size", defaultValue = "8", description = "images per model run (default ${DEFAULT-VALUE})")
    int batchSize;

    @Parameters(arity = "1..*", paramLabel = "INPUT", description = "image files, folders, s3://bucket/prefix/, s3:// or https:// objects")
    List<String> inputs;

    private final ObjectMapper json = new ObjectMapper();

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (batchSize < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--batch-size must be at least 1, got " + batchSize);
        }
        OfflineConfig config;
        try {
            config = engine.load();
        } catch (ConfigException e) {
            err.println("dermcap caption: invalid setting: " + e.getMessage());
            return 2;
        }
        try (StorageFetcher fetcher = OfflinePipeline.fetcher(config)) {
            Inputs.Expanded expanded = Inputs.expand(inputs, fetcher);
            for (Inputs.Problem p : expanded.problems()) {
                err.println("dermcap caption: " + p.argument() + ": " + p.message());
            }
            if (expanded.inputs().isEmpty()) {
                err.println("dermcap caption: nothing to caption");
                return 2;
            }
            try (OnnxCaptioner captioner = OnnxCaptioner.load(config.bundleDir(), config.engine())) {
                GenerationSettings settings = captioner.settingsFor(generation.overrides());
                ModelInfo info = captioner.info();
                err.printf("dermcap caption: %s %s on %s, loaded in %.1f s; %d images%n", info.bundleName(), info.bundleVersion(),
                        info.runtime().executionProvider(), captioner.loadTimings().totalNanos() / 1e9, expanded.inputs().size());
                Progress progress = new Progress(err, expanded.inputs().size());
                int[] failed = {0};
                try (OfflinePipeline pipeline = new OfflinePipeline(config, fetcher, captioner, captioner.preprocessing(), batchSize)) {
                    pipeline.run(expanded.inputs(), settings, (i, outcome) -> {
                        Inputs.Input input = expanded.inputs().get(i);
                        if (outcome instanceof Outcome.Failed f) {
                            failed[0]++;
                            progress.log(input.name() + ": " + f.reason() + ": " + f.message());
                        }
                        out.println(line(input, outcome, info));
                        out.flush();
                        progress.advance(outcome instanceof Outcome.Failed);
                    });
                }
                progress.finish();
                return failed[0] > 0 || !expanded.problems().isEmpty() ? 1 : 0;
            } catch (BundleException e) {
                err.println("dermcap caption: bundle " + config.bundleDir() + " refused (" + e.reason() + "): " + e.getMessage());
                return 2;
            } catch (InvalidSettingsException e) {
                err.println("dermcap caption: " + e.getMessage());
                return 2;
            }
        }
    }

    private String line(Inputs.Input input, Outcome outcome, ModelInfo info) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", input.name());
        if (outcome instanceof Outcome.Failed f) {
            m.put("error", Map.of("reason", f.reason().name(), "message", f.message()));
        } else if (outcome instanceof Outcome.Captioned c) {
            m.put("sha256", c.sha256());
            Caption caption = c.caption();
            m.put("caption", caption.text());
            m.put("token_ids", caption.tokenIds());
            m.put("finish_reason", caption.finishReason().name());
            Map<String, Object> timings = new LinkedHashMap<>();
            timings.put("fetch_ms", c.fetchNanos() / 1e6);
            timings.put("preprocess_ms", c.preprocessNanos() / 1e6);
            timings.put("batch_encode_ms", caption.encodeNanos() / 1e6);
            timings.put("batch_decode_ms", caption.decodeNanos() / 1e6);
            m.put("batch_size", caption.batchSize());
            m.put("timings", timings);
            GenerationSettings s = c.settings();
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
