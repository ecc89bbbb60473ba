package io.dermcap.cli;

import io.dermcap.config.Config;
import io.dermcap.config.ConfigException;
import io.dermcap.config.DermcapConfig;
import io.dermcap.model.bundle.BundleException;
import io.dermcap.service.CaptionService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code dermcap run --config FILE}: the service. */
@Command(name = "run", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Consume image-reference events, caption the images in micro-batches and",
                "publish caption and failure events. Runs until SIGTERM or SIGINT.",
                "Every setting: README.md, Configuration."})
final class RunCommand implements Callable<Integer> {

    @Option(names = "--config", paramLabel = "FILE",
            description = "Properties file (DERMCAP_* environment variables override it; default: $DERMCAP_CONFIG, or none)")
    Path config;

    @Override
    public Integer call() throws Exception {
        DermcapConfig cfg;
        try {
            cfg = Config.load(config, System.getenv());
        } catch (ConfigException e) {
            System.err.println("dermcap: invalid configuration: " + e.getMessage());
            return 2;
        }
        CaptionService service;
        try {
            service = CaptionService.start(cfg);
        } catch (BundleException e) {
            System.err.println("dermcap: cannot load the bundle: " + e.getMessage());
            return 3;
        } catch (IllegalStateException e) {
            System.err.println("dermcap: cannot start: " + e.getMessage());
            return 4;
        }
        Thread hook = new Thread(service::close, "dermcap-sigterm");
        Runtime.getRuntime().addShutdownHook(hook);
        return service.awaitStop();
    }
}
