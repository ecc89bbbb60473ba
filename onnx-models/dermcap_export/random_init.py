"""Deterministic random weights with the real architecture: `tiny` for tests and fixtures,
`full` (ViT-B/16 + projector + GPT-2 medium) for benchmarks.

Every tensor is drawn from numpy's legacy RandomState (its streams are frozen by numpy's
compatibility policy), seeded by (seed, crc32 of the parameter name): the same preset and seed
give bit-identical weights on any machine, torch version or construction order, so a torch
reference can be rebuilt from a bundle manifest's `random_init`.
"""

import zlib

import numpy as np
import torch

from .model import Captioner, CaptionerConfig, GPT2Config, VisionConfig

EOS_TOKEN_ID = 50256

PRESETS = {
    # Small widths keep the committed fixtures small (wte appears twice: embed_tokens.onnx and the
    # tied head); vocab, prefix length and image size are the real ones.
    "tiny": CaptionerConfig(
        vision=VisionConfig(image_size=224, patch_size=16, width=32, layers=2, heads=2,
                            mlp_width=128, embed_dim=32, act="gelu"),
        gpt2=GPT2Config(vocab_size=50257, max_positions=1024, hidden_size=16, layers=2, heads=2),
        prefix_tokens=32, projector_hidden=64),
    "full": CaptionerConfig(
        vision=VisionConfig(),  # ViT-B/16: 224, patch 16, width 768, 12 layers, 12 heads, → 512
        gpt2=GPT2Config(),      # GPT-2 medium: 1024 wide, 24 layers, 16 heads
        prefix_tokens=32, projector_hidden=2048),
}

# Standard deviations per parameter kind. `full` uses GPT-2's/CLIP's usual 0.02. `tiny` is scaled
# up so a 16-wide random GPT-2 still depends on its context (large position and attention weights).
_TINY_STD = {"wte": 1.0, "wpe": 1.0, "attn": 0.6, "mlp": 0.4, "vision": 0.2, "prefix": 0.5}
_FULL_STD = {"wte": 0.02, "wpe": 0.01, "attn": 0.02, "mlp": 0.02, "vision": 0.02, "prefix": 0.02}
# `tiny` also scales ln_f (the head is tied to wte, so this sharpens the logits without touching the
# input embeddings): the top continuations are well separated, so fixture decisions have clear
# margins. EOS gets a row along ln_f's bias, so captions end on their own often enough to exercise
# min-new-tokens, finished beams and length normalisation, but not always.
_TINY_LN_F_GAIN = 25.0
_TINY_LN_F_BIAS_GAIN = 10.0
_TINY_EOS_GAIN = 14.0


def _std(name, table):
    if name.startswith("gpt2.transformer.wte"):
        return table["wte"]
    if name.startswith("gpt2.transformer.wpe"):
        return table["wpe"]
    if ".attn." in name and name.startswith("gpt2."):
        return table["attn"]
    if name.startswith("gpt2."):
        return table["mlp"]
    if name.startswith("prefix."):
        return table["prefix"]
    return table["vision"]


def _normal(seed, name, shape, std):
    rng = np.random.RandomState([seed, zlib.crc32(name.encode())])
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32) * np.float32(std))


def build(preset: str, seed: int) -> Captioner:
    if preset not in PRESETS:
        raise ValueError(f"unknown random-init preset {preset!r}; choose one of {sorted(PRESETS)}")
    model = Captioner(PRESETS[preset]).eval()
    table = _TINY_STD if preset == "tiny" else _FULL_STD
    with torch.no_grad():
        for name, p in model.state_dict().items():
            leaf = name.rsplit(".", 1)[-1]
            if name == "prefix.alpha":
                p.fill_(1.0)
            elif name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight", "ln_pre.weight",
                                "ln_post.weight", "prefix.ln.weight")):
                p.copy_(1.0 + 0.1 * _normal(seed, name, tuple(p.shape), 1.0))
            elif leaf == "bias" or name.endswith("in_proj_bias"):
                p.copy_(_normal(seed, name, tuple(p.shape), 0.1 if preset == "tiny" else 0.01))
            else:
                p.copy_(_normal(seed, name, tuple(p.shape), _std(name, table)))
        if preset == "tiny":
            ln_f = model.gpt2.transformer.ln_f
            ln_f.weight.mul_(_TINY_LN_F_GAIN)
            ln_f.bias.mul_(_TINY_LN_F_BIAS_GAIN)
            wte = model.gpt2.transformer.wte.weight
            wte[EOS_TOKEN_ID] = _TINY_EOS_GAIN * ln_f.bias / ln_f.bias.norm()
    return model
