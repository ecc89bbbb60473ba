package io.dermcap.cli;

import io.dermcap.model.Captioner;
import picocli.CommandLine.Option;

/** Per-run choice of the bundle's generation profile and overrides of its settings. */
final class GenerationArgs {

    @Option(names = "--profile", description = "generation profile of the bundle: card (the model card's inference_min.py), "
            + "training-eval (the card's metrics) or published (the author's inference.py) (default: the bundle's)")
    String profile;

    @Option(names = "--prompt", description = "prompt text (default: the bundle's)")
    String prompt;

    @Option(names = "--beams", description = "beam count, 1 = greedy (default: the bundle's)")
    Integer beams;

    @Option(names = "--max-new-tokens", description = "default: the bundle's")
    Integer maxNewTokens;

    @Option(names = "--min-new-tokens", description = "default: the bundle's")
    Integer minNewTokens;

    Captioner.Overrides overrides() {
        return new Captioner.Overrides(prompt, beams, maxNewTokens, minNewTokens, profile);
    }
}
