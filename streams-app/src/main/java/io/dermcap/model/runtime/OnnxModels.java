package io.dermcap.model.runtime;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import ai.onnxruntime.TensorInfo;
import io.dermcap.model.EngineOptions;
import io.dermcap.model.bundle.Bundle;
import io.dermcap.model.bundle.BundleException;
import io.dermcap.model.bundle.BundleException.Reason;
import io.dermcap.model.bundle.Manifest.TensorSpec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * The three ONNX Runtime sessions of a verified bundle, created once with the engine options,
 * each checked against the signature its manifest declares before it is used.
 */
final class OnnxModels implements AutoCloseable {

    final OrtEnvironment env;
    final OrtSession vision;
    final OrtSession embed;
    final OrtSession decoder;
    final String executionProvider;
    /**
     * Options for the encoder's runs: its activations (a batch of ViT-B/16 images) are the CPU
     * arena's largest, and the key/value cache is allocated right after, so the arena gives back
     * its free memory at the end of each run (peak RSS at batch 8 of the full-size bundle
     * 3.65–3.68 instead of 3.69–3.73 GB, docs/benchmarks.md).
     */
    final OrtSession.RunOptions visionRun;

    private OnnxModels(OrtEnvironment env, OrtSession vision, OrtSession embed, OrtSession decoder, String executionProvider,
                       OrtSession.RunOptions visionRun) {
        this.env = env;
        this.vision = vision;
        this.embed = embed;
        this.decoder = decoder;
        this.executionProvider = executionProvider;
        this.visionRun = visionRun;
    }

    /**
     * Creates the sessions, the decoder (the largest graph) on a second thread while this one
     * creates the other two, and checks each against its manifest signature.
     */
    static OnnxModels open(Bundle bundle, EngineOptions options, Path decoderProfile) throws BundleException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        FutureTask<OrtSession> decoderTask = new FutureTask<>(() -> session(env, bundle, Bundle.DECODER, options, decoderProfile));
        new Thread(null, decoderTask, "dermcap-load-decoder", EngineThread.STACK_BYTES).start();
        List<OrtSession> opened = new ArrayList<>();
        try {
            opened.add(session(env, bundle, Bundle.VISION_ENCODER, options, null));
            opened.add(session(env, bundle, Bundle.EMBED_TOKENS, options, null));
            opened.add(await(decoderTask));
            String provider = options.executionProvider() == EngineOptions.ExecutionProvider.CUDA
                    ? "CUDA:" + options.cudaDeviceId() : "CPU";
            return new OnnxModels(env, opened.get(0), opened.get(1), opened.get(2), provider, shrinkingRun());
        } catch (BundleException | RuntimeException | Error e) {
            closeAll(opened);
            if (opened.size() < 3) {
                try {
                    closeAll(List.of(await(decoderTask)));
                } catch (BundleException | RuntimeException ignored) {
                    // the first failure is the one reported
                }
            }
            throw e;
        }
    }

    /** @param profile where ONNX Runtime writes this session's per-node profile (a file name prefix), or null */
    private static OrtSession session(OrtEnvironment env, Bundle bundle, String graph, EngineOptions options, Path profile)
            throws BundleException {
        OrtSession session = null;
        try (SessionOptions so = sessionOptions(options)) {
            if (profile != null) {
                so.enableProfiling(profile.toString());
            }
            session = env.createSession(bundle.file(graph).toString(), so);
            List<String> problems = Bundle.signatureProblems(graph, reported(session),
                    Bundle.Signature.of(bundle.manifest().graphs().get(graph)), "has");
            if (!problems.isEmpty()) {
                throw new BundleException(Reason.SIGNATURE_MISMATCH, bundle.manifest().graphs().get(graph).file()
                        + " differs from manifest.json: " + String.join("; ", problems));
            }
            return session;
        } catch (OrtException e) {
            closeAll(session == null ? List.of() : List.of(session));
            throw new BundleException(Reason.RUNTIME_UNAVAILABLE, "ONNX Runtime cannot load "
                    + bundle.manifest().graphs().get(graph).file() + ": " + e.getMessage(), e);
        } catch (BundleException | RuntimeException e) {
            closeAll(session == null ? List.of() : List.of(session));
            throw e;
        }
    }

    private static OrtSession await(FutureTask<OrtSession> task) throws BundleException {
        try {
            return task.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BundleException(Reason.RUNTIME_UNAVAILABLE, "interrupted while loading the decoder", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof BundleException b) {
                throw b;
            }
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new BundleException(Reason.RUNTIME_UNAVAILABLE, "loading the decoder failed: " + e.getCause(), e.getCause());
        }
    }

    private static SessionOptions sessionOptions(EngineOptions options) throws BundleException, OrtException {
        SessionOptions so = new SessionOptions();
        try {
            so.setIntraOpNumThreads(options.threads());
            so.setInterOpNumThreads(1);
            so.setExecutionMode(SessionOptions.ExecutionMode.SEQUENTIAL);
            // ORT's workers otherwise spin between operators, taking the cores from the beam search,
            // the cache moves and the fetch/decode threads that run between decoder calls: without
            // spinning the full-size bundle captioned 11 % faster on 2 cores, offline and streaming.
            so.addConfigEntry("session.intra_op.allow_spinning", "0");
            if (!options.prepackWeights()) {
                so.addConfigEntry("session.disable_prepacking", "1");
            }
            so.setOptimizationLevel(switch (options.optimizationLevel()) {
                case NONE -> OptLevel.NO_OPT;
                case BASIC -> OptLevel.BASIC_OPT;
                case EXTENDED -> OptLevel.EXTENDED_OPT;
                case ALL -> OptLevel.ALL_OPT;
            });
            if (options.executionProvider() == EngineOptions.ExecutionProvider.CUDA) {
                if (!OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
                    throw new BundleException(Reason.RUNTIME_UNAVAILABLE, "the CUDA execution provider was requested, but this "
                            + "ONNX Runtime has none (available: " + OrtEnvironment.getAvailableProviders()
                            + "); build with the Maven profile -Pcuda (onnxruntime_gpu) and run on a host with CUDA 12 and cuDNN 9");
                }
                try {
                    so.addCUDA(options.cudaDeviceId());
                } catch (OrtException e) {
                    throw new BundleException(Reason.RUNTIME_UNAVAILABLE, "CUDA device " + options.cudaDeviceId()
                            + " cannot be used: " + e.getMessage(), e);
                }
            }
            return so;
        } catch (BundleException | OrtException | RuntimeException e) {
            so.close();
            throw e;
        }
    }

    /** Stops the decoder's profiling (if {@code open} enabled it) and returns the profile file. */
    Path endDecoderProfile() throws OrtException {
        return Path.of(decoder.endProfiling());
    }

    /** What the runtime reports for a session, in the manifest's terms. */
    static Bundle.Signature reported(OrtSession session) throws OrtException {
        return new Bundle.Signature(specs(session.getInputInfo()), specs(session.getOutputInfo()));
    }

    private static Map<String, TensorSpec> specs(Map<String, NodeInfo> infos) {
        Map<String, TensorSpec> out = new LinkedHashMap<>();
        for (NodeInfo node : infos.values()) {
            if (!(node.getInfo() instanceof TensorInfo t)) {
                out.put(node.getName(), new TensorSpec(node.getName(), "non-tensor", List.of()));
                continue;
            }
            long[] shape = t.getShape();
            String[] names = t.getDimensionNames();
            List<Object> dims = new ArrayList<>();
            for (int i = 0; i < shape.length; i++) {
                dims.add(names[i] != null && !names[i].isEmpty() ? names[i] : (Object) shape[i]);
            }
            out.put(node.getName(), new TensorSpec(node.getName(), typeName(t), dims));
        }
        return out;
    }

    private static String typeName(TensorInfo t) {
        return switch (t.type) {
            case FLOAT -> "float32";
            case INT64 -> "int64";
            case INT32 -> "int32";
            case DOUBLE -> "float64";
            case FLOAT16 -> "float16";
            default -> t.type.name().toLowerCase();
        };
    }

    private static OrtSession.RunOptions shrinkingRun() throws BundleException {
        OrtSession.RunOptions run = null;
        try {
            run = new OrtSession.RunOptions();
            run.addRunConfigEntry("memory.enable_memory_arena_shrinkage", "cpu:0");
            return run;
        } catch (OrtException e) {
            if (run != null) {
                run.close();
            }
            throw new BundleException(Reason.RUNTIME_UNAVAILABLE, "ONNX Runtime refused the encoder's run options: " + e.getMessage(), e);
        }
    }

    private static void closeAll(List<OrtSession> sessions) {
        for (OrtSession s : sessions) {
            try {
                s.close();
            } catch (OrtException ignored) {
                // already failing; the first error is the one reported
            }
        }
    }

    @Override
    public void close() {
        visionRun.close();
        closeAll(List.of(vision, embed, decoder));
    }
}
