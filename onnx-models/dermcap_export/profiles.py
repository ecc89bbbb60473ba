"""The author's three generation paths as named profiles (release/RELEASE-FACTS.md;
GENERATION.md). All three run 4 beams, min 24 new tokens, no-repeat 4-grams, repetition penalty
1.15, length penalty 0.6, early stopping; they differ in:

    card            inference_min.py (the model card's example): 60 new tokens, no banned words,
                    text stripped. It runs h.23's wrapped layers with gpt2-medium's original
                    weights: exactly reproduced by a bundle exported with --like-inference-min.
    training-eval   the training script's generate (the card's metrics): 60 new tokens, the
                    config's cliché phrases banned, text stripped.
    published       inference.py (the published reference captions): 80 new tokens, cliché
                    phrases banned, text stripped and its whitespace runs collapsed.

Bad words are encoded as the author encodes them: tok.encode(phrase.strip(), add_special_tokens=False),
so without a leading space: a phrase is banned where the model would start a text with it, and
mostly not mid-sentence (" seek" and "seek" are different tokens).
"""

from dataclasses import dataclass, replace

from .generate import Settings

TEXT_RULE = "decode(skip_special_tokens=True, clean_up_tokenization_spaces=False); drop everything up to " \
            "and including the first occurrence of the prompt; strip()"
BAD_WORDS_ENCODING = "tok.encode(phrase.strip(), add_special_tokens=False): no leading space"


@dataclass(frozen=True)
class Profile:
    name: str
    reproduces: str
    settings: Settings
    bad_word_phrases: tuple
    collapse_whitespace: bool


def author_profiles(base: Settings, cliche_phrases, encode) -> dict:
    """{name: Profile}. `base` carries the settings the three scripts share (and any override of the
    captioner config); `encode` is GPT-2's encode without special tokens."""
    phrases = tuple(p.strip() for p in cliche_phrases)
    banned = tuple(tuple(encode(p)) for p in phrases)
    return {p.name: p for p in (
        Profile("card", "inference_min.py, the model card's example (exactly: with a bundle exported "
                        "--like-inference-min)", replace(base, max_new_tokens=60, bad_words_ids=()), (), False),
        Profile("training-eval", "the training script's validation generate, behind the model card's metrics",
                replace(base, max_new_tokens=60, bad_words_ids=banned), phrases, False),
        Profile("published", "inference.py, which produced the published reference captions",
                replace(base, max_new_tokens=80, bad_words_ids=banned), phrases, True),
    )}


def default_profile(lora_lineage) -> str:
    """`published` (the trained model as the author evaluates it) unless the bundle rebuilds what
    inference_min.py runs, whose own path is `card` (BUNDLE.md argues the choice)."""
    return "card" if (lora_lineage or {}).get("mode") == "like-inference-min" else "published"
