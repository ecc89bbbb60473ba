package io.dermcap.model.bundle;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import io.dermcap.Sha256;
import io.dermcap.model.bundle.BundleException.Reason;
import io.dermcap.model.bundle.Manifest.Graph;
import io.dermcap.model.bundle.Manifest.TensorSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A model bundle folder whose manifest was read and checked and whose every graph file (and
 * external data file) has the size and sha256 the manifest lists, and whose manifest declares the
 * graph signatures the engine drives (BUNDLE.md). Nothing is loaded into a runtime here.
 */
public final class Bundle {

    public static final String VISION_ENCODER = "vision_encoder";
    public static final String EMBED_TOKENS = "embed_tokens";
    public static final String DECODER = "decoder_model_merged";
    public static final List<String> GRAPHS = List.of(VISION_ENCODER, EMBED_TOKENS, DECODER);

    private final Path dir;
    private final Manifest manifest;
    private final String manifestSha256;

    private Bundle(Path dir, Manifest manifest, String manifestSha256) {
        this.dir = dir;
        this.manifest = manifest;
        this.manifestSha256 = manifestSha256;
    }

    public Path dir() {
        return dir;
    }

    public Manifest manifest() {
        return manifest;
    }

    /** Lower-case hex sha256 of the manifest.json bytes the manifest was parsed from: the bundle's identity. */
    public String manifestSha256() {
        return manifestSha256;
    }

    public Path file(String graph) {
        return dir.resolve(manifest.graphs().get(graph).file());
    }

    /** Reads and verifies the bundle in {@code dir}; hashes the files in parallel. */
    public static Bundle load(Path dir) throws BundleException {
        Path file = dir.resolve("manifest.json");
        byte[] bytes = readBytes(file);
        Manifest manifest = parseManifest(file, bytes);
        checkManifest(manifest);
        verifyFiles(dir, manifest);
        return new Bundle(dir, manifest, Sha256.of(bytes));
    }

    static Manifest readManifest(Path dir) throws BundleException {
        Path file = dir.resolve("manifest.json");
        return parseManifest(file, readBytes(file));
    }

    private static byte[] readBytes(Path file) throws BundleException {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new BundleException(Reason.FILE_MISSING, file + ": no manifest.json in the bundle folder", e);
        } catch (IOException e) {
            throw new BundleException(Reason.MANIFEST_INVALID, file + ": " + e.getMessage(), e);
        }
    }

    private static Manifest parseManifest(Path file, byte[] bytes) throws BundleException {
        ObjectMapper json = new ObjectMapper()
                .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES);
        try {
            return json.readValue(bytes, Manifest.class);
        } catch (IOException e) {
            String detail = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
            throw new BundleException(Reason.MANIFEST_INVALID, file + ": " + detail, e);
        }
    }

    /** A default profile that exists; every profile complete; banned ids inside the vocabulary. */
    private static List<String> profileProblems(Manifest.Generation g, int vocabSize) {
        List<String> problems = new ArrayList<>();
        if (g.profiles() == null || g.profiles().isEmpty()) {
            return List.of("generation.profiles is missing or empty");
        }
        if (!g.profiles().containsKey(g.defaultProfile())) {
            problems.add("generation.default_profile " + g.defaultProfile() + " is not one of the profiles "
                    + g.profiles().keySet());
        }
        g.profiles().forEach((name, p) -> {
            if (p.badWords() == null || p.badWords().tokenIds() == null || p.text() == null) {
                problems.add("generation.profiles." + name + " needs bad_words.token_ids and text");
            } else if (p.badWords().tokenIds().stream().anyMatch(seq -> seq.isEmpty()
                    || seq.stream().anyMatch(id -> id == null || id < 0 || id >= vocabSize))) {
                problems.add("generation.profiles." + name + ".bad_words.token_ids holds an empty sequence or an id "
                        + "outside the vocabulary (0.." + (vocabSize - 1) + ")");
            }
        });
        return problems;
    }

    private static void checkManifest(Manifest m) throws BundleException {
        List<String> problems = new ArrayList<>();
        if (!Manifest.FORMAT.equals(m.format())) {
            problems.add("format is " + m.format() + ", expected " + Manifest.FORMAT);
        }
        if (m.name() == null || m.version() == null) {
            problems.add("name and version are required");
        }
        if (m.model() == null || m.preprocessing() == null || m.generation() == null || m.graphs() == null) {
            problems.add("model, preprocessing, generation and graphs are required");
        } else {
            Manifest.Model model = m.model();
            if (model.numHeads() * model.headDim() != model.hiddenSize()) {
                problems.add("num_heads × head_dim = " + model.numHeads() * model.headDim() + " but hidden_size is " + model.hiddenSize());
            }
            if (model.vocabSize() != 50257 || model.eosTokenId() != 50256) {
                problems.add("the engine tokenises with GPT-2's BPE (vocab 50257, EOS 50256), the model has vocab "
                        + model.vocabSize() + " and EOS " + model.eosTokenId());
            }
            Manifest.Preprocessing p = m.preprocessing();
            if (!"shortest".equals(p.resize()) || !"bicubic".equals(p.interpolation()) || !"center".equals(p.crop())) {
                problems.add("preprocessing " + p.resize() + "/" + p.interpolation() + "/" + p.crop()
                        + " is not supported (shortest/bicubic/center)");
            }
            if (p.mean() == null || p.std() == null || p.mean().length != 3 || p.std().length != 3) {
                problems.add("preprocessing needs 3 mean and 3 std values");
            }
            if (m.generation().eosTokenId() != model.eosTokenId()) {
                problems.add("generation.eos_token_id " + m.generation().eosTokenId() + " differs from model.eos_token_id " + model.eosTokenId());
            }
            problems.addAll(profileProblems(m.generation(), model.vocabSize()));
            for (String g : GRAPHS) {
                Graph graph = m.graphs().get(g);
                if (graph == null) {
                    problems.add("graphs." + g + " is missing");
                } else if (graph.file() == null || graph.sha256() == null || graph.inputs() == null || graph.outputs() == null) {
                    problems.add("graphs." + g + " needs file, sha256, inputs and outputs");
                } else {
                    problems.addAll(signatureProblems(g, graph, expectedSignature(g, m)));
                }
            }
        }
        if (!problems.isEmpty()) {
            boolean signature = problems.stream().allMatch(s -> s.contains(" declares "));
            throw new BundleException(signature ? Reason.SIGNATURE_MISMATCH : Reason.MANIFEST_INVALID,
                    "manifest.json: " + String.join("; ", problems));
        }
    }

    /** Inputs and outputs the engine drives, by graph, from BUNDLE.md and the manifest's model sizes. */
    public static Signature expectedSignature(String graph, Manifest m) {
        Manifest.Model model = m.model();
        int d = model.hiddenSize();
        Map<String, TensorSpec> in = new LinkedHashMap<>();
        Map<String, TensorSpec> out = new LinkedHashMap<>();
        switch (graph) {
            case VISION_ENCODER -> {
                int s = m.preprocessing().imageSize();
                put(in, "pixel_values", "float32", "batch", 3, s, s);
                put(out, "prefix_embeds", "float32", "batch", model.prefixTokens(), d);
            }
            case EMBED_TOKENS -> {
                put(in, "input_ids", "int64", "batch", "sequence");
                put(out, "inputs_embeds", "float32", "batch", "sequence", d);
            }
            case DECODER -> {
                String cache = cacheType(m);
                put(in, "inputs_embeds", "float32", "batch", "sequence", d);
                put(in, "position_ids", "int64", "batch", "sequence");
                put(in, "seqlens_k", "int32", "batch");
                put(in, "total_sequence_length", "int32", 1);
                put(out, "logits", "float32", "batch", 1, model.vocabSize());
                for (int i = 0; i < model.numLayers(); i++) {
                    for (String kv : new String[] {"key", "value"}) {
                        // past and present are one buffer: the attention writes new positions in place
                        put(in, "past_key_values." + i + "." + kv, cache, "batch", model.numHeads(), "max_sequence", model.headDim());
                        put(out, "present." + i + "." + kv, cache, "batch", model.numHeads(), "max_sequence", model.headDim());
                    }
                }
            }
            default -> throw new IllegalArgumentException("unknown graph " + graph);
        }
        return new Signature(in, out);
    }

    /**
     * The decoder cache's element type: {@code float16} when the manifest declares its first past
     * input so (an export with {@code --kv-cache float16}), else {@code float32}. Every cache input
     * and output must then have that type.
     */
    public static String cacheType(Manifest m) {
        Graph decoder = m.graphs() == null ? null : m.graphs().get(DECODER);
        boolean half = decoder != null && decoder.inputs() != null && decoder.inputs().stream()
                .anyMatch(t -> "past_key_values.0.key".equals(t.name()) && "float16".equals(t.type()));
        return half ? "float16" : "float32";
    }

    /** A graph's inputs and outputs by name. */
    public record Signature(Map<String, TensorSpec> inputs, Map<String, TensorSpec> outputs) {
        public static Signature of(Graph g) {
            Map<String, TensorSpec> in = new LinkedHashMap<>();
            Map<String, TensorSpec> out = new LinkedHashMap<>();
            g.inputs().forEach(t -> in.put(t.name(), t));
            g.outputs().forEach(t -> out.put(t.name(), t));
            return new Signature(in, out);
        }
    }

    /**
     * How {@code actual} (what a manifest declares, or what the runtime reports) differs from
     * {@code expected}, one line per difference, each "{graph} declares ...".
     */
    public static List<String> signatureProblems(String graph, Graph declared, Signature expected) {
        return signatureProblems(graph, Signature.of(declared), expected, "declares");
    }

    public static List<String> signatureProblems(String graph, Signature actual, Signature expected, String verb) {
        List<String> problems = new ArrayList<>();
        compare(graph, "input", actual.inputs(), expected.inputs(), verb, problems);
        compare(graph, "output", actual.outputs(), expected.outputs(), verb, problems);
        return problems;
    }

    private static void compare(String graph, String kind, Map<String, TensorSpec> actual, Map<String, TensorSpec> expected,
                                String verb, List<String> problems) {
        for (TensorSpec e : expected.values()) {
            TensorSpec a = actual.get(e.name());
            if (a == null) {
                problems.add(graph + " " + verb + " no " + kind + " " + e.name());
            } else if (!e.type().equals(a.type()) || !sameShape(e.shape(), a.shape())) {
                problems.add(graph + " " + verb + " " + kind + " " + e.name() + " as " + a.type() + " " + a.shape()
                        + ", expected " + e.type() + " " + e.shape());
            }
        }
        for (String name : actual.keySet()) {
            if (!expected.containsKey(name)) {
                problems.add(graph + " " + verb + " an unexpected " + kind + " " + name);
            }
        }
    }

    private static boolean sameShape(List<Object> a, List<Object> b) {
        if (a == null || b == null || a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!String.valueOf(a.get(i)).equals(String.valueOf(b.get(i)))) {
                return false;
            }
        }
        return true;
    }

    private static void put(Map<String, TensorSpec> map, String name, String type, Object... shape) {
        map.put(name, new TensorSpec(name, type, List.of(shape)));
    }

    private static void verifyFiles(Path dir, Manifest m) throws BundleException {
        record Expected(String file, String sha256, long bytes) {
        }
        List<Expected> files = new ArrayList<>();
        for (String g : GRAPHS) {
            Graph graph = m.graphs().get(g);
            files.add(new Expected(graph.file(), graph.sha256(), graph.bytes()));
            if (graph.externalData() != null) {
                graph.externalData().forEach(x -> files.add(new Expected(x.file(), x.sha256(), x.bytes())));
            }
        }
        for (Expected f : files) {
            Path p = dir.resolve(f.file()).normalize();
            if (!p.startsWith(dir.normalize())) {
                throw new BundleException(Reason.MANIFEST_INVALID, "manifest.json: " + f.file() + " points outside the bundle folder");
            }
            if (!Files.isRegularFile(p)) {
                throw new BundleException(Reason.FILE_MISSING, f.file() + ": listed in manifest.json but missing from " + dir);
            }
            try {
                long size = Files.size(p);
                if (size != f.bytes()) {
                    throw new BundleException(Reason.HASH_MISMATCH, f.file() + ": " + size + " bytes, manifest.json says " + f.bytes());
                }
            } catch (IOException e) {
                throw new BundleException(Reason.FILE_MISSING, f.file() + ": cannot read: " + e.getMessage(), e);
            }
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(files.size(), Runtime.getRuntime().availableProcessors()));
        try {
            List<Future<String>> hashes = new ArrayList<>();
            for (Expected f : files) {
                hashes.add(pool.submit(() -> Sha256.of(dir.resolve(f.file()))));
            }
            for (int i = 0; i < files.size(); i++) {
                String actual = hashes.get(i).get();
                if (!actual.equalsIgnoreCase(files.get(i).sha256())) {
                    throw new BundleException(Reason.HASH_MISMATCH, files.get(i).file() + ": sha256 is " + actual
                            + ", manifest.json says " + files.get(i).sha256());
                }
            }
        } catch (ExecutionException e) {
            throw new BundleException(Reason.FILE_MISSING, "cannot read a bundle file: " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BundleException(Reason.FILE_MISSING, "interrupted while hashing the bundle", e);
        } finally {
            pool.shutdownNow();
        }
    }
}
