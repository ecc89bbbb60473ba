"""Shared fixtures: the committed tiny bundle, and a synthetic release in the released file layout
(captioner .pt + .json, DermLIP open_clip checkpoint + open_clip_config.json, stage files) built
from the tiny preset's weights."""

import json
import os

import pytest
import torch

from dermcap_export import checkpoint, random_init

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
    monkeypatch.setitem(checkpoint.GPT2_SIZES, "gpt2-tiny", (16, 2, 2))


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
    model = random_init.build("tiny", 3)
    captioner, open_clip = released_layout(model)
    paths = {
        "checkpoint": tmp_path / "final_captioner_gpt2-tiny_VisionTransformer.pt",
        "config": tmp_path / "final_captioner_gpt2-tiny_VisionTransformer.json",
        "open_clip_checkpoint": tmp_path / "open_clip_pytorch_model.bin",
        "open_clip_config": tmp_path / "open_clip_config.json",
        "stage_a": tmp_path / "best_stageA.pt",
        "stage_b": tmp_path / "best_stageB.pt",
    }
    torch.save({"model": captioner, "epoch": torch.tensor(3)}, paths["checkpoint"])
    with open(RELEASED_CONFIG) as f:
        config = json.load(f)
    config.update(gpt2_name="gpt2-tiny", embed_dim=32)
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
    paths["model"] = model
    return paths
