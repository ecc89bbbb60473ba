package io.dermcap.cli;

import io.dermcap.config.OfflineConfig;
import io.dermcap.image.ImagePreprocessor;
import io.dermcap.image.PreprocessingSpec;
import io.dermcap.metrics.ServiceMetrics;
import io.dermcap.model.Captioner;
import io.dermcap.model.GenerationSettings;
import io.dermcap.pipeline.InOrder;
import io.dermcap.pipeline.InferencePipeline;
import io.dermcap.pipeline.PipelineOptions;
import io.dermcap.storage.StorageFetcher;
import io.dermcap.storage.StorageOptions;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The service's pipeline, wired for the offline commands: their fetcher (run's storage settings),
 * the engine, model batches of {@code batch} with the next batch fetched and decoded meanwhile, and
 * every outcome handed over in input order.
 */
final class OfflinePipeline implements AutoCloseable {

    /** Where local files may lie when {@code storage.file.root} is not set: the user named them. */
    private static final Path ANYWHERE = Path.of("/");

    private final InferencePipeline pipeline;
    private final int batch;

    OfflinePipeline(OfflineConfig config, StorageFetcher fetcher, Captioner captioner, PreprocessingSpec preprocessing, int batch) {
        ImagePreprocessor preprocessor = new ImagePreprocessor(preprocessing, config.imageLimits());
        this.pipeline = new InferencePipeline(captioner, fetcher, preprocessor::preprocess,
                new PipelineOptions(batch, 2 * batch, config.fetchThreads()), new ServiceMetrics(new SimpleMeterRegistry()));
        this.batch = batch;
    }

    /** The offline commands' fetcher: run's storage settings, local files under storage.file.root if it is set. */
    static StorageFetcher fetcher(OfflineConfig config) {
        StorageOptions storage = config.storage();
        return new StorageFetcher(storage.fileRoot() == null ? storage.withFileRoot(ANYWHERE) : storage);
    }

    void run(List<Inputs.Input> inputs, GenerationSettings settings, InOrder.Sink sink) throws InterruptedException {
        List<InferencePipeline.Job> jobs = new ArrayList<>(inputs.size());
        long now = System.currentTimeMillis();
        for (int i = 0; i < inputs.size(); i++) {
            jobs.add(new InferencePipeline.Job(i, inputs.get(i).uri(), null, settings, now));
        }
        InOrder.run(pipeline, jobs, batch, sink);
    }

    @Override
    public void close() {
        pipeline.close();
    }
}
