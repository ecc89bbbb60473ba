package io.dermcap.cli;

import io.dermcap.image.ImageException;
import io.dermcap.image.ImagePreprocessor;
import io.dermcap.image.PixelTensor;
import io.dermcap.model.Caption;
import io.dermcap.model.Captioner.Request;
import io.dermcap.model.GenerationSettings;
import io.dermcap.model.ModelException;
import io.dermcap.model.generation.Generator;
import io.dermcap.model.runtime.OnnxCaptioner;
import io.dermcap.storage.StorageFetcher;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * Captions a list of inputs in batches: reading and preprocessing of the next batch run on a
 * background thread while the model runs the current one. Every input gets exactly one
 * {@link Outcome}, in input order: a caption, or the reason it failed.
 */
final class BatchRunner implements AutoCloseable {

    /** What happened to one input. {@code caption} is null when {@code error} is set. */
    record Outcome(Inputs.Input input, String sha256, Caption caption, String error, String errorMessage,
                   long readNanos, long preprocessNanos, Batch batch) {
        boolean failed() {
            return error != null;
        }
    }

    /** One model run: its images and where its time went. */
    record Batch(int images, long wallNanos, long encodeNanos, Generator.Timings decode, int generatedTokens) {
    }

    private record Prepared(Inputs.Input input, String sha256, PixelTensor pixels, String error, String message,
                            long readNanos, long preprocessNanos) {
    }

    private final OnnxCaptioner captioner;
    private final ImagePreprocessor preprocessor;
    private final int batchSize;
    private final ExecutorService prefetch = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "dermcap-preprocess");
        t.setDaemon(true);
        return t;
    });

    BatchRunner(OnnxCaptioner captioner, ImagePreprocessor preprocessor, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        this.captioner = captioner;
        this.preprocessor = preprocessor;
        this.batchSize = batchSize;
    }

    void run(List<? extends Inputs.Input> inputs, GenerationSettings settings, Consumer<Outcome> sink) {
        List<Future<Prepared>> pending = new ArrayList<>();
        int submitted = 0;
        for (int start = 0; start < inputs.size(); start += batchSize) {
            int end = Math.min(start + batchSize, inputs.size());
            // keep this batch and the next one in the preprocessing queue
            int ahead = Math.min(inputs.size(), end + batchSize);
            for (; submitted < ahead; submitted++) {
                Inputs.Input input = inputs.get(submitted);
                pending.add(prefetch.submit(() -> prepare(input)));
            }
            List<Prepared> prepared = new ArrayList<>();
            for (int i = start; i < end; i++) {
                prepared.add(await(pending.get(i), inputs.get(i)));
            }
            captionBatch(prepared, settings, sink);
        }
    }

    private void captionBatch(List<Prepared> prepared, GenerationSettings settings, Consumer<Outcome> sink) {
        List<Request> requests = new ArrayList<>();
        for (Prepared p : prepared) {
            if (p.error() == null) {
                requests.add(new Request(p.pixels(), settings));
            }
        }
        List<Caption> captions = List.of();
        Batch batch = null;
        String modelError = null;
        if (!requests.isEmpty()) {
            long t0 = System.nanoTime();
            try {
                OnnxCaptioner.BatchResult result = captioner.captionWithTimings(requests);
                captions = result.captions();
                int tokens = captions.stream().mapToInt(c -> c.tokenIds().length).sum();
                batch = new Batch(requests.size(), System.nanoTime() - t0, result.encodeNanos(), result.decode(), tokens);
            } catch (ModelException e) {
                modelError = e.getMessage();
            }
        }
        int next = 0;
        for (Prepared p : prepared) {
            if (p.error() != null) {
                sink.accept(new Outcome(p.input(), p.sha256(), null, p.error(), p.message(), p.readNanos(), p.preprocessNanos(), null));
            } else if (modelError != null) {
                sink.accept(new Outcome(p.input(), p.sha256(), null, "MODEL_ERROR", modelError, p.readNanos(), p.preprocessNanos(), null));
            } else {
                sink.accept(new Outcome(p.input(), p.sha256(), captions.get(next++), null, null, p.readNanos(), p.preprocessNanos(), batch));
            }
        }
    }

    private Prepared prepare(Inputs.Input input) {
        long t0 = System.nanoTime();
        byte[] bytes;
        try {
            bytes = input.read();
        } catch (IOException e) {
            return new Prepared(input, null, null, "UNREADABLE", "cannot read: " + e.getMessage(), System.nanoTime() - t0, 0);
        }
        long t1 = System.nanoTime();
        String sha = StorageFetcher.sha256(bytes);
        try {
            PixelTensor pixels = preprocessor.preprocess(bytes);
            return new Prepared(input, sha, pixels, null, null, t1 - t0, System.nanoTime() - t1);
        } catch (ImageException e) {
            return new Prepared(input, sha, null, e.reason().name(), e.getMessage(), t1 - t0, System.nanoTime() - t1);
        } catch (RuntimeException | OutOfMemoryError e) {
            return new Prepared(input, sha, null, "CORRUPT", "cannot decode: " + e, t1 - t0, System.nanoTime() - t1);
        }
    }

    private static Prepared await(Future<Prepared> future, Inputs.Input input) {
        try {
            return future.get();
        } catch (ExecutionException e) {
            return new Prepared(input, null, null, "UNREADABLE", String.valueOf(e.getCause()), 0, 0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while preprocessing " + input.name(), e);
        }
    }


    @Override
    public void close() {
        prefetch.shutdownNow();
    }
}
