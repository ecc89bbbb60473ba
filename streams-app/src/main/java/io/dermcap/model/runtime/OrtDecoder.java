package io.dermcap.model.runtime;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.dermcap.model.ModelException;
import io.dermcap.model.bundle.Manifest;
import io.dermcap.model.generation.DecoderSession;
import io.dermcap.model.generation.PrefillItem;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Drives {@code embed_tokens} and {@code decoder_model_merged} as a {@link DecoderSession}: the
 * key/value cache and the logits live in buffers of ours that ONNX Runtime writes into (pinned
 * outputs). Each cache buffer is bound as both the past input and the present output, so the
 * decoder's attention writes the new positions in place and reads each row's valid positions
 * only. Rows of different prompt lengths are right-padded: row {@code r}'s positions sit at
 * {@code [0, length(r))} of its cache row, with Hugging Face's positions ({@code cumsum(mask) - 1}
 * of a left-padded batch are the same numbers). Not thread-safe; the captioner serialises calls.
 */
final class OrtDecoder implements DecoderSession {

    private final OnnxModels models;
    private final int heads;
    private final int headDim;
    private final int hidden;
    private final int vocab;
    private final int prefixTokens;
    private final int padToken;
    private final OnnxJavaType cacheType;
    private final KvCache cache;
    private final String[] pastNames;
    private final String[] presentNames;
    private FloatBuffer logits;
    private int logitsRows;
    /** The cache tensors over the first n rows ({@code [n]}), made once per row count and reservation. */
    private CacheTensors[] bound = new CacheTensors[0];

    /** @param cacheType the bundle's cache type, {@code float32} or {@code float16} ({@code Bundle.cacheType}) */
    OrtDecoder(OnnxModels models, Manifest.Model model, String cacheType) {
        this.models = models;
        int layers = model.numLayers();
        this.heads = model.numHeads();
        this.headDim = model.headDim();
        this.hidden = model.hiddenSize();
        this.vocab = model.vocabSize();
        this.prefixTokens = model.prefixTokens();
        this.padToken = model.padTokenId();
        this.cacheType = switch (cacheType) {
            case "float32" -> OnnxJavaType.FLOAT;
            case "float16" -> OnnxJavaType.FLOAT16;
            default -> throw new IllegalArgumentException("cache type " + cacheType + " is neither float32 nor float16");
        };
        this.cache = new KvCache(2 * layers, model.numHeads(), model.headDim(), this.cacheType.size);
        this.pastNames = new String[2 * layers];
        this.presentNames = new String[2 * layers];
        for (int i = 0; i < layers; i++) {
            pastNames[2 * i] = "past_key_values." + i + ".key";
            pastNames[2 * i + 1] = "past_key_values." + i + ".value";
            presentNames[2 * i] = "present." + i + ".key";
            presentNames[2 * i + 1] = "present." + i + ".value";
        }
    }

    /** Makes room for up to {@code rows} rows of up to {@code length} positions. */
    void reserve(int rows, int length) throws ModelException {
        try {
            if (!cache.fits(rows, length)) {
                unbind(); // the views of the buffers reserve() is about to replace
                cache.reserve(rows, length);
            }
            if (rows > logitsRows) {
                logits = ByteBuffer.allocateDirect(4 * rows * vocab).order(ByteOrder.nativeOrder()).asFloatBuffer();
                logitsRows = rows;
            }
        } catch (OutOfMemoryError e) {
            release();
            long bytes = pastNames.length * KvCache.bytesPerTensor(rows, length, heads, headDim, cacheType.size);
            throw new ModelException(String.format("the key/value cache for %d rows × %d positions needs %.2f GB of direct memory: "
                    + "lower the batch size or beams, or raise -XX:MaxDirectMemorySize (%s)", rows, length, bytes / 1e9, e.getMessage()), e);
        }
    }

    void release() {
        unbind();
        cache.release();
    }

    /** The cache ONNX Runtime writes into (tests check what a call touched). */
    KvCache cache() {
        return cache;
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    @Override
    public FloatBuffer prefill(List<PrefillItem> items) throws ModelException {
        int n = items.size();
        int longestPrompt = 0;
        for (PrefillItem item : items) {
            longestPrompt = Math.max(longestPrompt, item.promptIds().length);
            if (item.prefixEmbeds().length != prefixTokens * hidden) {
                throw new IllegalArgumentException("prefix embeddings must be " + prefixTokens + " × " + hidden);
            }
        }
        int length = prefixTokens + longestPrompt;
        FloatBuffer embeds = direct(n * length * hidden);
        LongBuffer positions = directLong(n * length);
        int[] lengths = new int[n];
        try (Embedded prompts = embed(items, longestPrompt)) {
            for (int r = 0; r < n; r++) {
                PrefillItem item = items.get(r);
                lengths[r] = prefixTokens + item.promptIds().length;
                int base = r * length * hidden;
                embeds.put(base, item.prefixEmbeds());
                if (prompts != null) {
                    int count = item.promptIds().length * hidden;
                    embeds.put(base + prefixTokens * hidden, prompts.values.slice(r * longestPrompt * hidden, count), 0, count);
                }
                for (int p = 0; p < length; p++) {
                    positions.put(r * length + p, p); // a padding position's query is never read
                }
            }
        }
        cache.start(lengths);
        try (OnnxTensor embedTensor = OnnxTensor.createTensor(models.env, embeds, new long[] {n, length, hidden})) {
            return run(n, embedTensor, positions, length, length);
        } catch (OrtException e) {
            throw new ModelException("decoder_model_merged prefill of " + n + " rows × " + length + " positions: " + e.getMessage(), e);
        }
    }

    @Override
    public void select(int[] rows) {
        boolean identity = rows.length == cache.rows();
        for (int i = 0; identity && i < rows.length; i++) {
            identity = rows[i] == i;
        }
        if (!identity) {
            cache.select(rows);
        }
    }

    @Override
    public FloatBuffer step(int[] tokens) throws ModelException {
        int n = tokens.length;
        if (n != cache.rows()) {
            throw new IllegalArgumentException(n + " tokens for " + cache.rows() + " cache rows");
        }
        LongBuffer ids = directLong(n);
        LongBuffer positions = directLong(n);
        int total = 0;
        for (int r = 0; r < n; r++) {
            ids.put(r, tokens[r]);
            positions.put(r, cache.length(r));
            total = Math.max(total, cache.length(r) + 1);
        }
        cache.grow();
        try (OnnxTensor idTensor = OnnxTensor.createTensor(models.env, ids, new long[] {n, 1});
             OrtSession.Result embedded = models.embed.run(Map.of("input_ids", idTensor))) {
            return run(n, (OnnxTensor) embedded.get(0), positions, 1, total);
        } catch (OrtException e) {
            throw new ModelException("embed_tokens/decoder_model_merged step of " + n + " rows at " + total + " positions: "
                    + e.getMessage(), e);
        }
    }

    /**
     * One decoder call of {@code added} positions per row, after which row {@code r} holds
     * {@code cache.length(r)} valid positions and the longest {@code total}.
     */
    private FloatBuffer run(int n, OnnxTensor embeds, LongBuffer positions, int added, int total) throws OrtException {
        IntBuffer seqlens = directInt(n);
        for (int r = 0; r < n; r++) {
            seqlens.put(r, cache.length(r) - 1);
        }
        CacheTensors tensors = bind(n);
        try (OnnxTensor positionTensor = OnnxTensor.createTensor(models.env, positions, new long[] {n, added});
             OnnxTensor seqlensTensor = OnnxTensor.createTensor(models.env, seqlens, new long[] {n});
             OnnxTensor totalTensor = OnnxTensor.createTensor(models.env, IntBuffer.wrap(new int[] {total}), new long[] {1});
             OnnxTensor logitsTensor = OnnxTensor.createTensor(models.env, logits.duplicate().position(0).limit(n * vocab).slice(),
                     new long[] {n, 1, vocab})) {
            Map<String, OnnxTensor> inputs = new HashMap<>(tensors.past);
            inputs.put("inputs_embeds", embeds);
            inputs.put("position_ids", positionTensor);
            inputs.put("seqlens_k", seqlensTensor);
            inputs.put("total_sequence_length", totalTensor);
            Map<String, OnnxValue> outputs = new HashMap<>(tensors.present);
            outputs.put("logits", logitsTensor);
            models.decoder.run(inputs, outputs).close();
            return logits.duplicate().position(0).limit(n * vocab).slice();
        }
    }

    /** Past and present tensors of the first {@code n} rows: two ORT views of the same buffers. */
    private record CacheTensors(Map<String, OnnxTensor> past, Map<String, OnnxValue> present) {
        void close() {
            past.values().forEach(OnnxTensor::close);
            present.values().forEach(OnnxValue::close);
        }
    }

    private CacheTensors bind(int n) throws OrtException {
        if (bound.length <= n) {
            bound = Arrays.copyOf(bound, n + 1);
        }
        if (bound[n] == null) {
            Map<String, OnnxTensor> past = new HashMap<>();
            Map<String, OnnxValue> present = new HashMap<>();
            long[] shape = {n, heads, cache.capacity(), headDim};
            for (int t = 0; t < pastNames.length; t++) {
                past.put(pastNames[t], OnnxTensor.createTensor(models.env, cache.view(t, n), shape, cacheType));
                present.put(presentNames[t], OnnxTensor.createTensor(models.env, cache.view(t, n), shape, cacheType));
            }
            bound[n] = new CacheTensors(past, present);
        }
        return bound[n];
    }

    private void unbind() {
        for (CacheTensors t : bound) {
            if (t != null) {
                t.close();
            }
        }
        bound = new CacheTensors[0];
    }

    /** The prompts' embeddings, right-padded to the longest prompt; null when every prompt is empty. */
    private Embedded embed(List<PrefillItem> items, int longest) throws ModelException {
        if (longest == 0) {
            return null;
        }
        int n = items.size();
        LongBuffer ids = directLong(n * longest);
        for (int r = 0; r < n; r++) {
            int[] prompt = items.get(r).promptIds();
            for (int p = 0; p < longest; p++) {
                ids.put(r * longest + p, p < prompt.length ? prompt[p] : padToken);
            }
        }
        try (OnnxTensor idTensor = OnnxTensor.createTensor(models.env, ids, new long[] {n, longest})) {
            OrtSession.Result result = models.embed.run(Map.of("input_ids", idTensor));
            return new Embedded(result, ((OnnxTensor) result.get(0)).getFloatBuffer());
        } catch (OrtException e) {
            throw new ModelException("embed_tokens failed on the prompts: " + e.getMessage(), e);
        }
    }

    private record Embedded(OrtSession.Result result, FloatBuffer values) implements AutoCloseable {
        @Override
        public void close() {
            result.close();
        }
    }

    private static FloatBuffer direct(int floats) {
        return ByteBuffer.allocateDirect(4 * floats).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    private static IntBuffer directInt(int ints) {
        return ByteBuffer.allocateDirect(4 * ints).order(ByteOrder.nativeOrder()).asIntBuffer();
    }

    private static LongBuffer directLong(int longs) {
        return ByteBuffer.allocateDirect(8 * longs).order(ByteOrder.nativeOrder()).asLongBuffer();
    }
}
