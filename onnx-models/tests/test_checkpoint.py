"""Each kind of bad input gets its own precise message and exit status 2, nothing is loaded
half-way, and the tolerated variants of the released layout load."""

import json
import struct

import pytest
import torch

from conftest import released_layout, training_cfg
from dermcap_export import __main__ as cli
from dermcap_export import random_init
from dermcap_export.checkpoint import Sources, load_captioner
from dermcap_export.errors import SourceError
from dermcap_export.key_report import summarise_keys
from dermcap_export.safetensors_reader import read_safetensors


def sources(release, **changes):
    given = dict(checkpoint=release["checkpoint"], config=release["config"],
                 open_clip_checkpoint=release["open_clip_checkpoint"], open_clip_config=release["open_clip_config"])
    given.update(changes)
    return Sources(**given)


def load(release, **changes):
    return load_captioner(sources(release, **changes), [])


def rewrite_checkpoint(release, edit, wrapper="model"):
    """The release's captioner state dict, edited, saved as the author does (or bare)."""
    captioner = dict(release["state_dict"])
    edit(captioner)
    torch.save({wrapper: captioner, "cfg": training_cfg()} if wrapper else captioner, release["checkpoint"])


def rewrite_json(path, edit):
    with open(path) as f:
        data = json.load(f)
    edit(data)
    with open(path, "w") as f:
        json.dump(data, f)


def test_the_release_loads_with_its_weights(release):
    model, cfg, clip, _ = load(release)
    for key, value in release["model"].state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    assert cfg.gpt2_name == "gpt2-tiny" and clip.quick_gelu is True


def test_state_dict_at_the_top_level_also_loads(release):
    rewrite_checkpoint(release, lambda sd: None, wrapper=None)
    model, _, _, _ = load(release)
    assert torch.equal(model.state_dict()["prefix.alpha"], release["model"].state_dict()["prefix.alpha"])


def test_alpha_of_shape_one_and_a_head_without_copy_load(release):
    def edit(sd):
        sd["prefix.alpha"] = sd["prefix.alpha"].reshape(1)
        del sd["gpt2.lm_head.weight"]
    rewrite_checkpoint(release, edit)
    load(release)


def test_missing_file(release):
    with pytest.raises(SourceError, match=r"captioner checkpoint /nowhere/x.pt: no such file"):
        load(release, checkpoint="/nowhere/x.pt")


def test_missing_keys_are_listed_per_layer(release):
    def edit(sd):
        for i in range(2):
            del sd[f"gpt2.transformer.h.{i}.ln_2.weight"]
        del sd["prefix.ln.bias"]
    rewrite_checkpoint(release, edit)
    with pytest.raises(SourceError) as e:
        load(release)
    message = str(e.value)
    assert "3 missing keys:" in message
    assert "gpt2.transformer.h.{0-1}.ln_2.weight" in message and "prefix.ln.bias" in message
    assert release["checkpoint"] in message


def test_unexpected_keys_are_listed(release):
    def edit(sd):
        sd["gpt2.transformer.h.0.attn.q_norm.weight"] = torch.ones(16)
        sd["optimizer_step"] = torch.tensor(7)
    rewrite_checkpoint(release, edit)
    with pytest.raises(SourceError, match=r"2 unexpected keys:\n    gpt2.transformer.h.\{0\}.attn.q_norm.weight\n"
                                          r"    optimizer_step"):
        load(release)


def test_shape_mismatch_is_reported_with_both_shapes(release):
    rewrite_checkpoint(release, lambda sd: sd.update({"gpt2.transformer.h.0.attn.c_proj.weight": torch.zeros(16, 17)}))
    with pytest.raises(SourceError, match=r"1 shape mismatches:\n    gpt2.transformer.h.0.attn.c_proj.weight: "
                                          r"file \[16, 17\], model \[16, 16\]"):
        load(release)


def test_transposed_conv1d_weights_are_a_shape_mismatch(release):
    # A checkpoint saved with nn.Linear [out, in] weights instead of GPT-2's Conv1D [in, out]
    rewrite_checkpoint(release, lambda sd: sd.update(
        {"gpt2.transformer.h.0.attn.c_attn.weight": sd["gpt2.transformer.h.0.attn.c_attn.weight"].t().contiguous()}))
    with pytest.raises(SourceError, match=r"c_attn.weight: file \[48, 16\], model \[16, 48\]"):
        load(release)


def test_untied_head_is_refused(release):
    rewrite_checkpoint(release, lambda sd: sd["gpt2.lm_head.weight"].add_(1.0))
    with pytest.raises(SourceError, match="lm_head.weight differs from gpt2.transformer.wte.weight"):
        load(release)


def test_entries_that_are_not_tensors_are_named(release):
    captioner, _ = released_layout(release["model"])
    captioner["config"] = {"name": "gpt2-medium"}
    torch.save(captioner, release["checkpoint"])
    with pytest.raises(SourceError, match="these entries are not tensors: config"):
        load(release)


class Pickled:
    pass


def test_pickled_objects_need_trust(release):
    torch.save({"model": {"x": torch.zeros(1)}, "extra": Pickled()}, release["checkpoint"])
    with pytest.raises(SourceError, match=r"refused to unpickle it \(the file refers to test_checkpoint.Pickled, which "
                                          r"is not tensor data\).* pass --trust-pickles"):
        load(release)


def test_damaged_file(release):
    with open(release["checkpoint"], "wb") as f:
        f.write(b"PK\x03\x04 not a zip")
    with pytest.raises(SourceError, match="torch.load failed"):
        load(release)


def test_config_that_is_not_the_captioner_config(release):
    with pytest.raises(SourceError, match=r"not the captioner config \(it looks like an open_clip_config.json\): "
                                          r"missing gpt2_name, prefix_tokens, embed_dim, prompt"):
        load(release, config=release["open_clip_config"])


def test_captioner_config_given_as_open_clip_config(release):
    with pytest.raises(SourceError, match="this is the captioner config; pass it as --config"):
        load(release, open_clip_config=release["config"])


@pytest.mark.parametrize("edit, message", [
    (lambda c: c.update(prefix_tokens="32"), "prefix_tokens must be int, found '32'"),
    (lambda c: c.update(prefix_tokens=0), "prefix_tokens must be >= 1, found 0"),
    (lambda c: c.update(gpt2_name="llama-3"), "gpt2_name 'llama-3' is not a GPT-2 size"),
    (lambda c: c.update(clip_arch="ResNet50"), "clip_arch is 'ResNet50'; this exporter implements 'VisionTransformer'"),
    (lambda c: c.update(prompt="  "), "prompt is empty"),
    (lambda c: c.update(num_beams=0), "invalid generation settings: num_beams must be >= 1"),
    (lambda c: c.update(generation={"top_p": 0.9}), "unknown generation settings top_p"),
])
def test_invalid_captioner_config(release, edit, message):
    rewrite_json(release["config"], edit)
    with pytest.raises(SourceError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load(release)


def test_config_not_json(release):
    with open(release["config"], "w") as f:
        f.write("{gpt2_name: ")
    with pytest.raises(SourceError, match="not valid JSON"):
        load(release)


def test_gpt2_size_must_match_the_config(release):
    rewrite_json(release["config"], lambda c: c.update(gpt2_name="gpt2-medium"))
    with pytest.raises(SourceError, match=r"says gpt2_name=gpt2-medium \(1024 wide, 24 layers\) but .* holds "
                                          r"16-wide, 2-layer GPT-2 weights"):
        load(release)


def test_prefix_tokens_must_match_the_projector(release):
    rewrite_json(release["config"], lambda c: c.update(prefix_tokens=10))
    with pytest.raises(SourceError, match=r"prefix.fc2.weight has 512 outputs; prefix_tokens \(10\) × GPT-2 width "
                                          r"\(16\) = 160 expected"):
        load(release)


def test_embed_dim_must_match_the_vision_tower(release):
    rewrite_json(release["config"], lambda c: c.update(embed_dim=512))
    with pytest.raises(SourceError, match="embed_dim is 512 but the vision tower .* projects to 32"):
        load(release)


def test_open_clip_config_must_match_the_weights(release):
    rewrite_json(release["open_clip_config"], lambda c: c["model_cfg"]["vision_cfg"].update(layers=12))
    with pytest.raises(SourceError, match="vision_cfg.layers is 12 but .* holds 2"):
        load(release)


def test_open_clip_preprocessing_must_be_what_the_bundle_implements(release):
    rewrite_json(release["open_clip_config"], lambda c: c["preprocess_cfg"].update(resize_mode="squash"))
    with pytest.raises(SourceError, match="preprocess_cfg.resize_mode is 'squash'; the bundle contract implements 'shortest'"):
        load(release)


def test_open_clip_checkpoint_without_a_vision_tower(release):
    torch.save({"token_embedding.weight": torch.zeros(3, 3)}, release["open_clip_checkpoint"])
    with pytest.raises(SourceError, match=r"no visual.\* keys: not an open_clip CLIP checkpoint \(top-level "
                                          r"prefixes: token_embedding\)"):
        load(release)


def test_open_clip_vision_tower_is_read_strictly(release):
    _, open_clip = released_layout(release["model"])
    open_clip["visual.transformer.resblocks.0.ls_1.gamma"] = torch.ones(32)  # layer scale: not ours
    torch.save({"state_dict": {"module." + k: v for k, v in open_clip.items()}}, release["open_clip_checkpoint"])
    with pytest.raises(SourceError, match=r"open_clip_pytorch_model.bin: 1 unexpected keys:\n    "
                                          r"visual.transformer.resblocks.\{0\}.ls_1.gamma"):
        load(release)


def test_open_clip_training_checkpoint_layout_loads(release):
    _, open_clip = released_layout(release["model"])
    torch.save({"epoch": 3, "state_dict": {"module." + k: v for k, v in open_clip.items()}},
               release["open_clip_checkpoint"])
    load(release, open_clip_checkpoint=release["open_clip_checkpoint"])


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, t in tensors.items():
        data = t.contiguous().numpy().tobytes()
        header[name] = {"dtype": {torch.float32: "F32", torch.float16: "F16"}[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    encoded = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)) + encoded + b"".join(blobs))


def test_safetensors_open_clip_weights_load_and_half_precision_is_widened(release, tmp_path):
    _, open_clip = released_layout(release["model"])
    path = str(tmp_path / "open_clip_model.safetensors")
    write_safetensors(path, {k: v.half() if k == "visual.proj" else v.float() for k, v in open_clip.items()})
    assert read_safetensors(path)["visual.proj"].dtype == torch.float16
    model, _, _, _ = load(release, open_clip_checkpoint=path)
    assert torch.equal(model.visual.proj, release["model"].visual.proj.half().float())


def test_vision_tower_inside_the_captioner_checkpoint(release):
    def edit(sd):
        sd.update({"clip.visual." + k[len("visual."):]: v for k, v in release["model"].state_dict().items()
                   if k.startswith("visual.")})
    rewrite_checkpoint(release, edit)
    with pytest.raises(SourceError, match="seems to hold a vision tower: pass its key prefix as --vision-prefix"):
        load(release)
    model, _, _, _ = load(release, open_clip_checkpoint=None, vision_prefix="clip.visual.")
    assert torch.equal(model.visual.conv1.weight, release["model"].visual.conv1.weight)
    with pytest.raises(SourceError, match="either as --open-clip-checkpoint or as --vision-prefix"):
        load(release, vision_prefix="clip.visual.")


def test_vision_activation_not_given_is_assumed_and_said(release):
    rewrite_json(release["open_clip_config"], lambda c: c["model_cfg"].pop("quick_gelu"))
    warnings = []
    model, _, _, _ = load_captioner(sources(release), warnings)
    assert model.cfg.vision.act == "gelu"
    assert warnings == ["vision activation not given (no model_cfg.quick_gelu in an --open-clip-config, no "
                        "--vision-act): assumed GELU, open_clip's default for ViT-B-16"]
    model, _, _, _ = load_captioner(sources(release, vision_act="quick_gelu"), warnings)
    assert model.cfg.vision.act == "quick_gelu"


def test_head_width_defaults_to_open_clips(release):
    with pytest.raises(SourceError, match=r"width 32 is not a multiple of head_width 64 \(open_clip's default; "
                                          r"give --open-clip-config with vision_cfg.head_width\)"):
        load(release, open_clip_config=None)


def test_summarised_keys_collapse_layer_ranges():
    keys = [f"gpt2.transformer.h.{i}.ln_1.weight" for i in (0, 1, 2, 5, 7, 8)] + ["prefix.alpha"]
    assert summarise_keys(keys) == "\n    gpt2.transformer.h.{0-2,5,7-8}.ln_1.weight\n    prefix.alpha"


def test_cli_reports_errors_with_status_2(release, tmp_path, capsys):
    assert cli.main(["export", "--checkpoint", release["checkpoint"], "--out", str(tmp_path / "b")]) == 2
    assert capsys.readouterr().err == ("error: missing --config, --open-clip-checkpoint (or --vision-prefix)\n")
    assert cli.main(["export", "--random-init", "tiny", "--checkpoint", release["checkpoint"],
                     "--out", str(tmp_path / "b")]) == 2
    assert "--random-init builds its own weights" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("args, message", [
    (["--created", "30.8.2025"], "--created must look like 2025-08-30T00:00:00Z"),
    (["--seed", "-1"], "--seed must be in 0 .. 2^32-1"),
])
def test_cli_checks_export_options(tmp_path, capsys, args, message):
    assert cli.main(["export", "--random-init", "tiny", "--out", str(tmp_path / "b"), *args]) == 2
    assert message in capsys.readouterr().err


def test_cli_refuses_to_overwrite_a_bundle(tmp_path, capsys):
    out = tmp_path / "b"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    assert cli.main(["export", "--random-init", "tiny", "--out", str(out)]) == 2
    assert "exists and is not an empty folder; pass --force" in capsys.readouterr().err
    assert (out / "keep.txt").exists()


def test_failed_export_leaves_no_scratch_folder(release, tmp_path):
    rewrite_checkpoint(release, lambda sd: sd.pop("prefix.ln.weight"))
    assert cli.main(["export", "--checkpoint", release["checkpoint"], "--config", release["config"],
                     "--open-clip-checkpoint", release["open_clip_checkpoint"], "--out", str(tmp_path / "b")]) == 2
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".dermcap-export")] == []


def test_random_tiny_weights_are_what_the_release_loader_builds(release):
    """The synthetic release is tiny-preset weights: loading it gives the same model architecture."""
    model, _, _, _ = load(release, vision_act="gelu")
    assert model.cfg == random_init.PRESETS["tiny"]
