"""The bundle's manifest.json (BUNDLE.md; machine-readable form: manifest.schema.json)."""

import dataclasses
import os
import sys

import onnx
import torch

from . import __version__
from .checkpoint_files import sha256_file
from .model import CLIP_MEAN, CLIP_STD
from .onnx_export import OPSET, io_signature
from .profiles import BAD_WORDS_ENCODING, TEXT_RULE

FORMAT = "dermcap-bundle/1"
RELEASED_VISION_WEIGHTS = "hf-hub:redlessone/DermLIP_ViT-B-16"

# The model card's published sha256 prefixes (its "Files" table; onnx-models/release/README.md), by role.
PUBLISHED = {
    "checkpoint": ("final_captioner_gpt2-medium_VisionTransformer.pt", "536ae07811c9"),
    "config": ("final_captioner_gpt2-medium_VisionTransformer.json", "e157402c9fe2"),
    "A": ("best_stageA.pt", "3219636f48b0"),
    "B": ("best_stageB.pt", "69bded2dcad1"),
}
STAGES = (("A", "META"), ("B", "SkinCAP"))


def _source(role, path, warnings):
    """{file, sha256, published_sha256_prefix, matches_published} of a lineage file (path may be None)."""
    released_name, prefix = PUBLISHED[role]
    if path is None:
        return {"file": released_name, "sha256": None, "published_sha256_prefix": prefix, "matches_published": None}
    digest = sha256_file(path)
    matches = digest.startswith(prefix)
    if not matches:
        what = "the captioner checkpoint" if role == "checkpoint" else (
            "the captioner config" if role == "config" else f"the stage {role} checkpoint")
        warnings.append(f"{os.path.basename(path)}: sha256 {digest[:12]}… does not match the model card's "
                        f"{prefix} for {what} ({released_name}): not the released file")
    return {"file": os.path.basename(path), "sha256": digest, "published_sha256_prefix": prefix,
            "matches_published": matches}


def _hashed(path):
    return None if path is None else {"file": os.path.basename(path), "sha256": sha256_file(path)}


def lineage(checkpoint, config, stage_files, vision_weights_id, vision_file, base_lm, warnings, vision_config=None,
            weights=None, gpt2_base=None):
    """stage_files: {"A": path or None, "B": path or None}. For a random-weight bundle pass
    checkpoint=None and vision_file=None: there is no checkpoint, no stage, no vision weights file.
    weights: which stage the checkpoint is and what was done to its LoRA adapters (checkpoint.py);
    a stage checkpoint is checked against that stage's published hash."""
    stage = (weights or {}).get("stage")
    role = stage if stage in ("A", "B") else "checkpoint"
    return {
        "checkpoint": _source(role, checkpoint, warnings) if checkpoint else None,
        "weights": weights,
        "gpt2_base": _hashed(gpt2_base),
        "config": _source("config", config, warnings) if config else None,
        "stages": [] if checkpoint is None else [
            {"stage": stage, "dataset": dataset, **_source(stage, stage_files.get(stage), warnings)}
            for stage, dataset in STAGES],
        "vision_weights": None if vision_file is None else {
            "id": vision_weights_id, **_hashed(vision_file), "config": _hashed(vision_config)},
        "base_lm": base_lm,
    }


def model_section(cfg, eos_token_id, pad_token_id):
    g, v = cfg.gpt2, cfg.vision
    return {
        "prefix_tokens": cfg.prefix_tokens, "hidden_size": g.hidden_size, "num_layers": g.layers,
        "num_heads": g.heads, "head_dim": g.head_dim, "vocab_size": g.vocab_size,
        "max_positions": g.max_positions, "eos_token_id": eos_token_id, "pad_token_id": pad_token_id,
        "vision": {"image_size": v.image_size, "patch_size": v.patch_size, "width": v.width,
                   "layers": v.layers, "heads": v.heads, "embed_dim": v.embed_dim, "act": v.act},
    }


def preprocessing_section(image_size, mean=CLIP_MEAN, std=CLIP_STD):
    return {"image_size": image_size, "resize": "shortest", "interpolation": "bicubic", "crop": "center",
            "mean": list(mean), "std": list(std)}


def generation_section(prompt, profiles, default):
    """The prompt, the token ids every profile shares, and the profiles (profiles.py) by name."""
    first = next(iter(profiles.values())).settings
    return {"prompt": prompt, "eos_token_id": first.eos_token_id, "pad_token_id": first.pad_token_id,
            "default_profile": default, "profiles": {name: profile_section(p) for name, p in profiles.items()}}


def profile_section(profile):
    settings = {k: v for k, v in dataclasses.asdict(profile.settings).items()
                if k not in ("eos_token_id", "pad_token_id", "bad_words_ids")}
    return {"reproduces": profile.reproduces, **settings,
            "bad_words": {"phrases": list(profile.bad_word_phrases), "encoding": BAD_WORDS_ENCODING,
                          "token_ids": [list(seq) for seq in profile.settings.bad_words_ids]},
            "text": {"rule": TEXT_RULE, "clean_up_tokenization_spaces": False, "prompt_echo": "drop-through-first",
                     "strip": True, "collapse_whitespace": profile.collapse_whitespace}}


def graphs_section(written):
    """written: {graph: (onnx path, external data path or None)} from onnx_export.export_graphs."""
    graphs = {}
    for name, (path, data_path) in written.items():
        inputs, outputs = io_signature(onnx.load(path, load_external_data=False))
        graphs[name] = {
            "file": os.path.basename(path), "sha256": sha256_file(path), "bytes": os.path.getsize(path),
            "external_data": [] if data_path is None else [
                {"file": os.path.basename(data_path), "sha256": sha256_file(data_path),
                 "bytes": os.path.getsize(data_path)}],
            "inputs": inputs, "outputs": outputs,
        }
    return graphs


def build(*, name, version, created, random_init, lineage_section, warnings, cfg, prompt, profiles, default,
          written, mean=CLIP_MEAN, std=CLIP_STD):
    shared = next(iter(profiles.values())).settings
    return {
        "format": FORMAT,
        "name": name,
        "version": version,
        "created": created,
        "exporter": {"name": "dermcap-export", "version": __version__, "torch": torch.__version__,
                     "onnx": onnx.__version__, "opset": OPSET},
        "random_init": random_init,
        "lineage": lineage_section,
        "warnings": list(warnings),
        "model": model_section(cfg, shared.eos_token_id, shared.pad_token_id),
        "preprocessing": preprocessing_section(cfg.vision.image_size, mean, std),
        "generation": generation_section(prompt, profiles, default),
        "graphs": graphs_section(written),
    }


def warn(message):
    print(f"warning: {message}", file=sys.stderr)
