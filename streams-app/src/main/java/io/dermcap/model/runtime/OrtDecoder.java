package io.dermcap.model.runtime;

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
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Drives {@code embed_tokens} and {@code decoder_model_merged} as a {@link DecoderSession}: the
 * key/value cache and the logits live in buffers of ours that ONNX Runtime writes into (pinned
 * outputs) and reads from, so nothing of the cache crosses into Java arrays. Left padding is
 * handled with the attention mask and Hugging Face's positions ({@code cumsum(mask) - 1}, 1 on
 * padding). Not thread-safe; the captioner serialises calls.
 */
final class OrtDecoder implements DecoderSession {

    private final OnnxModels models;
    private final int layers;
    private final int hidden;
    private final int vocab;
    private final int prefixTokens;
    private final int padToken;
    private final KvCache cache;
    private final String[] pastNames;
    private final String[] presentNames;
    private FloatBuffer logits;
    private int logitsRows;

    /** Per row: left padding, and the position of its next token. */
    private int[] padding = new int[0];
    private int[] nextPosition = new int[0];

    OrtDecoder(OnnxModels models, Manifest.Model model) {
        this.models = models;
        this.layers = model.numLayers();
        this.hidden = model.hiddenSize();
        this.vocab = model.vocabSize();
        this.prefixTokens = model.prefixTokens();
        this.padToken = model.padTokenId();
        this.cache = new KvCache(2 * layers, model.numHeads(), model.headDim());
        this.pastNames = new String[2 * layers];
        this.presentNames = new String[2 * layers];
        for (int i = 0; i < layers; i++) {
            pastNames[2 * i] = "past_key_values." + i + ".key";
            pastNames[2 * i + 1] = "past_key_values." + i + ".value";
            presentNames[2 * i] = "present." + i + ".key";
            presentNames[2 * i + 1] = "present." + i + ".value";
        }
        this.heads = model.numHeads();
        this.headDim = model.headDim();
    }

    private final int heads;
    private final int headDim;

    /** Makes room for up to {@code rows} rows of up to {@code length} positions. */
    void reserve(int rows, int length) throws ModelException {
        try {
            cache.reserve(rows, length);
            if (rows > logitsRows) {
                logits = ByteBuffer.allocateDirect(4 * rows * vocab).order(ByteOrder.nativeOrder()).asFloatBuffer();
                logitsRows = rows;
            }
        } catch (OutOfMemoryError e) {
            cache.release();
            long bytes = 2L * 2 * layers * rows * length * hidden * 4;
            throw new ModelException(String.format("the key/value cache for %d rows × %d positions needs %.2f GB of direct memory: "
                    + "lower the batch size or beams, or raise -XX:MaxDirectMemorySize (%s)", rows, length, bytes / 1e9, e.getMessage()), e);
        }
    }

    void release() {
        cache.release();
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
        LongBuffer mask = directLong(n * length);
        LongBuffer positions = directLong(n * length);
        padding = new int[n];
        nextPosition = new int[n];
        try (Embedded prompts = embed(items, longestPrompt)) {
            for (int r = 0; r < n; r++) {
                PrefillItem item = items.get(r);
                int pad = longestPrompt - item.promptIds().length;
                padding[r] = pad;
                nextPosition[r] = length - pad;
                int base = r * length * hidden;
                embeds.put(base + pad * hidden, item.prefixEmbeds());
                if (prompts != null) {
                    // the prompt embeddings are left-padded to the longest prompt too: copy the real ones
                    FloatBuffer src = prompts.values;
                    int from = (r * longestPrompt + pad) * hidden;
                    int count = item.promptIds().length * hidden;
                    embeds.put(base + (pad + prefixTokens) * hidden, src.slice(from, count), 0, count);
                }
                for (int p = 0; p < length; p++) {
                    mask.put(r * length + p, p < pad ? 0 : 1);
                    positions.put(r * length + p, p < pad ? 1 : p - pad);
                }
            }
        }
        cache.advance(n, 0);
        return run(n, length, embeds, mask, positions, new long[] {n, length, hidden}, length);
    }

    @Override
    public void select(int[] rows) {
        boolean identity = rows.length == cache.rows();
        for (int i = 0; identity && i < rows.length; i++) {
            identity = rows[i] == i;
        }
        if (identity) {
            return;
        }
        cache.select(rows);
        int[] pad = new int[rows.length];
        int[] next = new int[rows.length];
        for (int i = 0; i < rows.length; i++) {
            pad[i] = padding[rows[i]];
            next[i] = nextPosition[rows[i]];
        }
        padding = pad;
        nextPosition = next;
    }

    @Override
    public FloatBuffer step(int[] tokens) throws ModelException {
        int n = tokens.length;
        if (n != cache.rows()) {
            throw new IllegalArgumentException(n + " tokens for " + cache.rows() + " cache rows");
        }
        int total = cache.length() + 1;
        LongBuffer ids = directLong(n);
        LongBuffer mask = directLong(n * total);
        LongBuffer positions = directLong(n);
        for (int r = 0; r < n; r++) {
            ids.put(r, tokens[r]);
            positions.put(r, nextPosition[r]++);
            for (int p = 0; p < total; p++) {
                mask.put(r * total + p, p < padding[r] ? 0 : 1);
            }
        }
        try (OnnxTensor idTensor = OnnxTensor.createTensor(models.env, ids, new long[] {n, 1});
             OrtSession.Result embedded = models.embed.run(Map.of("input_ids", idTensor))) {
            OnnxTensor embeds = (OnnxTensor) embedded.get(0);
            return run(n, total, embeds, mask, positions, null, 1);
        } catch (OrtException e) {
            throw new ModelException("embed_tokens failed on " + n + " rows: " + e.getMessage(), e);
        }
    }

    /** One decoder call; {@code embeds} is a buffer (with its shape) or an ORT tensor. */
    private FloatBuffer run(int n, int total, Object embeds, LongBuffer mask, LongBuffer positions, long[] embedShape, int added)
            throws ModelException {
        int past = cache.length();
        List<OnnxTensor> owned = new ArrayList<>();
        try {
            Map<String, OnnxTensor> inputs = new HashMap<>();
            inputs.put("inputs_embeds", embeds instanceof OnnxTensor t ? t : own(owned, OnnxTensor.createTensor(models.env, (FloatBuffer) embeds, embedShape)));
            inputs.put("attention_mask", own(owned, OnnxTensor.createTensor(models.env, mask, new long[] {n, total})));
            inputs.put("position_ids", own(owned, OnnxTensor.createTensor(models.env, positions, new long[] {n, added})));
            Map<String, OnnxValue> outputs = new HashMap<>();
            for (int t = 0; t < pastNames.length; t++) {
                inputs.put(pastNames[t], own(owned, OnnxTensor.createTensor(models.env, cache.past(t), new long[] {n, heads, past, headDim})));
                outputs.put(presentNames[t], own(owned, OnnxTensor.createTensor(models.env, cache.present(t, n, total), new long[] {n, heads, total, headDim})));
            }
            FloatBuffer out = logits.duplicate().position(0).limit(n * vocab).slice();
            outputs.put("logits", own(owned, OnnxTensor.createTensor(models.env, out, new long[] {n, 1, vocab})));
            models.decoder.run(inputs, outputs).close();
            cache.advance(n, total);
            return out;
        } catch (OrtException e) {
            throw new ModelException("decoder_model_merged failed on " + n + " rows × " + total + " positions: " + e.getMessage(), e);
        } finally {
            owned.forEach(OnnxTensor::close);
        }
    }

    /** The prompts' embeddings, left-padded to the longest prompt; null when every prompt is empty. */
    private Embedded embed(List<PrefillItem> items, int longest) throws ModelException {
        if (longest == 0) {
            return null;
        }
        int n = items.size();
        LongBuffer ids = directLong(n * longest);
        for (int r = 0; r < n; r++) {
            int[] prompt = items.get(r).promptIds();
            int pad = longest - prompt.length;
            for (int p = 0; p < longest; p++) {
                ids.put(r * longest + p, p < pad ? padToken : prompt[p - pad]);
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

    private static OnnxTensor own(List<OnnxTensor> owned, OnnxTensor t) {
        owned.add(t);
        return t;
    }

    private static FloatBuffer direct(int floats) {
        return ByteBuffer.allocateDirect(4 * floats).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    private static LongBuffer directLong(int longs) {
        return ByteBuffer.allocateDirect(8 * longs).order(ByteOrder.nativeOrder()).asLongBuffer();
    }
}
