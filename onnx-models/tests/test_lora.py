"""The author's release exports as the model it is: the exported decoder's logits equal a torch
forward of the *unmerged* adapter model (base + B·A·scale) on a prefill and three cached steps;
with --like-inference-min, those of a model whose adapted layers hold gpt2-medium's own weights.
Adapters that are incomplete, or without a base, are errors that name the keys."""

import json

import pytest
import torch

from conftest import LORA_ALPHA, LORA_R
from dermcap_export import __main__ as cli
from dermcap_export import lora, random_init
from dermcap_export.checkpoint import Sources, load_captioner
from dermcap_export.errors import SourceError
from onnx_lm import OnnxLM
from test_checkpoint import load, rewrite_checkpoint, write_safetensors

TOLERANCE = 1e-4


class LoraConv1D(torch.nn.Module):
    """The training module's eval-mode forward: base(x) + B(A(x)) * scale, unmerged."""

    def __init__(self, weight, bias, a, b, scale):
        super().__init__()
        self.weight, self.bias, self.a, self.b, self.scale = weight, bias, a, b, scale

    def forward(self, x):
        return x @ self.weight + self.bias + (x @ self.a.T) @ self.b.T * self.scale


def with_layers(model, replace):
    """A copy of `model` whose adapted layers are replace(prefix, module)."""
    copy = random_init.build("tiny", 3).eval()
    copy.load_state_dict(model.state_dict())
    for prefix in lora.WRAPPED_LAYERS:
        parent_name, name = prefix.split(".")
        parent = getattr(copy.gpt2.transformer.h[-1], parent_name)
        setattr(parent, name, replace(f"gpt2.transformer.h.{len(copy.gpt2.transformer.h) - 1}.{prefix}"))
    return copy


def export(release, tmp_path, *extra):
    out = tmp_path / "bundle"
    code = cli.main(["export", "--checkpoint", release["checkpoint"], "--config", release["config"],
                     "--open-clip-checkpoint", release["open_clip_checkpoint"],
                     "--open-clip-config", release["open_clip_config"], "--out", str(out),
                     "--created", "2025-09-01T12:00:00Z", *extra])
    assert code == 0
    with open(out / "manifest.json") as f:
        return str(out), json.load(f)


def prefill_and_three_steps(lm, inputs_embeds, tokens):
    """Logits of a prefill and of three cached one-token steps (positions after the prefill)."""
    n, length = inputs_embeds.shape[:2]
    logits, past = lm(inputs_embeds, torch.ones(n, length, dtype=torch.long),
                      torch.arange(length).expand(n, -1), lm.empty_past(n))
    out = [logits]
    for step, token in enumerate(tokens):
        total = length + step + 1
        logits, past = lm(lm.embed(torch.full((n, 1), token)), torch.ones(n, total, dtype=torch.long),
                          torch.full((n, 1), total - 1), past)
        out.append(logits)
    return torch.cat(out, dim=1)


def assert_decoder_matches(bundle, manifest, reference):
    torch.manual_seed(5)
    embeds = 0.05 * torch.randn(2, 7, reference.cfg.gpt2.hidden_size)  # GPT-2-sized embeddings
    with torch.no_grad():
        expected = prefill_and_three_steps(reference.gpt2, embeds, [11, 500, 3])
    got = prefill_and_three_steps(OnnxLM(bundle, manifest), embeds, [11, 500, 3])
    assert got.shape == expected.shape == (2, 4, reference.cfg.gpt2.vocab_size)
    worst = (got - expected).abs().max().item()
    print(f"decoder vs torch: worst |logit difference| {worst:.2e} over logits up to {expected.abs().max().item():.1f}")
    assert worst < TOLERANCE
    return expected


def test_the_release_exports_with_its_adapters_merged(release, tmp_path):
    bundle, manifest = export(release, tmp_path)
    assert manifest["lineage"]["weights"] == {
        "stage": "final", "evidence": "the checkpoint holds meta (the final release's layout)",
        "lora": {"mode": "merged", "layers": [f"transformer.h.1.{n}" for n in sorted(lora.WRAPPED_LAYERS)],
                 "r": LORA_R, "alpha": LORA_ALPHA, "scale": LORA_ALPHA / LORA_R,
                 "scale_source": "alpha = checkpoint cfg['lora_alpha'], r from the adapter shapes"}}
    assert manifest["generation"]["default_profile"] == "published"
    scale = LORA_ALPHA / LORA_R
    unmerged = with_layers(release["base_model"], lambda p: LoraConv1D(*release["adapters"][p], scale))
    expected = assert_decoder_matches(bundle, manifest, unmerged)
    # the adapters matter: without them the logits are far off
    with torch.no_grad():
        torch.manual_seed(5)
        embeds = 0.05 * torch.randn(2, 7, unmerged.cfg.gpt2.hidden_size)
        plain = prefill_and_three_steps(release["base_model"].gpt2, embeds, [11, 500, 3])
    assert (plain - expected).abs().max().item() > 100 * TOLERANCE


def gpt2_base(release, tmp_path, kind):
    """gpt2-medium's own weights as its files store them (no transformer. prefix), differing from
    the checkpoint's trained base in the adapted layers."""
    torch.manual_seed(9)
    original = {}
    for prefix, (weight, bias, _, _) in release["adapters"].items():
        short = prefix[len("gpt2.transformer."):]
        original[f"{short}.weight"], original[f"{short}.bias"] = 0.2 * torch.randn_like(weight), 0.02 * torch.randn_like(bias)
    original["wte.weight"] = torch.zeros(3, 3)  # the rest of gpt2-medium, ignored
    if kind == "safetensors":
        path = str(tmp_path / "model.safetensors")
        write_safetensors(path, original)
    else:
        path = str(tmp_path / "pytorch_model.bin")
        torch.save(original, path)
    return path, original


@pytest.mark.parametrize("kind", ["safetensors", "bin"])
def test_like_inference_min_runs_the_original_gpt2_weights_in_the_adapted_layers(release, tmp_path, kind):
    path, original = gpt2_base(release, tmp_path, kind)
    bundle, manifest = export(release, tmp_path, "--like-inference-min", "--gpt2-base", path)
    assert manifest["lineage"]["weights"]["lora"]["mode"] == "like-inference-min"
    assert manifest["generation"]["default_profile"] == "card"  # the profile of the script that runs these weights
    assert manifest["lineage"]["gpt2_base"]["file"] == path.split("/")[-1]

    def original_layer(prefix):
        short = prefix[len("gpt2.transformer."):]
        layer = LoraConv1D(original[f"{short}.weight"], original[f"{short}.bias"],
                           torch.zeros(1, original[f"{short}.weight"].shape[0]),
                           torch.zeros(original[f"{short}.weight"].shape[1], 1), 0.0)
        return layer
    assert_decoder_matches(bundle, manifest, with_layers(release["base_model"], original_layer))


def test_like_inference_min_without_gpt2_base_is_refused_with_the_reason(release, tmp_path, capsys):
    assert cli.main(["export", "--checkpoint", release["checkpoint"], "--config", release["config"],
                     "--open-clip-checkpoint", release["open_clip_checkpoint"], "--like-inference-min",
                     "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert "--like-inference-min needs --gpt2-base" in err and "original gpt2-medium weights" in err


def test_a_block_with_adapters_on_some_layers_only_names_the_missing_keys(release):
    def edit(sd):
        for part in lora.PARTS:
            sd.pop(f"gpt2.transformer.h.1.mlp.c_proj.{part}")
        sd["gpt2.transformer.h.1.mlp.c_proj.weight"] = torch.zeros(64, 16)
        sd["gpt2.transformer.h.1.mlp.c_proj.bias"] = torch.zeros(16)
    rewrite_checkpoint(release, edit)
    with pytest.raises(SourceError, match=r"block h.1 has adapters on attn.c_attn, attn.c_proj, mlp.c_fc but not on "
                                          r"the other wrapped layers: missing gpt2.transformer.h.1.mlp.c_proj"):
        load(release)


def test_adapters_without_a_base_name_the_keys(release):
    rewrite_checkpoint(release, lambda sd: sd.pop("gpt2.transformer.h.1.attn.c_attn.base.weight"))
    with pytest.raises(SourceError, match=r"gpt2.transformer.h.1.attn.c_attn: adapters without a base: missing "
                                          r"gpt2.transformer.h.1.attn.c_attn.base.weight"):
        load(release)


def test_adapter_shapes_are_checked(release):
    rewrite_checkpoint(release, lambda sd: sd.update({"gpt2.transformer.h.1.mlp.c_fc.B.weight": torch.zeros(64, 3)}))
    with pytest.raises(SourceError, match=r"h.1.mlp.c_fc: adapter shapes do not fit .*B.weight \[64, 3\]"):
        load(release)


def test_adapters_in_an_earlier_block_merge_too(release):
    """Training with unfreeze_last_k_layers = 2 wraps two blocks: the count follows the checkpoint."""
    from conftest import with_adapters
    captioner = dict(release["state_dict"])
    with_adapters(captioner, 0, seed=4)
    torch.save({"model": captioner, "cfg": {"lora_alpha": LORA_ALPHA}}, release["checkpoint"])
    _, _, _, lineage = load(release)
    assert lineage["lora"]["layers"][0].startswith("transformer.h.0.") and len(lineage["lora"]["layers"]) == 8


def test_without_alpha_in_cfg_the_scale_is_one_and_said(release):
    torch.save({"model": release["state_dict"], "cfg": {"lr": 1e-4}}, release["checkpoint"])
    warnings = []
    _, _, _, lineage = load_captioner(Sources(release["checkpoint"], release["config"], release["open_clip_checkpoint"],
                                              release["open_clip_config"]), warnings)
    assert lineage["lora"]["alpha"] == LORA_R and lineage["lora"]["scale"] == 1.0
    assert "alpha = r assumed" in lineage["lora"]["scale_source"] and any("LoRA scale 1.0" in w for w in warnings)


def test_stage_checkpoint_exports_and_says_its_stage(release, tmp_path):
    stage_b = tmp_path / "best_stageB.pt"
    torch.save({"model": release["state_dict"], "cfg": {"lora_alpha": LORA_ALPHA}}, stage_b)
    release = {**release, "checkpoint": str(stage_b)}
    _, manifest = export(release, tmp_path)
    lineage = manifest["lineage"]
    assert lineage["weights"]["stage"] == "B" and "best_stageB.pt" in lineage["weights"]["evidence"]
    assert lineage["checkpoint"]["published_sha256_prefix"] == "69bded2dcad1"
