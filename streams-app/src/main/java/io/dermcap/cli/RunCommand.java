package io.dermcap.cli;

import io.dermcap.config.Config;
import io.dermcap.config.ConfigException;
import io.dermcap.config.DermcapConfig;
import io.dermcap.model.bundle.Bundle;
import io.dermcap.model.bundle.BundleException;
import io.dermcap.registry.AvroSerdeConfig;
import io.dermcap.registry.RegistryException;
import io.dermcap.registry.RequestSubjectCheck;
import io.dermcap.registry.SchemaRegistryClient;
import io.dermcap.service.CaptionService;
import io.dermcap.service.StartupChecks;
import io.dermcap.topology.StateDirCheck;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code dermcap run --config FILE}: the service. */
@Command(name = "run", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Run the captioning service on Kafka until SIGTERM or SIGINT.",
                "Consumes image-reference events, captions the images in micro-batches and publishes",
                "caption and failure events. Every setting: README.md, Configuration."})
final class RunCommand implements Callable<Integer> {

    @Option(names = "--config", paramLabel = "FILE",
            description = "Properties file (DERMCAP_* environment variables override it; default: $DERMCAP_CONFIG, or none)")
    Path config;

    @Option(names = "--check-config",
            description = "Check without starting, in this order: the configuration, the bundle (manifest and every "
                    + "file's sha256), the topics, the request subject in the registry; exit 0 when all pass")
    boolean checkOnly;

    @Override
    public Integer call() throws Exception {
        DermcapConfig cfg;
        try {
            cfg = Config.load(config);
        } catch (ConfigException e) {
            System.err.println("dermcap: invalid configuration: " + e.getMessage());
            return 2;
        }
        if (checkOnly) {
            return check(cfg, System.out, System.err);
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

    /** {@code --check-config}: each check in turn, stopping at the first that fails; the exit status of a start that met it. */
    static int check(DermcapConfig cfg, PrintStream out, PrintStream err) {
        out.println("configuration: ok");
        try {
            Bundle bundle = Bundle.load(cfg.bundleDir());
            out.println("bundle: ok (" + bundle.manifest().name() + " " + bundle.manifest().version() + ", manifest sha256 "
                    + bundle.manifestSha256() + ")");
        } catch (BundleException e) {
            err.println("dermcap: cannot load the bundle: " + e.getMessage());
            return 3;
        }
        try {
            out.println("state dir " + StateDirCheck.require(cfg.streams()) + ": ok");
            StartupChecks.topics(cfg).forEach(t -> out.println(t + ": ok"));
            AvroSerdeConfig serde = cfg.serde();
            String subject = StartupChecks.requestSubject(cfg, serde);
            RequestSubjectCheck.Mode mode = cfg.requestSubjectCheck();
            // a check registers nothing: REGISTER is checked as FAIL, a missing subject reported as what the start would do
            RequestSubjectCheck.Verdict v = StartupChecks.requestSchema(SchemaRegistryClient.create(serde.registry()), subject,
                    mode == RequestSubjectCheck.Mode.REGISTER ? RequestSubjectCheck.Mode.FAIL : mode);
            if (v.ok()) {
                out.println("request subject " + subject + ": ok (" + v.done() + ")");
            } else if (mode == RequestSubjectCheck.Mode.WARN || (mode == RequestSubjectCheck.Mode.REGISTER && v.missing())) {
                out.println("request subject " + subject + ": warning: " + v.problem()
                        + (v.missing() && mode == RequestSubjectCheck.Mode.REGISTER ? " (a start would register it)" : ""));
            } else {
                err.println("dermcap: cannot start: " + v.problem());
                return 4;
            }
        } catch (IllegalStateException | RegistryException | org.apache.kafka.common.KafkaException e) {
            err.println("dermcap: cannot start: " + e.getMessage());
            return 4;
        }
        out.println("all checks passed");
        return 0;
    }
}
