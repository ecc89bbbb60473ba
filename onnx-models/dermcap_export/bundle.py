"""Writing a bundle folder: the three graphs and manifest.json, built in a scratch folder next to
the target and renamed into place, so a failed export never leaves a half-written bundle."""

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field

from . import manifest
from .checkpoint import Sources, load_captioner
from .config_files import parse_captioner_json
from .errors import SourceError
from .generate import RELEASED
from .profiles import author_profiles, default_profile
from .model import CLIP_MEAN, CLIP_STD
from .onnx_export import export_graphs
from . import random_init as random_weights

RELEASED_PROMPT = ("Describe the skin lesion concisely (morphology, color, scale, border, location) in one "
                   "sentence.Conclude with the most likely diagnosis (1\u20133 words).")


@dataclass
class Loaded:
    """A captioner with everything the manifest says about where it came from."""
    model: object
    prompt: str
    profiles: dict          # {name: profiles.Profile}
    default_profile: str
    lineage: dict
    random_init: dict = None
    warnings: list = field(default_factory=list)
    mean: tuple = CLIP_MEAN
    std: tuple = CLIP_STD


def _encoder(phrases, jtokkit_jar):
    """GPT-2's encode for the bad words; the BPE ranks (and the regex module) are needed only when
    the config names phrases to ban."""
    if not phrases:
        return None
    from .bpe import DEFAULT_JAR, Tokenizer
    try:
        return Tokenizer(jtokkit_jar or DEFAULT_JAR).encode
    except FileNotFoundError as e:
        raise SourceError(f"the config's cliche_phrases are stored as GPT-2 token ids: {e}") from e


def load_released(src: Sources, stage_a=None, stage_b=None, jtokkit_jar=None) -> Loaded:
    warnings = []
    for path in (stage_a, stage_b):
        if path and not os.path.isfile(path):
            raise SourceError(f"stage checkpoint {path}: no such file")
    model, cfg, clip, weights = load_captioner(src, warnings)
    vision_file = src.open_clip_checkpoint or src.checkpoint
    lineage = manifest.lineage(src.checkpoint, src.config, {"A": stage_a, "B": stage_b},
                               cfg.vision_weights_id or manifest.RELEASED_VISION_WEIGHTS, vision_file,
                               cfg.gpt2_name, warnings, src.open_clip_config, weights, src.gpt2_base)
    profiles = author_profiles(cfg.generation, cfg.cliche_phrases, _encoder(cfg.cliche_phrases, jtokkit_jar))
    loaded = Loaded(model, cfg.prompt, profiles, default_profile(weights["lora"]), lineage, warnings=warnings)
    if clip:
        loaded.mean, loaded.std = clip.mean, clip.std
    return loaded


def load_random(preset, seed, config=None, jtokkit_jar=None) -> Loaded:
    """Random weights; the prompt and generation settings come from `config` when given."""
    warnings = []
    prompt, settings, phrases = RELEASED_PROMPT, RELEASED, ()
    if config:
        cfg = parse_captioner_json(config)
        prompt, settings, phrases = cfg.prompt, cfg.generation, cfg.cliche_phrases
    model = random_weights.build(preset, seed)
    base_lm = "gpt2-medium" if preset == "full" else f"gpt2-{preset}"
    lineage = manifest.lineage(None, config, {}, None, None, base_lm, warnings)
    profiles = author_profiles(settings, phrases, _encoder(phrases, jtokkit_jar))
    return Loaded(model, prompt, profiles, default_profile(None), lineage, {"preset": preset, "seed": seed}, warnings)


def write(loaded: Loaded, out_dir, *, name, version, created, kv_cache="float32", force=False):
    out_dir = os.path.abspath(out_dir)
    if os.path.exists(out_dir) and (not os.path.isdir(out_dir) or (os.listdir(out_dir) and not force)):
        raise SourceError(f"output {out_dir} exists and is not an empty folder; pass --force to replace it")
    parent = os.path.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix=".dermcap-export-", dir=parent)
    try:
        written = export_graphs(loaded.model, scratch, kv_cache)
        doc = manifest.build(name=name, version=version, created=created, random_init=loaded.random_init,
                             lineage_section=loaded.lineage, warnings=loaded.warnings, cfg=loaded.model.cfg,
                             prompt=loaded.prompt, profiles=loaded.profiles, default=loaded.default_profile,
                             written=written,
                             mean=loaded.mean, std=loaded.std)
        with open(os.path.join(scratch, "manifest.json"), "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2, ensure_ascii=False)
            f.write("\n")
        os.chmod(scratch, 0o755)  # mkdtemp makes it private
        if os.path.exists(out_dir):
            shutil.rmtree(out_dir)
        os.rename(scratch, out_dir)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return doc
