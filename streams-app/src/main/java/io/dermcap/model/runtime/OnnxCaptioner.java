package io.dermcap.model.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.dermcap.image.PixelTensor;
import io.dermcap.image.PreprocessingSpec;
import io.dermcap.model.Caption;
import io.dermcap.model.Captioner;
import io.dermcap.model.EngineOptions;
import io.dermcap.model.GenerationSettings;
import io.dermcap.model.InvalidSettingsException;
import io.dermcap.model.ModelException;
import io.dermcap.model.ModelInfo;
import io.dermcap.model.bundle.Bundle;
import io.dermcap.model.bundle.BundleException;
import io.dermcap.model.bundle.Manifest;
import io.dermcap.model.generation.Generation;
import io.dermcap.model.generation.Generator;
import io.dermcap.model.generation.PrefillItem;
import io.dermcap.model.tokenizer.Gpt2Tokenizer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The captioning engine on ONNX Runtime: one verified bundle, one set of sessions, one batched
 * generation loop. Calls from many threads are serialised (one model run at a time).
 */
public final class OnnxCaptioner implements Captioner {

    /** Bounds a request's overrides must stay within. */
    public static final int MAX_BEAMS = 8;
    public static final int MAX_NEW_TOKENS_CAP = 256;

    private final Bundle bundle;
    private final OnnxModels models;
    final OrtDecoder decoder;
    private final Gpt2Tokenizer tokenizer = new Gpt2Tokenizer();
    private final Generator generator;
    private final ModelInfo info;
    private final Map<String, GenerationSettings> profiles = new LinkedHashMap<>();
    private final GenerationSettings defaults;
    private final Manifest.Model model;
    private final EngineThread engine;
    private final ExecutorService searchPool;
    private final Map<String, int[]> promptIds = new LinkedHashMap<>();
    private final LoadTimings loadTimings;

    /** Where the load went: reading and hashing the bundle, then creating and checking the sessions. */
    public record LoadTimings(long verifyNanos, long sessionsNanos) {
        public long totalNanos() {
            return verifyNanos + sessionsNanos;
        }
    }

    private OnnxCaptioner(Bundle bundle, OnnxModels models, EngineThread engine, LoadTimings loadTimings, int threads) {
        this.bundle = bundle;
        this.engine = engine;
        this.models = models;
        this.model = bundle.manifest().model();
        this.decoder = new OrtDecoder(models, model, Bundle.cacheType(bundle.manifest()));
        this.searchPool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "dermcap-search");
            t.setDaemon(true);
            return t;
        });
        this.generator = new Generator(model.eosTokenId(), searchPool);
        Manifest.Generation g = bundle.manifest().generation();
        g.profiles().forEach((name, p) -> profiles.put(name, new GenerationSettings(name, g.prompt(), p.numBeams(),
                p.maxNewTokens(), p.minNewTokens(), p.noRepeatNgramSize(), p.repetitionPenalty(), p.lengthPenalty(),
                p.earlyStopping(), p.badWords().tokenIds(), p.text().collapseWhitespace())));
        this.defaults = profiles.get(g.defaultProfile());
        this.info = modelInfo(bundle, defaults, models);
        this.loadTimings = loadTimings;
    }

    /** Verifies the bundle in {@code dir} (hashes, signatures) and opens its sessions. */
    public static OnnxCaptioner load(Path dir, EngineOptions options) throws BundleException {
        return load(dir, options, null);
    }

    /**
     * As {@link #load(Path, EngineOptions)}, with ONNX Runtime's per-node profiling of the decoder
     * written to a file named from {@code decoderProfile} (a prefix; null: none), read with
     * {@link #endDecoderProfile}. Profiling costs a little time per node: for measurements only.
     */
    public static OnnxCaptioner load(Path dir, EngineOptions options, Path decoderProfile) throws BundleException {
        long t0 = System.nanoTime();
        Bundle bundle = Bundle.load(dir);
        long t1 = System.nanoTime();
        EngineThread engine = new EngineThread();
        try {
            OnnxModels models = engine.call(BundleException.class, () -> OnnxModels.open(bundle, options, decoderProfile));
            return new OnnxCaptioner(bundle, models, engine, new LoadTimings(t1 - t0, System.nanoTime() - t1), options.threads());
        } catch (BundleException | RuntimeException | Error e) {
            engine.close();
            throw e;
        }
    }

    /** Ends the decoder's profiling started by {@link #load(Path, EngineOptions, Path)}: the profile file. */
    public Path endDecoderProfile() throws ModelException {
        return onEngine(() -> {
            try {
                return models.endDecoderProfile();
            } catch (OrtException e) {
                throw new ModelException("ending the decoder profile failed: " + e.getMessage(), e);
            }
        });
    }

    public Bundle bundle() {
        return bundle;
    }

    /** Wall time of {@link #load}: manifest and hashes, then sessions. */
    public LoadTimings loadTimings() {
        return loadTimings;
    }

    /** The preprocessing the bundle's vision encoder expects. */
    public PreprocessingSpec preprocessing() {
        Manifest.Preprocessing p = bundle.manifest().preprocessing();
        float[] mean = new float[3];
        float[] std = new float[3];
        for (int c = 0; c < 3; c++) {
            mean[c] = (float) p.mean()[c];
            std[c] = (float) p.std()[c];
        }
        return new PreprocessingSpec(p.imageSize(), mean, std);
    }

    public Gpt2Tokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public ModelInfo info() {
        return info;
    }

    @Override
    public GenerationSettings settingsFor(Overrides o) throws InvalidSettingsException {
        GenerationSettings base = o.profile() == null ? defaults : profiles.get(o.profile());
        if (base == null) {
            throw new InvalidSettingsException("unknown generation profile '" + o.profile() + "'; the bundle has "
                    + String.join(", ", profiles.keySet()));
        }
        String prompt = o.prompt() != null ? o.prompt() : base.prompt();
        int beams = o.numBeams() != null ? o.numBeams() : base.numBeams();
        int max = o.maxNewTokens() != null ? o.maxNewTokens() : base.maxNewTokens();
        int min = o.minNewTokens() != null ? o.minNewTokens() : Math.min(base.minNewTokens(), max);
        if (beams < 1 || beams > MAX_BEAMS) {
            throw new InvalidSettingsException("num_beams must be between 1 and " + MAX_BEAMS + ", got " + beams);
        }
        if (max < 1 || max > MAX_NEW_TOKENS_CAP) {
            throw new InvalidSettingsException("max_new_tokens must be between 1 and " + MAX_NEW_TOKENS_CAP + ", got " + max);
        }
        if (min < 0 || min > max) {
            throw new InvalidSettingsException("min_new_tokens must be between 0 and max_new_tokens (" + max + "), got " + min);
        }
        int promptTokens = promptIds(prompt).length;
        int positions = model.prefixTokens() + promptTokens + max;
        if (positions > model.maxPositions()) {
            throw new InvalidSettingsException("the prompt is " + promptTokens + " tokens: " + model.prefixTokens()
                    + " prefix + " + promptTokens + " prompt + " + max + " new tokens = " + positions
                    + " positions, over the model's " + model.maxPositions());
        }
        return new GenerationSettings(base.profile(), prompt, beams, max, min, base.noRepeatNgramSize(),
                base.repetitionPenalty(), base.lengthPenalty(), base.earlyStopping(), base.badWordsIds(),
                base.collapseWhitespace());
    }

    /** Captions and where the batch's time went. */
    public record BatchResult(List<Caption> captions, long encodeNanos, Generator.Timings decode) {
    }

    @Override
    public List<Caption> caption(List<Request> batch) throws ModelException {
        return captionWithTimings(batch).captions();
    }

    public BatchResult captionWithTimings(List<Request> batch) throws ModelException {
        if (batch.isEmpty()) {
            return new BatchResult(List.of(), 0, new Generator.Timings(0, 0, 0, 0, 0, 0));
        }
        return onEngine(() -> captionOnEngine(batch));
    }

    /** Runs model work on the engine thread (tests drive the decoder through this too). */
    <T> T onEngine(EngineThread.Work<T, ModelException> work) throws ModelException {
        return engine.call(ModelException.class, work);
    }

    private BatchResult captionOnEngine(List<Request> batch) throws ModelException {
        long t0 = System.nanoTime();
        float[][] prefixes = encode(batch);
        long t1 = System.nanoTime();
        List<PrefillItem> items = new ArrayList<>(batch.size());
        List<GenerationSettings> settings = new ArrayList<>(batch.size());
        int rows = 0;
        int longestPrompt = 0;
        int mostNewTokens = 0;
        for (int i = 0; i < batch.size(); i++) {
            GenerationSettings s = batch.get(i).settings();
            int[] ids = promptIds(s.prompt());
            items.add(new PrefillItem(prefixes[i], ids));
            settings.add(s);
            rows += s.numBeams();
            longestPrompt = Math.max(longestPrompt, ids.length);
            mostNewTokens = Math.max(mostNewTokens, s.maxNewTokens());
        }
        // every row is left-padded to the longest prompt
        decoder.reserve(rows, model.prefixTokens() + longestPrompt + mostNewTokens);
        Generator.Outcome outcome;
        try {
            outcome = generator.generate(decoder, items, settings);
        } catch (RuntimeException e) {
            throw new ModelException("generation failed: " + e.getMessage(), e);
        }
        long t2 = System.nanoTime();
        List<Caption> captions = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            Generation g = outcome.generations().get(i);
            captions.add(new Caption(tokenizer.caption(g.tokenIds(), settings.get(i).prompt(), settings.get(i).collapseWhitespace()), g.tokenIds(),
                    g.finishReason(), batch.size(), t1 - t0, t2 - t1));
        }
        return new BatchResult(captions, t1 - t0, outcome.timings());
    }

    /** The vision encoder over the batch: one {@code [P × D]} prefix per image. */
    float[][] encode(List<Request> batch) throws ModelException {
        int n = batch.size();
        int size = bundle.manifest().preprocessing().imageSize();
        int plane = 3 * size * size;
        FloatBuffer pixels = ByteBuffer.allocateDirect(4 * n * plane).order(ByteOrder.nativeOrder()).asFloatBuffer();
        for (int i = 0; i < n; i++) {
            PixelTensor p = batch.get(i).pixels();
            if (p.size() != size) {
                throw new ModelException("image " + i + " is preprocessed to " + p.size() + " pixels, the bundle needs " + size);
            }
            pixels.put(i * plane, p.chw());
        }
        int prefix = model.prefixTokens() * model.hiddenSize();
        try (OnnxTensor input = OnnxTensor.createTensor(models.env, pixels, new long[] {n, 3, size, size});
             OrtSession.Result result = models.vision.run(Map.of("pixel_values", input), models.visionRun)) {
            FloatBuffer out = ((OnnxTensor) result.get(0)).getFloatBuffer();
            float[][] prefixes = new float[n][prefix];
            for (int i = 0; i < n; i++) {
                out.get(i * prefix, prefixes[i]);
            }
            return prefixes;
        } catch (OrtException e) {
            throw new ModelException("vision_encoder failed on " + n + " images: " + e.getMessage(), e);
        }
    }

    private int[] promptIds(String prompt) {
        synchronized (promptIds) {
            if (promptIds.size() > 64) {
                promptIds.clear();
            }
            return promptIds.computeIfAbsent(prompt, tokenizer::encode);
        }
    }

    private static ModelInfo modelInfo(Bundle bundle, GenerationSettings defaults, OnnxModels models) {
        Manifest m = bundle.manifest();
        Manifest.Lineage l = m.lineage();
        Map<String, String> graphs = new LinkedHashMap<>();
        for (String g : Bundle.GRAPHS) {
            graphs.put(m.graphs().get(g).file(), m.graphs().get(g).sha256());
        }
        List<ModelInfo.Stage> stages = new ArrayList<>();
        if (l != null && l.stages() != null) {
            l.stages().forEach(s -> stages.add(new ModelInfo.Stage(s.stage(), s.dataset(), s.file(), s.sha256())));
        }
        return new ModelInfo(m.name(), m.version(), m.randomInit() != null,
                l == null || l.checkpoint() == null ? null : new ModelInfo.SourceFile(l.checkpoint().file(), l.checkpoint().sha256()),
                l == null || l.config() == null ? null : new ModelInfo.SourceFile(l.config().file(), l.config().sha256()),
                List.copyOf(stages),
                l == null || l.visionWeights() == null ? null : l.visionWeights().id(),
                l == null || l.visionWeights() == null ? null : l.visionWeights().sha256(),
                l == null ? null : l.baseLm(),
                Map.copyOf(graphs),
                m.exporter() == null ? null : m.exporter().version(),
                m.exporter() == null ? 0 : m.exporter().opset(),
                defaults,
                new ModelInfo.Runtime("onnxruntime", models.env.getVersion(), models.executionProvider),
                identity(bundle));
    }

    private static ModelInfo.Identity identity(Bundle bundle) {
        Manifest m = bundle.manifest();
        Manifest.Preprocessing p = m.preprocessing();
        return new ModelInfo.Identity(bundle.manifestSha256(), m.format(), m.created(),
                m.exporter() == null ? null : m.exporter().name(),
                m.exporter() == null ? null : m.exporter().version(),
                p == null ? null : new ModelInfo.Preprocessing(p.imageSize(), p.resize(), p.interpolation(), p.crop(),
                        java.util.Arrays.stream(p.mean()).boxed().toList(), java.util.Arrays.stream(p.std()).boxed().toList()));
    }

    @Override
    public void close() {
        try {
            engine.call(RuntimeException.class, () -> {
                models.close();
                decoder.release();
                return null;
            });
        } finally {
            engine.close();
            searchPool.shutdownNow();
        }
    }
}
