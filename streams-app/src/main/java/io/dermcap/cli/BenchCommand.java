package io.dermcap.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dermcap.image.ImagePreprocessor;
import io.dermcap.model.GenerationSettings;
import io.dermcap.model.InvalidSettingsException;
import io.dermcap.model.bundle.BundleException;
import io.dermcap.model.runtime.DecoderProfile;
import io.dermcap.model.runtime.OnnxCaptioner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
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

    @Option(names = "--profile", description = "profile the decoder with ONNX Runtime and print each decoding step's time "
            + "by attention, GEMM and other operators (adds a little time per operator to every measurement)")
    boolean profile;

    @Parameters(arity = "1..*", paramLabel = "PATH", description = "images or folders; cycled to fill the batches")
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
        Inputs.Expanded expanded = Inputs.expand(paths, List.of(new Inputs.LocalFiles()));
        expanded.problems().forEach(p -> err.println("dermcap bench: " + p.argument() + ": " + p.message()));
        if (expanded.inputs().isEmpty() || !expanded.problems().isEmpty()) {
            return 2;
        }
        OnnxCaptioner captioner;
        Path profileDir = profile ? Files.createTempDirectory("dermcap-profile") : null;
        try {
            captioner = OnnxCaptioner.load(engine.bundle, engine.engineOptions(), profile ? profileDir.resolve("decoder") : null);
        } catch (BundleException e) {
            err.println("dermcap bench: bundle " + engine.bundle + " refused (" + e.reason() + "): " + e.getMessage());
            return 2;
        }
        try (captioner) {
            GenerationSettings settings = captioner.settingsFor(generation.overrides());
            long bundleBytes = bundleBytes(captioner);
            long loadedRss = Rss.current();
            OnnxCaptioner.LoadTimings load = captioner.loadTimings();
            out.printf("bundle %s %s (%.2f GB), %s, %d threads, loaded in %.2f s (verify %.2f s, sessions %.2f s), RSS after load %.2f GB%n",
                    captioner.info().bundleName(), captioner.info().bundleVersion(), bundleBytes / 1e9,
                    captioner.info().runtime().executionProvider(), engine.engineOptions().threads(),
                    load.totalNanos() / 1e9, load.verifyNanos() / 1e9, load.sessionsNanos() / 1e9, loadedRss / 1e9);
            out.printf("settings: beams %d, new tokens %d..%d, no-repeat %d-gram, repetition %.2f, length penalty %.2f%n",
                    settings.numBeams(), settings.minNewTokens(), settings.maxNewTokens(), settings.noRepeatNgramSize(),
                    settings.repetitionPenalty(), settings.lengthPenalty());
            ImagePreprocessor preprocessor = new ImagePreprocessor(captioner.preprocessing(), engine.imageLimits());
            List<Row> rows = new ArrayList<>();
            for (int b : batchSizes) {
                err.printf("dermcap bench: batch %d (%d warm-up + %d timed images)%n", b, b, b * rounds);
                rows.add(measure(captioner, preprocessor, settings, expanded.inputs(), b));
            }
            printTable(out, rows, bundleBytes);
            printStepBreakdown(out, rows);
            if (profile) {
                printProfile(out, captioner.endDecoderProfile());
            }
            if (referenceImages > 0) {
                compareWithReference(out, err, captioner, preprocessor, settings, expanded.inputs());
            }
            return 0;
        } catch (InvalidSettingsException e) {
            err.println("dermcap bench: " + e.getMessage());
            return 2;
        } finally {
            if (profileDir != null) {
                try (var files = Files.list(profileDir)) {
                    for (Path f : (Iterable<Path>) files::iterator) {
                        Files.delete(f);
                    }
                }
                Files.delete(profileDir);
            }
        }
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

    private Row measure(OnnxCaptioner captioner, ImagePreprocessor preprocessor, GenerationSettings settings,
                        List<Inputs.Input> inputs, int batch) {
        try (BatchRunner runner = new BatchRunner(captioner, preprocessor, batch)) {
            runner.run(cycle(inputs, batch), settings, o -> requireCaption(o));
            Rss.resetPeak();
            List<BatchRunner.Outcome> outcomes = new ArrayList<>();
            long t0 = System.nanoTime();
            runner.run(cycle(inputs, batch * rounds), settings, o -> {
                requireCaption(o);
                outcomes.add(o);
            });
            double seconds = (System.nanoTime() - t0) / 1e9;
            long peak = Rss.peak();
            List<BatchRunner.Batch> batches = new ArrayList<>();
            for (BatchRunner.Outcome o : outcomes) {
                if (batches.isEmpty() || batches.get(batches.size() - 1) != o.batch()) {
                    batches.add(o.batch());
                }
            }
            double n = batches.size();
            return new Row(batch, outcomes.size(), seconds,
                    batches.stream().mapToLong(BatchRunner.Batch::generatedTokens).sum(),
                    outcomes.stream().mapToLong(BatchRunner.Outcome::preprocessNanos).average().orElse(0) / 1e6,
                    batches.stream().mapToLong(BatchRunner.Batch::encodeNanos).sum() / n / 1e6,
                    batches.stream().mapToLong(x -> x.decode().prefillNanos()).sum() / n / 1e6,
                    batches.stream().mapToLong(x -> x.decode().stepNanos()).sum() / n / 1e6,
                    batches.stream().mapToLong(x -> x.decode().selectNanos()).sum() / n / 1e6,
                    batches.stream().mapToLong(x -> x.decode().searchNanos()).sum() / n / 1e6,
                    batches.stream().mapToLong(x -> x.decode().stepNanos()).sum()
                            / (double) batches.stream().mapToInt(x -> x.decode().steps()).sum() / 1e6,
                    batches.stream().mapToInt(x -> x.decode().steps()).sum() / n,
                    peak);
        }
    }

    private static void requireCaption(BatchRunner.Outcome o) {
        if (o.failed()) {
            throw new IllegalStateException(o.input().name() + ": " + o.error() + ": " + o.errorMessage());
        }
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
    private void compareWithReference(PrintWriter out, PrintWriter err, OnnxCaptioner captioner, ImagePreprocessor preprocessor,
                                      GenerationSettings settings, List<Inputs.Input> inputs) throws IOException, InterruptedException {
        GenerationSettings defaults = captioner.info().defaults();
        if (!settings.prompt().equals(defaults.prompt()) || (settings.numBeams() != 1 && settings.numBeams() != defaults.numBeams())) {
            out.println("torch reference skipped: it runs the bundle's prompt with its beam count or greedy only");
            return;
        }
        List<Inputs.Input> images = inputs.subList(0, Math.min(referenceImages, inputs.size()));
        List<int[]> javaTokens = new ArrayList<>();
        long t0 = System.nanoTime();
        try (BatchRunner runner = new BatchRunner(captioner, preprocessor, 1)) {
            runner.run(images, settings, o -> {
                requireCaption(o);
                javaTokens.add(o.caption().tokenIds());
            });
        }
        double javaSeconds = (System.nanoTime() - t0) / 1e9;

        List<String> command = new ArrayList<>(List.of(python, "-m", "dermcap_export", "reference",
                "--bundle", engine.bundle.toAbsolutePath().toString(),
                "--threads", String.valueOf(engine.engineOptions().threads()),
                "--decoding", settings.numBeams() > 1 ? "beam" : "greedy",
                "--max-new-tokens", String.valueOf(settings.maxNewTokens()),
                "--min-new-tokens", String.valueOf(settings.minNewTokens())));
        images.forEach(i -> command.add(Path.of(i.name()).toAbsolutePath().toString()));
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
