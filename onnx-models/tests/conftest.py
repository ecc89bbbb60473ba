"""Shared fixtures: the committed tiny bundle, and a synthetic release in the author's exact file
layout (captioner .pt as {model, cfg, meta} with LoRA adapters on the last GPT-2 block, its .json,
DermLIP open_clip checkpoint + open_clip_config.json, stage files) built from the tiny preset's
weights."""

import json
import os

import pytest
import torch

from dermcap_export import config_files, lora, random_init

ONNX_MODELS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ONNX_MODELS, "fixtures")
TINY_BUNDLE = os.path.join(FIXTURES, "tiny-bundle")
PARITY = os.path.join(FIXTURES, "parity")
RELEASED_CONFIG = os.path.join(ONNX_MODELS, "release", "final_captioner_gpt2-medium_VisionTransformer.json")


@pytest.fixture(autouse=True)
def seeded_torch():
    """Random test inputs are the same on every run."""
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def tiny_gpt2_size(monkeypatch):
    """The tiny preset's GPT-2 as a known size, so a synthetic release can name it."""
    monkeypatch.setitem(config_files.GPT2_SIZES, "gpt2-tiny", (16, 2, 2))


# The synthetic adapters: a rank and alpha of their own (scale 2), so a test sees both were read.
LORA_R, LORA_ALPHA = 4, 8


def with_adapters(captioner, block, seed=1, r=LORA_R, std=0.2):
    """The four wrapped layers of `block` as training leaves them: base.weight/base.bias (the
    layer's weights) and non-zero A [r, in], B [out, r]. Returns the adapters by layer prefix."""
    gen = torch.Generator().manual_seed(seed)
    adapters = {}
    for name in lora.WRAPPED_LAYERS:
        prefix = f"gpt2.transformer.h.{block}.{name}"
        weight, bias = captioner.pop(f"{prefix}.weight"), captioner.pop(f"{prefix}.bias")
        a = torch.randn(r, weight.shape[0], generator=gen) * std
        b = torch.randn(weight.shape[1], r, generator=gen) * std
        captioner.update({f"{prefix}.base.weight": weight, f"{prefix}.base.bias": bias,
                          f"{prefix}.A.weight": a, f"{prefix}.B.weight": b})
        adapters[prefix] = (weight, bias, a, b)
    return adapters


def merged_model(model, adapters):
    """The model with each adapted layer's weight W + (alpha/r)·(B·A)ᵀ, computed as the exporter
    documents it (float64, then float32)."""
    merged = random_init.build("tiny", 3)
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    for prefix, (weight, _, a, b) in adapters.items():
        scale = LORA_ALPHA / LORA_R
        sd[f"{prefix}.weight"] = (weight.double() + scale * (b.double() @ a.double()).T).float()
    merged.load_state_dict(sd)
    return merged.eval()


def training_cfg():
    """The training config the author saves under "cfg" (the keys the exporter reads, and others)."""
    return {"lora_r": LORA_R, "lora_alpha": LORA_ALPHA, "lora_dropout": 0.05, "unfreeze_last_k_layers_A": 0,
            "unfreeze_last_k_layers_B": 1, "gen_max_new": 80, "gen_beams": 4}


def released_layout(model):
    """The tiny model's weights split and named as the release stores them."""
    sd = model.state_dict()
    captioner = {k: v.clone() for k, v in sd.items() if not k.startswith("visual.")}
    captioner["gpt2.lm_head.weight"] = sd["gpt2.transformer.wte.weight"].clone()  # tied, saved twice
    for i in range(model.cfg.gpt2.layers):  # buffers older transformers versions saved
        captioner[f"gpt2.transformer.h.{i}.attn.bias"] = torch.tril(torch.ones(1, 1, 1024, 1024)).bool()[..., :8, :8]
        captioner[f"gpt2.transformer.h.{i}.attn.masked_bias"] = torch.tensor(-1e4)
    open_clip = {k: v.clone() for k, v in sd.items() if k.startswith("visual.")}
    open_clip.update({  # the text tower and scale of a CLIP checkpoint, ignored by the exporter
        "token_embedding.weight": torch.zeros(10, 8), "positional_embedding": torch.zeros(7, 8),
        "transformer.resblocks.0.attn.in_proj_weight": torch.zeros(24, 8),
        "ln_final.weight": torch.ones(8), "text_projection": torch.zeros(8, 32), "logit_scale": torch.tensor(4.6)})
    return captioner, open_clip


@pytest.fixture
def release(tmp_path):
    """Paths of a synthetic release: vision MLP with QuickGELU (from open_clip_config.json) and a
    mean/std of its own, so the test can see both were read."""
    base = random_init.build("tiny", 3)
    with torch.no_grad():  # logits of GPT-2's size (the tiny preset sharpens them to ±700), so logit parity
        base.gpt2.transformer.ln_f.weight.mul_(0.01)  # within 1e-4 is a float32 check, not float noise
    captioner, open_clip = released_layout(base)
    adapters = with_adapters(captioner, base.cfg.gpt2.layers - 1)
    model = merged_model(base, adapters)
    paths = {
        "checkpoint": tmp_path / "final_captioner_gpt2-tiny_VisionTransformer.pt",
        "config": tmp_path / "final_captioner_gpt2-tiny_VisionTransformer.json",
        "open_clip_checkpoint": tmp_path / "open_clip_pytorch_model.bin",
        "open_clip_config": tmp_path / "open_clip_config.json",
        "stage_a": tmp_path / "best_stageA.pt",
        "stage_b": tmp_path / "best_stageB.pt",
    }
    with open(RELEASED_CONFIG) as f:
        config = json.load(f)
    config.update(gpt2_name="gpt2-tiny", embed_dim=32)
    meta = {k: v for k, v in config.items() if k != "columns"}
    torch.save({"model": captioner, "cfg": training_cfg(), "meta": meta}, paths["checkpoint"])
    paths["config"].write_text(json.dumps(config))
    torch.save(open_clip, paths["open_clip_checkpoint"])
    paths["open_clip_config"].write_text(json.dumps({
        "model_cfg": {"embed_dim": 32, "quick_gelu": True,
                      "vision_cfg": {"image_size": 224, "layers": 2, "width": 32, "patch_size": 16, "head_width": 16},
                      "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 8, "heads": 1, "layers": 1}},
        "preprocess_cfg": {"mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25], "interpolation": "bicubic",
                           "resize_mode": "shortest"}}))
    paths["stage_a"].write_bytes(b"stage A weights")
    paths["stage_b"].write_bytes(b"stage B weights")
    paths = {k: str(v) for k, v in paths.items()}
    paths["model"] = model          # what the export must equal: adapters merged
    paths["base_model"] = base      # the adapted layers hold their base weights
    paths["adapters"] = adapters    # {layer prefix: (base weight, base bias, A, B)}
    paths["state_dict"] = captioner
    return paths
