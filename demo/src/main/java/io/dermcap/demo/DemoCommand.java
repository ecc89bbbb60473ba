package io.dermcap.demo;

import io.dermcap.config.Config;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code dermcap-demo} (the demo jar's main; {@code scripts/demo} runs it): the service end to end
 * on embedded servers, in one command.
 */
@Command(name = "dermcap-demo", mixinStandardHelpOptions = true, sortOptions = false, versionProvider = DemoCommand.Version.class,
        description = {
                "See the service work end to end in one command, on embedded Kafka, S3 and registry.",
                "Starts an embedded Kafka broker (KRaft), an embedded S3 API server (S3Proxy) and an in-process schema "
                        + "registry, uploads synthetic lesion drawings, publishes one Avro request per image, runs the service "
                        + "exactly as `dermcap run` does, prints each caption event with its lineage and its drawing's true "
                        + "attributes as it arrives and a summary (attributes matched N/M), then stops everything and deletes "
                        + "what it made. docs/demo.md has the details.",
                "Without --bundle it uses the built-in toy bundle: a small captioner trained here on synthetic drawings, "
                        + "whose captions describe those drawings; it is not a medical model. Real captions need the "
                        + "exported release (--bundle DIR).",
                "Exit status: 0 when every request got its caption (and, with the toy bundle, at least 90 %% of the "
                        + "attributes are right); 1 when one failed, got no outcome in time, or the toy's captions missed; "
                        + "2 invalid setting; 3 bundle refused; 4 could not start."})
public final class DemoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--requests", paramLabel = "N", defaultValue = "24", description = "images and requests (default ${DEFAULT-VALUE})")
    int requests;

    @Option(names = "--bundle", paramLabel = "DIR", description = "bundle folder (default: the built-in toy bundle, trained on synthetic drawings)")
    Path bundle;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "300",
            description = "give up when not every request has its outcome this long after publishing (default ${DEFAULT-VALUE})")
    long timeoutSeconds;

    @Option(names = "--keep-running", description = "after the summary keep the servers and the service up until Ctrl-C")
    boolean keepRunning;

    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT,...",
            description = "an existing Kafka cluster instead of the embedded broker (the demo's topics, named per run, are deleted at the end)")
    String bootstrapServers;

    @Option(names = "--s3-endpoint", paramLabel = "URL", description = "an existing S3 API server (MinIO, Ceph, ...) instead of the embedded one")
    URI s3Endpoint;

    @Option(names = "--s3-bucket", paramLabel = "NAME", defaultValue = "dermcap-demo", description = "bucket for the images, created when missing (default ${DEFAULT-VALUE})")
    String s3Bucket;

    @Option(names = "--s3-region", paramLabel = "REGION", defaultValue = "us-east-1", description = "signing region for --s3-endpoint (default ${DEFAULT-VALUE})")
    String s3Region;

    @Option(names = "--s3-access-key", paramLabel = "ID", description = "access key id for --s3-endpoint (default: the AWS credential chain)")
    String s3AccessKey;

    @Option(names = "--s3-secret-key", paramLabel = "SECRET", arity = "0..1", interactive = true,
            description = "its secret; give the option without a value to be prompted")
    String s3SecretKey;

    @Option(names = "--registry-url", paramLabel = "URL",
            description = "a schema registry with the Confluent API (default: an in-process mock:// registry)")
    String registryUrl;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "a service setting (README.md, Configuration), e.g. --set batch.max.size=4 --set kafka.security.protocol=SASL_SSL")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0",
            description = "first of the held-out drawings to send, in order and cyclically (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--http-port", paramLabel = "PORT", defaultValue = "0", description = "port of the service's /metrics and /health endpoints on 127.0.0.1 (default: any free port)")
    int httpPort;

    @Option(names = "--log-level", paramLabel = "LEVEL", defaultValue = "WARN", description = "log level of the servers and the service (default ${DEFAULT-VALUE}; INFO shows the service's own log)")
    String logLevel;

    public static void main(String[] args) {
        System.exit(new CommandLine(new DemoCommand()).execute(args));
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"dermcap-demo " + Config.serviceVersion()};
        }
    }

    @Override
    public Integer call() {
        if (requests < 1 || requests > 10_000) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--requests must be between 1 and 10000, got " + requests);
        }
        if (timeoutSeconds < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--timeout must be positive");
        }
        if ((s3AccessKey == null) != (s3SecretKey == null)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--s3-access-key and --s3-secret-key go together");
        }
        if (s3Endpoint == null && s3AccessKey != null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--s3-access-key needs --s3-endpoint (the embedded server makes its own)");
        }
        Demo.ExternalS3 s3 = s3Endpoint == null ? null : new Demo.ExternalS3(s3Endpoint, s3Region, s3AccessKey, s3SecretKey);
        Demo.Settings settings = new Demo.Settings(requests, bundle, keepRunning, Duration.ofSeconds(timeoutSeconds),
                bootstrapServers, s3, s3Bucket, registryUrl, overrides, seed, httpPort, logLevel);
        return new Demo(settings, spec.commandLine().getOut()).run().exitCode();
    }
}
