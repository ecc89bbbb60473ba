package io.dermcap.cli;

import io.dermcap.model.Captioner;
import picocli.CommandLine.Option;

/** Per-run overrides of the bundle's generation defaults. */
final class GenerationArgs {

    @Option(names = "--prompt", description = "prompt text (default: the bundle's)")
    String prompt;

    @Option(names = "--beams", description = "beam count, 1 = greedy (default: the bundle's)")
    Integer beams;

    @Option(names = "--max-new-tokens", description = "default: the bundle's")
    Integer maxNewTokens;

    @Option(names = "--min-new-tokens", description = "default: the bundle's")
    Integer minNewTokens;

    Captioner.Overrides overrides() {
        return new Captioner.Overrides(prompt, beams, maxNewTokens, minNewTokens);
    }
}
