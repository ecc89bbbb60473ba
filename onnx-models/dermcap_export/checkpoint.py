"""Reading the released files into a Captioner, strictly: every key of the model must be found with
its shape, and every key found must be used, or the error lists what is missing, unexpected or
mis-shaped (no silent strict=False).

    captioner .pt    state dict at the top level or under "model"; keys gpt2.* and prefix.*
                     (tolerated: gpt2.lm_head.weight when equal to wte, and the attn.bias /
                     attn.masked_bias buffers of older Hugging Face GPT-2 checkpoints)
    captioner .json  gpt2_name, prefix_tokens, embed_dim, prompt, ... (validated)
    open_clip file   .bin/.pt (torch) or .safetensors; state dict at the top level or under
                     "state_dict", optionally "module."-prefixed; visual.* is used strictly,
                     other keys (the text tower) are ignored
    open_clip .json  optional: model_cfg (quick_gelu, vision_cfg) and preprocess_cfg
"""

import hashlib
import json
import os
import pickle
import re
import struct
from dataclasses import dataclass, field

import numpy as np
import torch

from .generate import Settings
from .model import CLIP_MEAN, CLIP_STD, Captioner, CaptionerConfig, GPT2Config, VisionConfig


class SourceError(Exception):
    """The user's input is wrong; the message says which file and what."""


# Hugging Face GPT-2 sizes: name -> (width, layers, heads).
GPT2_SIZES = {
    "gpt2": (768, 12, 12), "gpt2-medium": (1024, 24, 16), "gpt2-large": (1280, 36, 20),
    "gpt2-xl": (1600, 48, 25), "distilgpt2": (768, 6, 12),
    "dermcap-toy": (32, 4, 2),  # not a Hugging Face size: the toy captioner of onnx-models/dermcap_toy
}
IMAGE_SIZE = 224  # fixed by the bundle contract's pixel_values [batch, 3, 224, 224]
_GENERATION_KEYS = [f for f in Settings.__dataclass_fields__ if f not in ("eos_token_id", "pad_token_id")]


# ---------------------------------------------------------------------------------------------
# JSON configs


@dataclass
class CaptionerJson:
    path: str
    gpt2_name: str
    prefix_tokens: int
    embed_dim: int
    prompt: str
    vision_weights_id: str
    generation: Settings


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
    return CaptionerJson(path, name, _typed(data, "prefix_tokens", int, path, 1),
                         _typed(data, "embed_dim", int, path, 1), prompt,
                         str(vision_id) if vision_id else None, generation)


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


# ---------------------------------------------------------------------------------------------
# Tensors


def read_safetensors(path) -> dict:
    """The safetensors layout: u64 header length, JSON header {name: {dtype, shape, data_offsets}}, data."""
    dtypes = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32}
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] == "BF16":  # numpy has no bfloat16: widen the 16 stored bits
            start, end = info["data_offsets"]
            raw = np.frombuffer(data[start:end], dtype=np.uint16).astype(np.uint32) << 16
            array = raw.view(np.float32)
        elif info["dtype"] in dtypes:
            start, end = info["data_offsets"]
            array = np.frombuffer(data[start:end], dtype=dtypes[info["dtype"]])
        else:
            raise SourceError(f"{path}: tensor {name} has dtype {info['dtype']}, which this exporter does not read")
        tensors[name] = torch.from_numpy(array.copy()).reshape(info["shape"])
    return tensors


def load_tensors(path, what, wrapper, trust_pickles=False) -> dict:
    """A flat {name: tensor} state dict from a checkpoint file, at the top level or under `wrapper`."""
    if not os.path.isfile(path):
        raise SourceError(f"{what} {path}: no such file")
    if path.endswith(".safetensors"):
        try:
            return read_safetensors(path)
        except (OSError, ValueError, KeyError, struct.error) as e:
            raise SourceError(f"{what} {path}: not a readable safetensors file ({e})") from e
    try:
        obj = torch.load(path, map_location="cpu", weights_only=not trust_pickles)
    except pickle.UnpicklingError as e:
        raise SourceError(
            f"{what} {path}: torch.load(weights_only=True) refused it ({str(e).splitlines()[0]}). It holds "
            "Python objects besides tensors; if you trust the file, pass --trust-pickles") from e
    except Exception as e:  # torch raises RuntimeError, EOFError, zipfile errors... for damaged files
        raise SourceError(f"{what} {path}: torch.load failed: {type(e).__name__}: {e}") from e
    if isinstance(obj, dict) and isinstance(obj.get(wrapper), dict):
        obj = obj[wrapper]
    if not isinstance(obj, dict) or not obj:
        raise SourceError(f"{what} {path}: no state dict: expected a dict of tensors at the top level "
                          f"or under {wrapper!r}, found {type(obj).__name__}")
    not_tensors = sorted(k for k, v in obj.items() if not isinstance(v, torch.Tensor))
    if not_tensors:
        raise SourceError(f"{what} {path}: expected a dict of tensors at the top level or under {wrapper!r}; "
                          f"these entries are not tensors: {', '.join(map(str, not_tensors[:20]))}")
    return obj


def sha256_file(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 24), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# Keys


def summarise_keys(keys) -> str:
    """Collapses per-layer keys: 'h.{0-23}.attn.c_attn.weight' instead of 24 lines."""
    groups = {}
    for key in keys:
        pattern = re.sub(r"\.(\d+)\.", ".{}.", key, count=1)
        m = re.search(r"\.(\d+)\.", key)
        groups.setdefault(pattern, []).append(int(m.group(1)) if m and pattern != key else None)
    lines = []
    for pattern, indices in sorted(groups.items()):
        if indices == [None]:
            lines.append(pattern)
        else:
            nums = sorted(i for i in indices if i is not None)
            ranges, start = [], nums[0]
            for a, b in zip(nums, nums[1:] + [None]):
                if b != a + 1:
                    ranges.append(str(start) if start == a else f"{start}-{a}")
                    start = b
            lines.append(pattern.replace("{}", "{" + ",".join(ranges) + "}"))
    return "\n    " + "\n    ".join(lines)


@dataclass
class KeyReport:
    source: str
    missing: list = field(default_factory=list)
    unexpected: list = field(default_factory=list)
    mismatched: list = field(default_factory=list)

    def problems(self):
        out = []
        if self.missing:
            out.append(f"{self.source}: {len(self.missing)} missing keys:{summarise_keys(self.missing)}")
        if self.unexpected:
            out.append(f"{self.source}: {len(self.unexpected)} unexpected keys:{summarise_keys(self.unexpected)}")
        if self.mismatched:
            out.append(f"{self.source}: {len(self.mismatched)} shape mismatches:\n    " + "\n    ".join(self.mismatched))
        return out


def compare_keys(expected: dict, found: dict, source: str) -> KeyReport:
    report = KeyReport(source)
    report.missing = sorted(k for k in expected if k not in found)
    report.unexpected = sorted(k for k in found if k not in expected)
    for key in sorted(set(expected) & set(found)):
        want, got = tuple(expected[key].shape), tuple(found[key].shape)
        if want != got:
            report.mismatched.append(f"{key}: file {list(got)}, model {list(want)}")
    return report


_HF_ATTN_BUFFER = re.compile(r"^gpt2\.transformer\.h\.\d+\.attn\.(bias|masked_bias)$")


def split_captioner(tensors: dict, path: str, vision_prefix=None):
    """Captioner checkpoint → (gpt2 + prefix tensors, vision tensors when vision_prefix is given).
    Drops the tolerated extras; anything else not in the model is reported by compare_keys."""
    tensors = dict(tensors)
    head = tensors.pop("gpt2.lm_head.weight", None)
    wte = tensors.get("gpt2.transformer.wte.weight")
    if head is not None and wte is not None and (head.shape != wte.shape or not torch.equal(head, wte)):
        raise SourceError(f"{path}: gpt2.lm_head.weight differs from gpt2.transformer.wte.weight; this "
                          "exporter implements GPT2LMHeadModel's tied head only")
    for key in [k for k in tensors if _HF_ATTN_BUFFER.match(k)]:
        del tensors[key]  # causal-mask buffers of older transformers versions, not weights
    alpha = tensors.get("prefix.alpha")
    if alpha is not None and alpha.numel() == 1:
        tensors["prefix.alpha"] = alpha.reshape(())  # nn.Parameter(torch.tensor(x)) or of shape [1]
    vision = {}
    if vision_prefix:
        vision = {"visual." + k[len(vision_prefix):]: tensors.pop(k) for k in list(tensors) if k.startswith(vision_prefix)}
        if not vision:
            raise SourceError(f"{path}: no keys start with --vision-prefix {vision_prefix!r}")
    return tensors, vision


def vision_from_open_clip(tensors: dict, path: str) -> dict:
    if tensors and all(k.startswith("module.") for k in tensors):
        tensors = {k[len("module."):]: v for k, v in tensors.items()}  # saved from DataParallel
    vision = {k: v for k, v in tensors.items() if k.startswith("visual.")}
    if not vision:
        prefixes = sorted({k.split(".")[0] for k in tensors})
        raise SourceError(f"{path}: no visual.* keys: not an open_clip CLIP checkpoint "
                          f"(top-level prefixes: {', '.join(prefixes[:15])})")
    return vision


# ---------------------------------------------------------------------------------------------
# Sizing the model from the weights, checked against the configs


def _need(tensors, key, source, ndim):
    if key not in tensors:
        raise SourceError(f"{source}: missing {key}, needed to size the model")
    t = tensors[key]
    if t.dim() != ndim:
        raise SourceError(f"{source}: {key} has shape {list(t.shape)}, expected {ndim} dimensions")
    return t.shape


def _count_layers(tensors, prefix):
    found = {int(m.group(1)) for k in tensors for m in [re.match(re.escape(prefix) + r"(\d+)\.", k)] if m}
    return max(found) + 1 if found else 0


def infer_config(lm_tensors, vision_tensors, cfg: CaptionerJson, clip: OpenClipJson, act_override,
                 lm_source, vision_source, warnings) -> CaptionerConfig:
    # GPT-2
    vocab, width = _need(lm_tensors, "gpt2.transformer.wte.weight", lm_source, 2)
    max_positions, _ = _need(lm_tensors, "gpt2.transformer.wpe.weight", lm_source, 2)
    layers = _count_layers(lm_tensors, "gpt2.transformer.h.")
    want_width, want_layers, heads = GPT2_SIZES[cfg.gpt2_name]
    if (width, layers) != (want_width, want_layers):
        raise SourceError(f"{cfg.path} says gpt2_name={cfg.gpt2_name} ({want_width} wide, {want_layers} layers) "
                          f"but {lm_source} holds {width}-wide, {layers}-layer GPT-2 weights")
    gpt2 = GPT2Config(vocab_size=vocab, max_positions=max_positions, hidden_size=width, layers=layers, heads=heads)

    # vision tower
    v_width, channels, patch, patch2 = _need(vision_tensors, "visual.conv1.weight", vision_source, 4)
    positions, _ = _need(vision_tensors, "visual.positional_embedding", vision_source, 2)
    v_width2, embed_dim = _need(vision_tensors, "visual.proj", vision_source, 2)
    fc_width, _ = _need(vision_tensors, "visual.transformer.resblocks.0.mlp.c_fc.weight", vision_source, 2)
    grid = int(round((positions - 1) ** 0.5))
    if channels != 3 or patch != patch2 or grid * grid != positions - 1 or v_width2 != v_width:
        raise SourceError(f"{vision_source}: visual.conv1.weight {[v_width, channels, patch, patch2]}, "
                          f"visual.positional_embedding [{positions}, ...] and visual.proj [{v_width2}, {embed_dim}] "
                          "are not a square-patch RGB ViT with a class token")
    if grid * patch != IMAGE_SIZE:
        raise SourceError(f"{vision_source}: the tower takes {grid * patch}×{grid * patch} images; the bundle "
                          f"contract fixes {IMAGE_SIZE}×{IMAGE_SIZE}")
    head_width = clip.vision_cfg.get("head_width", 64) if clip else 64
    if v_width % head_width:
        raise SourceError(f"{vision_source}: width {v_width} is not a multiple of head_width {head_width}"
                          + ("" if clip else " (open_clip's default; give --open-clip-config with vision_cfg.head_width)"))
    if clip:
        checks = {"width": v_width, "layers": _count_layers(vision_tensors, "visual.transformer.resblocks."),
                  "patch_size": patch, "image_size": grid * patch}
        for key, actual in checks.items():
            if key in clip.vision_cfg and clip.vision_cfg[key] != actual:
                raise SourceError(f"{clip.path}: vision_cfg.{key} is {clip.vision_cfg[key]} but {vision_source} "
                                  f"holds {actual}")
        if clip.embed_dim is not None and clip.embed_dim != embed_dim:
            raise SourceError(f"{clip.path}: model_cfg.embed_dim is {clip.embed_dim} but visual.proj projects to {embed_dim}")
    if act_override:
        act = act_override
    elif clip and clip.quick_gelu is not None:
        act = "quick_gelu" if clip.quick_gelu else "gelu"
    else:
        act = "gelu"
        warnings.append("vision activation not given (no model_cfg.quick_gelu in an --open-clip-config, no "
                        "--vision-act): assumed GELU, open_clip's default for ViT-B-16")
    vision = VisionConfig(image_size=grid * patch, patch_size=patch, width=v_width,
                          layers=_count_layers(vision_tensors, "visual.transformer.resblocks."),
                          heads=v_width // head_width, mlp_width=fc_width, embed_dim=embed_dim, act=act)

    # projector, against both
    hidden, fc1_in = _need(lm_tensors, "prefix.fc1.weight", lm_source, 2)
    fc2_out, _ = _need(lm_tensors, "prefix.fc2.weight", lm_source, 2)
    if cfg.embed_dim != embed_dim:
        raise SourceError(f"{cfg.path}: embed_dim is {cfg.embed_dim} but the vision tower in {vision_source} "
                          f"projects to {embed_dim}")
    if fc1_in != embed_dim:
        raise SourceError(f"{lm_source}: prefix.fc1.weight takes {fc1_in}-wide image embeddings but the vision "
                          f"tower in {vision_source} projects to {embed_dim}")
    if fc2_out != cfg.prefix_tokens * width:
        raise SourceError(f"{lm_source}: prefix.fc2.weight has {fc2_out} outputs; prefix_tokens ({cfg.prefix_tokens}) "
                          f"× GPT-2 width ({width}) = {cfg.prefix_tokens * width} expected")
    return CaptionerConfig(vision=vision, gpt2=gpt2, prefix_tokens=cfg.prefix_tokens, projector_hidden=hidden)


# ---------------------------------------------------------------------------------------------


@dataclass
class Sources:
    checkpoint: str
    config: str
    open_clip_checkpoint: str = None  # None when the vision tower comes from the captioner (--vision-prefix)
    open_clip_config: str = None
    vision_prefix: str = None
    vision_act: str = None
    trust_pickles: bool = False


def load_captioner(src: Sources, warnings: list):
    """The released files → (Captioner in eval mode, parsed captioner json, parsed open_clip json or None)."""
    cfg = parse_captioner_json(src.config)
    clip = parse_open_clip_json(src.open_clip_config) if src.open_clip_config else None
    if bool(src.vision_prefix) == bool(src.open_clip_checkpoint):
        raise SourceError("give the vision tower either as --open-clip-checkpoint or as --vision-prefix "
                          "(its keys inside the captioner checkpoint), not both or neither")
    lm, vision = split_captioner(load_tensors(src.checkpoint, "captioner checkpoint", "model", src.trust_pickles),
                                 src.checkpoint, src.vision_prefix)
    vision_source = src.checkpoint
    if src.open_clip_checkpoint:
        vision_source = src.open_clip_checkpoint
        vision = vision_from_open_clip(
            load_tensors(src.open_clip_checkpoint, "open_clip checkpoint", "state_dict", src.trust_pickles),
            src.open_clip_checkpoint)
    config = infer_config(lm, vision, cfg, clip, src.vision_act, src.checkpoint, vision_source, warnings)
    model = Captioner(config).eval()
    expected = model.state_dict()
    reports = [compare_keys({k: v for k, v in expected.items() if not k.startswith("visual.")}, lm, src.checkpoint),
               compare_keys({k: v for k, v in expected.items() if k.startswith("visual.")}, vision, vision_source)]
    problems = [p for r in reports for p in r.problems()]
    if reports[0].unexpected and any(".conv1." in k or "visual" in k for k in reports[0].unexpected):
        problems.append("the captioner checkpoint seems to hold a vision tower: pass its key prefix as "
                        "--vision-prefix (e.g. 'clip.visual.') to use it instead of --open-clip-checkpoint")
    if problems:
        raise SourceError("the checkpoints do not match the captioner architecture:\n" + "\n".join(problems))
    weights = {**lm, **vision}
    not_float = sorted(k for k, v in weights.items() if not v.is_floating_point())
    if not_float:
        raise SourceError(f"these tensors are not floating point: {', '.join(not_float)}")
    model.load_state_dict({k: v.float() for k, v in weights.items()}, strict=True)
    return model, cfg, clip
