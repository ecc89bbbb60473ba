"""The torch reference captioner for a bundle: the weights the bundle was exported from (rebuilt
from its manifest's random_init, or loaded from the source checkpoints, checked against the
manifest's hashes), the fixtures' preprocessing and Hugging Face generate semantics."""

import json
import os
import time
import torch

from . import random_init
from .bpe import Tokenizer, caption_text
from .checkpoint import Sources, load_captioner
from .checkpoint_files import sha256_file
from .errors import SourceError
from .generate import Settings, generate
from .preprocess import pixel_values


def read_manifest(bundle_dir):
    path = os.path.join(bundle_dir, "manifest.json")
    if not os.path.isfile(path):
        raise SourceError(f"bundle {bundle_dir}: no manifest.json")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def load_model(manifest, sources: Sources = None):
    """The torch Captioner whose weights the bundle holds."""
    seeded = manifest.get("random_init")
    if seeded:
        if sources:
            raise SourceError(f"the bundle holds random weights ({seeded['preset']}, seed {seeded['seed']}); "
                              "it is rebuilt from its manifest, so pass no checkpoints")
        return random_init.build(seeded["preset"], seeded["seed"])
    if not sources:
        raise SourceError("the bundle was exported from checkpoints: pass the same --checkpoint, --config and "
                          "--open-clip-checkpoint (or --vision-prefix) to rebuild its torch reference")
    lineage = manifest["lineage"]
    vision_file = sources.open_clip_checkpoint or sources.checkpoint
    for what, path, entry in (("checkpoint", sources.checkpoint, lineage["checkpoint"]),
                              ("vision weights", vision_file, lineage["vision_weights"])):
        if sha256_file(path) != entry["sha256"]:
            raise SourceError(f"{path}: sha256 differs from the bundle's {what} {entry['file']} ({entry['sha256'][:12]}…)")
    model = load_captioner(sources, [])[0]
    return model


def settings_for(manifest, decoding, profile=None, **overrides):
    """(Settings, collapse_whitespace) of the manifest's profile (its default when None)."""
    generation = manifest["generation"]
    name = profile or generation["default_profile"]
    if name not in generation["profiles"]:
        raise SourceError(f"the bundle has no generation profile {name!r}; it has {', '.join(generation['profiles'])}")
    chosen = generation["profiles"][name]
    given = {k: v for k, v in chosen.items() if k not in ("reproduces", "bad_words", "text")}
    given.update(eos_token_id=generation["eos_token_id"], pad_token_id=generation["pad_token_id"],
                 bad_words_ids=tuple(tuple(seq) for seq in chosen["bad_words"]["token_ids"]))
    if decoding == "greedy":
        given["num_beams"] = 1
    given.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**given), chosen["text"]["collapse_whitespace"]
    except (TypeError, ValueError) as e:
        raise SourceError(f"invalid generation settings: {e}") from e


@torch.no_grad()
def caption_images(model, manifest, paths, settings: Settings, collapse_whitespace, batch_size, tokenizer: Tokenizer):
    """Captions `paths` in batches; returns the per-image results and the time spent per stage."""
    prompt = manifest["generation"]["prompt"]
    pre = manifest["preprocessing"]
    prompt_ids = torch.tensor([tokenizer.encode(prompt)])
    positions = manifest["model"]["prefix_tokens"] + prompt_ids.shape[1] + settings.max_new_tokens
    if positions > manifest["model"]["max_positions"]:
        raise SourceError(f"prefix + prompt + max_new_tokens = {positions} positions; GPT-2 has "
                          f"{manifest['model']['max_positions']}")
    prompt_embeds = model.gpt2.embed(prompt_ids)
    results, seconds = [], {"preprocess": 0.0, "vision": 0.0, "generation": 0.0}
    for start in range(0, len(paths), batch_size):
        batch = paths[start:start + batch_size]
        t0 = time.perf_counter()
        pixels = pixel_values(batch, pre["image_size"], pre["mean"], pre["std"])
        t1 = time.perf_counter()
        prefix = model.encode_image(pixels)
        t2 = time.perf_counter()
        inputs = torch.cat([prefix, prompt_embeds.expand(len(batch), -1, -1)], dim=1)
        generations = generate(model.gpt2, inputs, settings)
        t3 = time.perf_counter()
        seconds["preprocess"] += t1 - t0
        seconds["vision"] += t2 - t1
        seconds["generation"] += t3 - t2
        results += [{"path": p, "token_ids": g.token_ids, "text": caption_text(tokenizer, g.token_ids, prompt, collapse_whitespace)}
                    for p, g in zip(batch, generations)]
    return results, seconds
