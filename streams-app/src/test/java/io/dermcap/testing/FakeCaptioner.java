package io.dermcap.testing;

import io.dermcap.model.Caption;
import io.dermcap.model.Captioner;
import io.dermcap.model.GenerationSettings;
import io.dermcap.model.InvalidSettingsException;
import io.dermcap.model.ModelException;
import io.dermcap.model.ModelInfo;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A deterministic stand-in for the ONNX engine (unit tests only): the caption of an image is
 * derived from its first pixel value, so tests can tell which image got which caption.
 */
public final class FakeCaptioner implements Captioner {

    /** The default profile, "published" as in a real bundle: two banned sequences, whitespace collapsed. */
    public static final GenerationSettings DEFAULTS = new GenerationSettings("published", "Describe the lesion.", 4, 80, 24,
            4, 1.15, 0.6, true, List.of(List.of(36163, 3315, 3241), List.of(27780, 510)), true);
    /** The other profile: "card", no banned words, text stripped only. */
    public static final GenerationSettings CARD = new GenerationSettings("card", "Describe the lesion.", 4, 60, 24,
            4, 1.15, 0.6, true, List.of(), false);

    public final List<Integer> batchSizes = new CopyOnWriteArrayList<>();
    /** Batches (1-based) that throw ModelException. */
    public final List<Integer> failingBatches = new CopyOnWriteArrayList<>();
    /** Batches (1-based) that throw an Error, as a crashing native runtime would. */
    public final List<Integer> fatalBatches = new CopyOnWriteArrayList<>();
    /** When set, each batch waits for a permit (lets tests hold work in flight). */
    public volatile Semaphore gate;
    private final AtomicInteger calls = new AtomicInteger();

    @Override
    public ModelInfo info() {
        return new ModelInfo("dermlip-gpt2-captioner", "2025.08.30-test", true,
                new ModelInfo.SourceFile("final_captioner_gpt2-medium_VisionTransformer.pt", "ab".repeat(32)),
                new ModelInfo.SourceFile("final_captioner_gpt2-medium_VisionTransformer.json", "cd".repeat(32)),
                List.of(new ModelInfo.Stage("A", "META", "best_stageA.pt", null),
                        new ModelInfo.Stage("B", "SkinCAP", "best_stageB.pt", "ef".repeat(32))),
                "hf-hub:redlessone/DermLIP_ViT-B-16", null, "gpt2-medium",
                Map.of("vision_encoder", "01".repeat(32), "embed_tokens", "02".repeat(32),
                        "decoder_model_merged", "03".repeat(32)),
                "0.1.0", 17, DEFAULTS, new ModelInfo.Runtime("onnxruntime", "1.29.0", "CPU"),
                new ModelInfo.Identity("9a".repeat(32), "dermcap-bundle/1", "2025-08-30T00:00:00Z", "dermcap-export", "0.1.0",
                        new ModelInfo.Preprocessing(224, "shortest", "bicubic", "center",
                                List.of(0.48145466, 0.4578275, 0.40821073), List.of(0.26862954, 0.26130258, 0.27577711))));
    }

    @Override
    public GenerationSettings settingsFor(Overrides o) throws InvalidSettingsException {
        if (o.numBeams() != null && (o.numBeams() < 1 || o.numBeams() > 8)) {
            throw new InvalidSettingsException("num_beams must be between 1 and 8, got " + o.numBeams());
        }
        if (o.prompt() != null && o.prompt().length() > 200) {
            throw new InvalidSettingsException("prompt is too long for the context window");
        }
        GenerationSettings base = o.profile() == null || o.profile().equals("published") ? DEFAULTS
                : o.profile().equals("card") ? CARD : null;
        if (base == null) {
            throw new InvalidSettingsException("unknown generation profile '" + o.profile() + "'; the bundle has published, card");
        }
        return new GenerationSettings(base.profile(), o.prompt() != null ? o.prompt() : base.prompt(),
                o.numBeams() != null ? o.numBeams() : base.numBeams(),
                o.maxNewTokens() != null ? o.maxNewTokens() : base.maxNewTokens(),
                o.minNewTokens() != null ? o.minNewTokens() : base.minNewTokens(),
                base.noRepeatNgramSize(), base.repetitionPenalty(), base.lengthPenalty(), base.earlyStopping(),
                base.badWordsIds(), base.collapseWhitespace());
    }

    @Override
    public List<Caption> caption(List<Request> batch) throws ModelException {
        int call = calls.incrementAndGet();
        Semaphore g = gate;
        if (g != null) {
            g.acquireUninterruptibly();
        }
        batchSizes.add(batch.size());
        if (failingBatches.contains(call)) {
            throw new ModelException("simulated runtime failure");
        }
        if (fatalBatches.contains(call)) {
            throw new InternalError("simulated: the native runtime failed");
        }
        List<Caption> out = new ArrayList<>();
        for (Request r : batch) {
            int tag = Math.round(r.pixels().chw()[0]);
            out.add(new Caption(captionFor(tag), new int[]{tag, 11, 12}, Caption.FinishReason.EOS, batch.size(),
                    1_000_000, 2_000_000));
        }
        return out;
    }

    public static String captionFor(int tag) {
        return "a pigmented lesion number " + tag;
    }

    @Override
    public void close() {
    }
}
