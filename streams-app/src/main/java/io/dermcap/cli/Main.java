package io.dermcap.cli;

import io.dermcap.config.Config;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code dermcap}: the command line; each subcommand wires the packages it needs. */
@Command(name = "dermcap", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Dermatology image captioning: a DermLIP + GPT-2 captioner on ONNX Runtime, offline or inside Kafka.",
        subcommands = {RunCommand.class, CaptionCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    public static CommandLine commandLine() {
        return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"dermcap " + Config.serviceVersion()};
        }
    }
}
