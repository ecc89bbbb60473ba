package io.dermcap.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dermcap.config.ConfigException;
import io.dermcap.config.OfflineConfig;
import io.dermcap.model.Caption;
import io.dermcap.model.ForwardingCaptioner;
import io.dermcap.model.GenerationSettings;
import io.dermcap.model.InvalidSettingsException;
import io.dermcap.model.ModelException;
import io.dermcap.model.bundle.Bundle;
import io.dermcap.model.bundle.BundleException;
import io.dermcap.model.runtime.DecoderProfile;
import io.dermcap.model.runtime.OnnxCaptioner;
import io.dermcap.pipeline.Outcome;
import io.dermcap.storage.StorageFetcher;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code dermcap bench}: images/s, tokens/s, per-stage time and peak memory per batch size, and
 * in the same run the torch reference generator of {@code onnx-models} on the same weights,
 * images and settings, with the ratio.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure the engine per batch size against the torch reference on the same bundle, images and settings.")
final class BenchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    EngineArgs engine;

    @Mixin
    GenerationArgs generation;

    @Option(names = "--batch", split = ",", defaultValue = "1,4,8,16", description = "batch sizes (default ${DEFAULT-VALUE})")
    List<Integer> batchSizes;

    @Option(names = "--rounds", defaultValue = "2", description = "timed batches per batch size, after one warm-up batch (default ${DEFAULT-VALUE})")
    int rounds;

    @Option(names = "--reference-images", defaultValue = "2",
            description = "images the torch reference captions (at batch 1, with --threads); 0 skips it (default ${DEFAULT-VALUE})")
    int referenceImages;

    @Option(names = "--reference-python", defaultValue = "/usr/bin/python3", description = "Python with torch for the reference (default ${DEFAULT-VALUE})")
    String python;

    @Option(names = "--onnx-models", defaultValue = "onnx-models", description = "the exporter's folder, for the reference (default ${DEFAULT-VALUE})")
    Path onnxModels;

    @Option(names = "--onnx-profile", description = "profile the decoder with ONNX Runtime and print each decoding step's time "
            + "by attention, GEMM and other operators (adds a little time per operator to every measurement)")
    boolean profile;

    @Parameters(arity = "1..*", paramLabel = "INPUT",
            description = "images or folders (or objects, as for caption); cycled to fill the batches")
    List<String> paths;

    /** One batch size's measurements. */
    record Row(int batch, int images, double seconds, long tokens, double preprocessMs, double encodeMs, double prefillMs,
               double stepsMs, double selectMs, double searchMs, double stepMs, double steps, long peakRss) {
        double imagesPerSecond() {
            return images / seconds;
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        OfflineConfig config;
        try {
            config = engine.load();
        } catch (ConfigException e) {
            err.println("dermcap bench: invalid setting: " + e.getMessage());
            return 2;
        }
        try (StorageFetcher fetcher = OfflinePipeline.fetcher(config)) {
            Inputs.Expanded expanded = Inputs.expand(paths, fetcher);
            expanded.problems().forEach(p -> err.println("dermcap bench: " + p.argument() + ": " + p.message()));
            if (expanded.inputs().isEmpty() || !expanded.problems().isEmpty()) {
                return 2;
            }
            Path profileDir = profile ? Files.createTempDirectory("dermcap-profile") : null;
            try {
                OnnxCaptioner captioner;
                try {
                    captioner = OnnxCaptioner.load(config.bundleDir(), config.engine(),
                            profile ? profileDir.resolve("decoder") : null);
                } catch (BundleException e) {
                    err.println("dermcap bench: bundle " + config.bundleDir() + " refused (" + e.reason() + "): " + e.getMessage());
                    return 2;
                }
                try (captioner) {
                    return bench(out, err, config, fetcher, captioner, expanded.inputs());
                }
            } finally {
                if (profileDir != null) {
                    deleteTree(profileDir);
                }
            }
        }
    }

    private int bench(PrintWriter out, PrintWriter err, OfflineConfig config, StorageFetcher fetcher, OnnxCaptioner captioner,
                      List<Inputs.Input> inputs) throws IOException, InterruptedException, ModelException {
        GenerationSettings settings;
        try {
            settings = captioner.settingsFor(generation.overrides());
        } catch (InvalidSettingsException e) {
            err.println("dermcap bench: " + e.getMessage());
            return 2;
        }
        long bundleBytes = bundleBytes(captioner);
        long loadedRss = Rss.current();
        OnnxCaptioner.LoadTimings load = captioner.loadTimings();
        out.printf("bundle %s %s (%.2f GB, %s cache), %s, %d threads, loaded in %.2f s (verify %.2f s, sessions %.2f s), "
                        + "RSS after load %.2f GB%n",
                captioner.info().bundleName(), captioner.info().bundleVersion(), bundleBytes / 1e9,
                Bundle.cacheType(captioner.bundle().manifest()), captioner.info().runtime().executionProvider(),
                config.engine().threads(),
                load.totalNanos() / 1e9, load.verifyNanos() / 1e9, load.sessionsNanos() / 1e9, loadedRss / 1e9);
        out.printf("settings: beams %d, new tokens %d..%d, no-repeat %d-gram, repetition %.2f, length penalty %.2f%n",
                settings.numBeams(), settings.minNewTokens(), settings.maxNewTokens(), settings.noRepeatNgramSize(),
                settings.repetitionPenalty(), settings.lengthPenalty());
        TimedEngine timed = new TimedEngine(captioner);
        List<Row> rows = new ArrayList<>();
        for (int b : batchSizes) {
            err.printf("dermcap bench: batch %d (%d warm-up + %d timed images)%n", b, b, b * rounds);
            try (OfflinePipeline pipeline = new OfflinePipeline(config, fetcher, timed, captioner.preprocessing(), b)) {
                rows.add(measure(pipeline, timed, settings, inputs, b));
            }
        }
        printTable(out, rows, bundleBytes);
        printStepBreakdown(out, rows);
        if (profile) {
            printProfile(out, captioner.endDecoderProfile());
        }
        if (referenceImages > 0) {
            compareWithReference(out, err, config, fetcher, captioner, settings, inputs);
        }
        return 0;
    }

    /** Per decoding step: the decoder call, the cache reordering between calls, the Java search. */
    private static void printStepBreakdown(PrintWriter out, List<Row> rows) {
        out.println();
        out.println("| batch | ms/step | decoder call | reorder (cache rows) | search (Java) |");
        out.println("|---:|---:|---:|---:|---:|");
        for (Row r : rows) {
            double reorder = r.selectMs() / r.steps();
            double search = r.searchMs() / r.steps();
            out.printf("| %d | %.1f | %.1f | %.2f | %.2f |%n", r.batch(), r.stepMs() + reorder + search, r.stepMs(), reorder, search);
        }
        out.println("(per decoding step, averaged over the timed batches)");
    }

    /** The decoder calls of the whole run, by rows, split into operators from ONNX Runtime's profile. */
    private static void printProfile(PrintWriter out, Path file) throws IOException {
        out.println();
        out.println("| rows | decoding calls | ms/call | attention | GEMM | other operators | between operators |");
        out.println("|---:|---:|---:|---:|---:|---:|---:|");
        for (DecoderProfile.Rows r : DecoderProfile.steps(file)) {
            double n = r.calls();
            out.printf("| %d | %d | %.1f | %.1f | %.1f | %.1f | %.1f |%n", r.rows(), r.calls(), r.runMs() / n, r.attentionMs() / n,
                    r.gemmMs() / n, r.otherMs() / n, (r.runMs() - r.attentionMs() - r.gemmMs() - r.otherMs()) / n);
        }
        out.println("(ONNX Runtime's profile of every decoding call of the run, warm-up batches included; attention = "
                + "GroupQueryAttention, GEMM = MatMul, other = layer norms, GELU, adds, gathers)");
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.delete(f);
            }
        }
        Files.delete(dir);
    }

    /**
     * The engine with each model batch's timings kept for the table: bench runs the images through
     * the pipeline as caption and the service do, and reads the stage times here.
     */
    private static final class TimedEngine extends ForwardingCaptioner {
        private final OnnxCaptioner engine;
        private final List<OnnxCaptioner.BatchResult> batches = java.util.Collections.synchronizedList(new ArrayList<>());

        TimedEngine(OnnxCaptioner engine) {
            super(engine);
            this.engine = engine;
        }

        @Override
        public List<Caption> caption(List<Request> batch) throws ModelException {
            OnnxCaptioner.BatchResult result = engine.captionWithTimings(batch);
            batches.add(result);
            return result.captions();
        }
    }

    private Row measure(OfflinePipeline pipeline, TimedEngine timed, GenerationSettings settings, List<Inputs.Input> inputs,
                        int batch) throws InterruptedException {
        List<Inputs.Input> warmUp = cycle(inputs, batch);
        pipeline.run(warmUp, settings, (i, o) -> requireCaption(warmUp.get(i), o));
        timed.batches.clear();
        Rss.resetPeak();
        List<Inputs.Input> timedInputs = cycle(inputs, batch * rounds);
        List<Outcome.Captioned> outcomes = new ArrayList<>();
        long t0 = System.nanoTime();
        pipeline.run(timedInputs, settings, (i, o) -> outcomes.add(requireCaption(timedInputs.get(i), o)));
        double seconds = (System.nanoTime() - t0) / 1e9;
        long peak = Rss.peak();
        List<OnnxCaptioner.BatchResult> batches = List.copyOf(timed.batches);
        double n = batches.size();
        int steps = batches.stream().mapToInt(x -> x.decode().steps()).sum();
        return new Row(batch, outcomes.size(), seconds,
                outcomes.stream().mapToLong(o -> o.caption().tokenIds().length).sum(),
                outcomes.stream().mapToLong(Outcome.Captioned::preprocessNanos).average().orElse(0) / 1e6,
                batches.stream().mapToLong(OnnxCaptioner.BatchResult::encodeNanos).sum() / n / 1e6,
                batches.stream().mapToLong(x -> x.decode().prefillNanos()).sum() / n / 1e6,
                batches.stream().mapToLong(x -> x.decode().stepNanos()).sum() / n / 1e6,
                batches.stream().mapToLong(x -> x.decode().selectNanos()).sum() / n / 1e6,
                batches.stream().mapToLong(x -> x.decode().searchNanos()).sum() / n / 1e6,
                batches.stream().mapToLong(x -> x.decode().stepNanos()).sum() / (double) steps / 1e6,
                steps / n,
                peak);
    }

    private static Outcome.Captioned requireCaption(Inputs.Input input, Outcome o) {
        if (o instanceof Outcome.Failed f) {
            throw new IllegalStateException(input.name() + ": " + f.reason() + ": " + f.message());
        }
        return (Outcome.Captioned) o;
    }

    private static List<Inputs.Input> cycle(List<Inputs.Input> inputs, int n) {
        List<Inputs.Input> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(inputs.get(i % inputs.size()));
        }
        return out;
    }

    private static void printTable(PrintWriter out, List<Row> rows, long bundleBytes) {
        out.println();
        out.println("| batch | images | images/s | × batch 1 | tokens/s | preprocess ms/img | encode ms | prefill ms | decode steps ms | ms/step | select ms | search ms | peak RSS GB | RSS − bundle GB |");
        out.println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        double base = rows.get(0).imagesPerSecond();
        for (Row r : rows) {
            out.printf("| %d | %d | %.3f | %.2f | %.1f | %.1f | %.0f | %.0f | %.0f | %.1f | %.0f | %.0f | %.2f | %.2f |%n",
                    r.batch(), r.images(), r.imagesPerSecond(), r.imagesPerSecond() / base, r.tokens() / r.seconds(),
                    r.preprocessMs(), r.encodeMs(), r.prefillMs(), r.stepsMs(), r.stepMs(), r.selectMs(), r.searchMs(),
                    r.peakRss() / 1e9, (r.peakRss() - bundleBytes) / 1e9);
        }
        out.println("(stage times are per batch, averaged over the timed batches; ms/step = decoder calls after the prefill)");
    }

    /** The same images at batch 1 through the engine and through the torch reference; tokens compared. */
    private void compareWithReference(PrintWriter out, PrintWriter err, OfflineConfig config, StorageFetcher fetcher,
                                      OnnxCaptioner captioner, GenerationSettings settings, List<Inputs.Input> inputs)
            throws IOException, InterruptedException {
        GenerationSettings defaults = captioner.info().defaults();
        if (!settings.prompt().equals(defaults.prompt()) || (settings.numBeams() != 1 && settings.numBeams() != defaults.numBeams())) {
            out.println("torch reference skipped: it runs the bundle's prompt with its beam count or greedy only");
            return;
        }
        List<Inputs.Input> images = inputs.subList(0, Math.min(referenceImages, inputs.size()));
        if (images.stream().anyMatch(i -> !i.uri().startsWith("file:"))) {
            out.println("torch reference skipped: it reads local files only");
            return;
        }
        List<int[]> javaTokens = new ArrayList<>();
        long t0 = System.nanoTime();
        try (OfflinePipeline pipeline = new OfflinePipeline(config, fetcher, captioner, captioner.preprocessing(), 1)) {
            pipeline.run(images, settings, (i, o) -> javaTokens.add(requireCaption(images.get(i), o).caption().tokenIds()));
        }
        double javaSeconds = (System.nanoTime() - t0) / 1e9;

        List<String> command = new ArrayList<>(List.of(python, "-m", "dermcap_export", "reference",
                "--bundle", config.bundleDir().toAbsolutePath().toString(),
                "--threads", String.valueOf(config.engine().threads()),
                "--decoding", settings.numBeams() > 1 ? "beam" : "greedy",
                "--max-new-tokens", String.valueOf(settings.maxNewTokens()),
                "--min-new-tokens", String.valueOf(settings.minNewTokens())));
        images.forEach(i -> command.add(Path.of(URI.create(i.uri())).toString()));
        err.println("dermcap bench: torch reference on " + images.size() + " images: " + String.join(" ", command));
        Path stdout = Files.createTempFile("dermcap-reference", ".json");
        try {
            Process p = new ProcessBuilder(command).directory(onnxModels.toFile())
                    .redirectOutput(stdout.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            int exit = p.waitFor();
            if (exit != 0) {
                out.println("torch reference failed (exit " + exit + "); see stderr");
                return;
            }
            JsonNode result = new ObjectMapper().readTree(Files.readString(stdout, StandardCharsets.UTF_8));
            double torchPerSecond = result.get("totals").get("images_per_second").asDouble();
            int same = 0;
            for (int i = 0; i < images.size(); i++) {
                int[] torch = ints(result.get("images").get(i).get("token_ids"));
                if (torch.length > 0 && torch[torch.length - 1] == 50256) {
                    torch = Arrays.copyOf(torch, torch.length - 1);
                }
                same += Arrays.equals(torch, javaTokens.get(i)) ? 1 : 0;
            }
            double javaPerSecond = images.size() / javaSeconds;
            out.println();
            out.printf("torch reference (torch %s, %d threads, batch 1, %d images): %.4f images/s; engine at batch 1 on the same images: %.4f images/s%n",
                    result.get("torch").asText(), result.get("threads").asInt(), images.size(), torchPerSecond, javaPerSecond);
            out.printf("engine ÷ torch: %.1f× at batch 1; identical tokens for %d of %d images%n",
                    javaPerSecond / torchPerSecond, same, images.size());
        } finally {
            Files.deleteIfExists(stdout);
        }
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }

    private static long bundleBytes(OnnxCaptioner captioner) {
        long total = 0;
        try (var files = Files.list(captioner.bundle().dir())) {
            for (Path f : (Iterable<Path>) files::iterator) {
                total += Files.size(f);
            }
        } catch (IOException e) {
            return -1;
        }
        return total;
    }
}
