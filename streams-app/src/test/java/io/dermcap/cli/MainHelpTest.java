package io.dermcap.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code dermcap --help} lists each subcommand with the first line of its description: a whole sentence. */
class MainHelpTest {

    @Test
    void everySubcommandSummaryIsAWholeSentence() {
        CommandLine main = Main.commandLine();
        String help = main.getUsageMessage(CommandLine.Help.Ansi.OFF);
        for (var e : main.getSubcommands().entrySet()) {
            String[] description = e.getValue().getCommandSpec().usageMessage().description();
            assertThat(description).as(e.getKey()).isNotEmpty();
            String summary = description[0];
            assertThat(summary).as("summary of %s", e.getKey()).endsWith(".");
            if (!e.getKey().equals("help")) {
                assertThat(help.replaceAll("\\s+", " ")).as("dermcap --help").contains(summary);
            }
        }
    }
}
