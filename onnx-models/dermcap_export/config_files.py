"""The two JSON configs of a release, validated: the captioner's (gpt2_name, prefix_tokens,
embed_dim, prompt, cliche_phrases, ...) and open_clip's open_clip_config.json (model_cfg.quick_gelu,
vision_cfg, preprocess_cfg)."""

import json
import os
from dataclasses import dataclass

from .errors import SourceError
from .generate import Settings
from .model import CLIP_MEAN, CLIP_STD

# Hugging Face GPT-2 sizes: name -> (width, layers, heads).
GPT2_SIZES = {
    "gpt2": (768, 12, 12), "gpt2-medium": (1024, 24, 16), "gpt2-large": (1280, 36, 20),
    "gpt2-xl": (1600, 48, 25), "distilgpt2": (768, 6, 12),
    "dermcap-toy": (32, 4, 2),  # not a Hugging Face size: the toy captioner of onnx-models/dermcap_toy
}
_GENERATION_KEYS = [f for f in Settings.__dataclass_fields__ if f not in ("eos_token_id", "pad_token_id")]


@dataclass
class CaptionerJson:
    path: str
    gpt2_name: str
    prefix_tokens: int
    embed_dim: int
    prompt: str
    vision_weights_id: str
    generation: Settings
    cliche_phrases: tuple = ()  # banned by the author's evaluation paths (profiles.py)


@dataclass
class OpenClipJson:
    path: str
    quick_gelu: object            # True, False or None when the config does not say
    vision_cfg: dict
    embed_dim: object
    mean: tuple = CLIP_MEAN
    std: tuple = CLIP_STD


def _read_json(path, what):
    if not os.path.isfile(path):
        raise SourceError(f"{what} {path}: no such file")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SourceError(f"{what} {path}: not valid JSON ({e})") from e
    if not isinstance(data, dict):
        raise SourceError(f"{what} {path}: expected a JSON object, found {type(data).__name__}")
    return data


def _typed(data, key, kind, path, minimum=None):
    value = data[key]
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise SourceError(f"{path}: {key} must be {kind.__name__}, found {value!r}")
    if minimum is not None and value < minimum:
        raise SourceError(f"{path}: {key} must be >= {minimum}, found {value!r}")
    return value


def parse_captioner_json(path) -> CaptionerJson:
    data = _read_json(path, "captioner config")
    required = ["gpt2_name", "prefix_tokens", "embed_dim", "prompt"]
    missing = [k for k in required if k not in data]
    if missing:
        hint = " (it looks like an open_clip_config.json)" if "model_cfg" in data else ""
        raise SourceError(
            f"{path}: not the captioner config{hint}: missing {', '.join(missing)}. Pass the .json "
            f"released next to the captioner .pt (keys {', '.join(required)}, clip_weight_path, ...)")
    name = _typed(data, "gpt2_name", str, path).split("/")[-1]  # "openai-community/gpt2-medium" too
    if name not in GPT2_SIZES:
        raise SourceError(f"{path}: gpt2_name {data['gpt2_name']!r} is not a GPT-2 size this exporter "
                          f"knows ({', '.join(GPT2_SIZES)})")
    for key, expected in (("clip_backend_kind", "open_clip"), ("clip_arch", "VisionTransformer")):
        if key in data and data[key] != expected:
            raise SourceError(f"{path}: {key} is {data[key]!r}; this exporter implements {expected!r} only")
    prompt = _typed(data, "prompt", str, path)
    if not prompt.strip():
        raise SourceError(f"{path}: prompt is empty")
    overrides = dict(data.get("generation", {}) if isinstance(data.get("generation"), dict) else {})
    overrides.update({k: data[k] for k in _GENERATION_KEYS if k in data})
    unknown = sorted(set(overrides) - set(_GENERATION_KEYS))
    if unknown:
        raise SourceError(f"{path}: unknown generation settings {', '.join(unknown)}")
    try:
        generation = Settings(**overrides)
    except (TypeError, ValueError) as e:
        raise SourceError(f"{path}: invalid generation settings: {e}") from e
    vision_id = data.get("clip_weight_path") or data.get("clip_repo")
    phrases = data.get("cliche_phrases", [])
    if not isinstance(phrases, list) or any(not isinstance(p, str) or not p.strip() for p in phrases):
        raise SourceError(f"{path}: cliche_phrases must be a list of non-empty strings, found {phrases!r}")
    return CaptionerJson(path, name, _typed(data, "prefix_tokens", int, path, 1),
                         _typed(data, "embed_dim", int, path, 1), prompt,
                         str(vision_id) if vision_id else None, generation, tuple(phrases))


def parse_open_clip_json(path) -> OpenClipJson:
    data = _read_json(path, "open_clip config")
    if "gpt2_name" in data:
        raise SourceError(f"{path}: this is the captioner config; pass it as --config, and the "
                          "open_clip_config.json of the DermLIP weights as --open-clip-config")
    model_cfg = data.get("model_cfg")
    if not isinstance(model_cfg, dict) or not isinstance(model_cfg.get("vision_cfg"), dict):
        raise SourceError(f"{path}: not an open_clip config: no model_cfg.vision_cfg object")
    vision_cfg = model_cfg["vision_cfg"]
    if vision_cfg.get("timm_model_name"):
        raise SourceError(f"{path}: the vision tower is the timm model {vision_cfg['timm_model_name']!r}; "
                          "this exporter implements open_clip's VisionTransformer only")
    quick_gelu = model_cfg.get("quick_gelu")
    if quick_gelu is not None and not isinstance(quick_gelu, bool):
        raise SourceError(f"{path}: model_cfg.quick_gelu must be true or false, found {quick_gelu!r}")
    result = OpenClipJson(path, quick_gelu, vision_cfg, model_cfg.get("embed_dim"))
    pre = data.get("preprocess_cfg") or {}
    for key, allowed in (("interpolation", "bicubic"), ("resize_mode", "shortest")):
        if key in pre and pre[key] != allowed:
            raise SourceError(f"{path}: preprocess_cfg.{key} is {pre[key]!r}; the bundle contract "
                              f"implements {allowed!r} only")
    for key in ("mean", "std"):
        if key in pre:
            value = pre[key]
            if not (isinstance(value, list) and len(value) == 3 and all(isinstance(v, (int, float)) for v in value)):
                raise SourceError(f"{path}: preprocess_cfg.{key} must be 3 numbers, found {value!r}")
            setattr(result, key, tuple(float(v) for v in value))
    return result


