"""The release's LoRA adapters, folded into plain GPT-2 weights.

Training wraps four Conv1D layers of GPT-2's last block(s) (attn.c_attn, attn.c_proj, mlp.c_fc,
mlp.c_proj) so that, in eval mode, y = base(x) + B(A(x)) * scale. The state dict then holds

    <layer>.base.weight [in, out]   <layer>.base.bias [out]   <layer>.A.weight [r, in]   <layer>.B.weight [out, r]

instead of <layer>.weight / <layer>.bias. Merging gives the same function with the plain layout:
W = W_base + scale * (B @ A)^T, bias = base.bias, computed in float64 and cast to float32.

`like_inference_min` rebuilds instead what the model card's inference_min.py runs: it loads the
state dict with strict=False into gpt2-medium, so the adapter keys are ignored and the wrapped
layers keep gpt2-medium's original weights (given as `gpt2_base`).
"""

import re

import torch

from .errors import SourceError

WRAPPED_LAYERS = ("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj")
PARTS = ("base.weight", "base.bias", "A.weight", "B.weight")
_ADAPTER_KEY = re.compile(r"^(gpt2\.transformer\.h\.(\d+)\.(" + "|".join(map(re.escape, WRAPPED_LAYERS))
                          + r"))\.(" + "|".join(map(re.escape, PARTS)) + r")$")
_ALPHA_KEYS = ("lora_alpha", "alpha_lora")  # the training config's name for LoRA's alpha
_R_KEYS = ("lora_r", "lora_rank", "r_lora")


def adapted_layers(tensors: dict) -> dict:
    """{layer prefix: {part: key}} of every wrapped layer in the state dict, checked complete: a
    block has adapters on all four layers or none, and each layer has all four parts."""
    layers, blocks = {}, {}
    for key in tensors:
        m = _ADAPTER_KEY.match(key)
        if m:
            layers.setdefault(m.group(1), {})[m.group(4)] = key
            blocks.setdefault(int(m.group(2)), set()).add(m.group(3))
    problems = []
    for prefix, parts in sorted(layers.items()):
        missing = [f"{prefix}.{p}" for p in PARTS if p not in parts]
        if missing:
            what = "adapters without a base" if "base.weight" in " ".join(missing) else "an incomplete adapter"
            problems.append(f"{prefix}: {what}: missing {', '.join(missing)} (found {', '.join(sorted(parts.values()))})")
        plain = [f"{prefix}.{p}" for p in ("weight", "bias") if f"{prefix}.{p}" in tensors]
        if plain:
            problems.append(f"{prefix}: both plain and adapter keys ({', '.join(plain)} beside {prefix}.base.*): "
                            "which one is the layer is ambiguous")
    for block, wrapped in sorted(blocks.items()):
        if len(wrapped) != len(WRAPPED_LAYERS):
            absent = [f"gpt2.transformer.h.{block}.{name}.{{base.weight,base.bias,A.weight,B.weight}}"
                      for name in WRAPPED_LAYERS if name not in wrapped]
            problems.append(f"block h.{block} has adapters on {', '.join(sorted(wrapped))} but not on the other "
                            f"wrapped layers: missing {', '.join(absent)}")
    if problems:
        raise SourceError("the LoRA adapters in the checkpoint are not complete:\n    " + "\n    ".join(problems))
    return layers


def _rank(tensors, prefix, parts, source):
    """r from the shapes, after checking base [in, out], bias [out], A [r, in], B [out, r]."""
    w, b, a, bb = (tensors[parts[p]] for p in PARTS)
    shapes = ", ".join(f"{parts[p]} {list(tensors[parts[p]].shape)}" for p in PARTS)
    ok = (w.dim() == 2 and b.dim() == 1 and a.dim() == 2 and bb.dim() == 2 and b.shape[0] == w.shape[1]
          and a.shape[1] == w.shape[0] and bb.shape[0] == w.shape[1] and bb.shape[1] == a.shape[0])
    if not ok:
        raise SourceError(f"{source}: {prefix}: adapter shapes do not fit base [in, out], base.bias [out], "
                          f"A [r, in], B [out, r]: {shapes}")
    return a.shape[0]


def _alpha(cfg, r, source):
    """(alpha, where it came from, whether it was assumed). alpha from the checkpoint's training
    config when it has one; otherwise alpha = r, as in the author's training code (r = alpha = 16)."""
    cfg = cfg if isinstance(cfg, dict) else {}
    for key in _R_KEYS:
        if key in cfg and cfg[key] != r:
            raise SourceError(f"{source}: cfg[{key!r}] is {cfg[key]!r} but the adapters' shapes give r = {r}")
    for key in _ALPHA_KEYS:
        if key in cfg:
            alpha = cfg[key]
            if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or alpha <= 0:
                raise SourceError(f"{source}: cfg[{key!r}] must be a positive number, found {alpha!r}")
            return alpha, f"alpha = checkpoint cfg[{key!r}], r from the adapter shapes", False
    where = "has no cfg" if not cfg else f"cfg has no {' or '.join(_ALPHA_KEYS)}"
    return r, f"the checkpoint {where}: alpha = r assumed (the author's training code: r = alpha = 16)", True


def merge(tensors: dict, cfg, source: str, warnings: list):
    """(plain state dict, lineage) with every adapted layer merged; lineage None without adapters."""
    layers = adapted_layers(tensors)
    if not layers:
        return tensors, None
    ranks = {prefix: _rank(tensors, prefix, parts, source) for prefix, parts in layers.items()}
    if len(set(ranks.values())) > 1:
        raise SourceError(f"{source}: the adapters have different ranks ({ranks}); one LoRA config was expected")
    r = next(iter(ranks.values()))
    alpha, scale_source, assumed = _alpha(cfg, r, source)
    scale = alpha / r
    if assumed:
        warnings.append(f"{source}: LoRA scale 1.0: {scale_source}")
    merged = {k: v for k, v in tensors.items() if not _ADAPTER_KEY.match(k)}
    for prefix, parts in layers.items():
        base, a, b = (tensors[parts[p]].double() for p in ("base.weight", "A.weight", "B.weight"))
        merged[f"{prefix}.weight"] = (base + scale * (b @ a).T).float()
        merged[f"{prefix}.bias"] = tensors[parts["base.bias"]].float()
    return merged, {"mode": "merged", "layers": [p[len("gpt2."):] for p in sorted(layers)],
                    "r": r, "alpha": alpha, "scale": scale, "scale_source": scale_source}


def like_inference_min(tensors: dict, gpt2_base: dict, base_source: str, source: str):
    """(plain state dict, lineage): the adapted layers take gpt2-medium's original weights, as
    inference_min.py's strict=False load leaves them; every other weight is the checkpoint's."""
    layers = adapted_layers(tensors)
    if not layers:
        raise SourceError(f"{source}: no LoRA adapters, so --like-inference-min would change nothing: "
                          "inference_min.py loads this checkpoint completely")
    base = {re.sub(r"^(gpt2\.)?(transformer\.)?", "", k): v for k, v in gpt2_base.items()}
    result = {k: v for k, v in tensors.items() if not _ADAPTER_KEY.match(k)}
    for prefix, parts in layers.items():
        _rank(tensors, prefix, parts, source)
        short = prefix[len("gpt2.transformer."):]  # h.23.attn.c_attn, as gpt2-medium's files name it
        for part, trained in (("weight", "base.weight"), ("bias", "base.bias")):
            original = base.get(f"{short}.{part}")
            if original is None:
                raise SourceError(f"{base_source}: no {short}.{part} (nor transformer.{short}.{part}): not a "
                                  "GPT-2 state dict of this size")
            if original.shape != tensors[parts[trained]].shape:
                raise SourceError(f"{base_source}: {short}.{part} has shape {list(original.shape)}, the checkpoint's "
                                  f"{parts[trained]} {list(tensors[parts[trained]].shape)}: not the same GPT-2 size")
            result[f"{prefix}.{part}"] = original.float()
    return result, {"mode": "like-inference-min", "layers": [p[len("gpt2."):] for p in sorted(layers)],
                    "note": "these layers hold the original GPT-2 weights of --gpt2-base; the trained base and "
                            "adapters are ignored, as inference_min.py's load_state_dict(strict=False) ignores them"}
