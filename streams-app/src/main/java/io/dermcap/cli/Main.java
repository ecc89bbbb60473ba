package io.dermcap.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code dermcap} command line. */
@Command(name = "dermcap", mixinStandardHelpOptions = true, subcommands = {RunCommand.class},
        description = "Dermatology image captioning inside Apache Kafka.")
public final class Main {

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }
}
