package io.dermcap.cli;

import io.dermcap.config.Config;
import io.dermcap.config.ConfigKeys;
import io.dermcap.config.Key;
import io.dermcap.config.OfflineConfig;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Options shared by the commands that load a bundle. Each names a key of {@code dermcap run}'s
 * configuration (README.md, Configuration), read by the same loader: the defaults, the checks and
 * the storage allow-lists are the service's.
 */
final class EngineArgs {

    @Option(names = "--bundle", paramLabel = "DIR", description = "bundle folder, manifest.json and graphs (bundle.dir)")
    Path bundle;

    @Option(names = "--config", paramLabel = "FILE",
            description = "properties file with the keys of `dermcap run` (bundle.dir, engine.*, image.*, storage.*; others are "
                    + "ignored); DERMCAP_* variables override it, the options here override both")
    Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "one such setting, e.g. --set storage.s3.buckets=scans --set storage.s3.endpoint=http://127.0.0.1:9000")
    Map<String, String> settings = new LinkedHashMap<>();

    @Option(names = "--threads", paramLabel = "N", description = "ONNX Runtime intra-op threads, 0 = all processors (engine.threads)")
    Integer threads;

    @Option(names = "--optimization", paramLabel = "LEVEL", description = "graph optimisation: NONE, BASIC, EXTENDED, ALL (engine.optimization)")
    String optimization;

    @Option(names = "--provider", paramLabel = "NAME", description = "CPU or CUDA; CUDA needs a -Pcuda build (engine.execution.provider)")
    String provider;

    @Option(names = "--cuda-device", paramLabel = "ID", description = "GPU id for CUDA (engine.cuda.device)")
    Integer cudaDevice;

    @Option(names = "--no-prepack", description = "do not keep weights prepacked for GEMM: less memory, some speed (engine.prepack.weights=false)")
    boolean noPrepack;

    @Option(names = "--max-pixels", paramLabel = "N", description = "refuse images with more pixels, from the header (image.max.pixels)")
    Long maxPixels;

    @Option(names = "--max-bytes", paramLabel = "N", description = "refuse images larger than this (storage.max.bytes)")
    Long maxBytes;

    /** The configuration: file, then environment, then {@code --set}, then the options above. */
    OfflineConfig load() {
        Map<String, String> s = new LinkedHashMap<>(settings);
        put(s, ConfigKeys.BUNDLE_DIR, bundle);
        put(s, ConfigKeys.ENGINE_THREADS, threads);
        put(s, ConfigKeys.ENGINE_OPTIMIZATION, optimization == null ? null : optimization.toUpperCase(Locale.ROOT));
        put(s, ConfigKeys.ENGINE_PROVIDER, provider == null ? null : provider.toUpperCase(Locale.ROOT));
        put(s, ConfigKeys.ENGINE_CUDA_DEVICE, cudaDevice);
        put(s, ConfigKeys.ENGINE_PREPACK, noPrepack ? false : null);
        put(s, ConfigKeys.IMAGE_MAX_PIXELS, maxPixels);
        put(s, ConfigKeys.STORAGE_MAX_BYTES, maxBytes);
        return Config.offline(config, s);
    }

    private static void put(Map<String, String> settings, Key<?> key, Object value) {
        if (value != null) {
            settings.put(key.name(), value.toString());
        }
    }
}
