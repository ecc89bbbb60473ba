"""Exports end to end: the graphs (onnx.checker, the contract's I/O, agreement with torch through a
numpy interpreter of the graphs), external data, determinism, and the manifest (schema, hashes,
lineage, warnings) for a synthetic release in the released file layout."""

import hashlib
import json
import os

import jsonschema
import numpy as np
import onnx
import pytest
import torch

import onnx_numpy
from conftest import ONNX_MODELS
from dermcap_export import __main__ as cli
from dermcap_export import random_init
from dermcap_export.manifest import graphs_section
from dermcap_export.model import Captioner
from dermcap_export.onnx_export import export_graphs

GRAPHS = ("vision_encoder", "embed_tokens", "decoder_model_merged")
with open(os.path.join(ONNX_MODELS, "manifest.schema.json")) as f:
    SCHEMA = json.load(f)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def check_bundle(folder):
    """Schema, onnx.checker, and every hash and I/O signature the service will verify."""
    with open(os.path.join(folder, "manifest.json")) as f:
        manifest = json.load(f)
    jsonschema.Draft202012Validator(SCHEMA).validate(manifest)
    for name in GRAPHS:
        entry = manifest["graphs"][name]
        path = os.path.join(folder, entry["file"])
        onnx.checker.check_model(path)
        assert entry["sha256"] == sha256(path) and entry["bytes"] == os.path.getsize(path)
        for data in entry["external_data"]:
            assert data["sha256"] == sha256(os.path.join(folder, data["file"]))
        graph = onnx.load(path, load_external_data=False)
        assert [i.name for i in graph.graph.input] == [i["name"] for i in entry["inputs"]]
        assert [o.name for o in graph.graph.output] == [o["name"] for o in entry["outputs"]]
    return manifest


def export_tiny(folder, *options):
    out = folder / "bundle"
    assert cli.main(["export", "--random-init", "tiny", "--seed", "0", "--out", str(out),
                     "--created", "2025-08-30T00:00:00Z", *options]) == 0
    return str(out)


@pytest.fixture(scope="module")
def tiny_export(tmp_path_factory):
    return export_tiny(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def tiny_export_f16_cache(tmp_path_factory):
    return export_tiny(tmp_path_factory.mktemp("tiny-f16"), "--kv-cache", "float16")


def test_random_tiny_bundle_has_the_contract(tiny_export):
    m = check_bundle(tiny_export)
    assert m["random_init"] == {"preset": "tiny", "seed": 0}
    assert m["lineage"] == {"checkpoint": None, "config": None, "weights": None, "gpt2_base": None, "stages": [],
                            "vision_weights": None,
                            "base_lm": "gpt2-tiny"}
    dec = m["graphs"]["decoder_model_merged"]
    assert dec["inputs"][:5] == [
        {"name": "inputs_embeds", "type": "float32", "shape": ["batch", "sequence", 16]},
        {"name": "position_ids", "type": "int64", "shape": ["batch", "sequence"]},
        {"name": "seqlens_k", "type": "int32", "shape": ["batch"]},
        {"name": "total_sequence_length", "type": "int32", "shape": [1]},
        {"name": "past_key_values.0.key", "type": "float32", "shape": ["batch", 2, "max_sequence", 8]}]
    assert dec["outputs"][:2] == [
        {"name": "logits", "type": "float32", "shape": ["batch", 1, 50257]},
        {"name": "present.0.key", "type": "float32", "shape": ["batch", 2, "max_sequence", 8]}]
    assert [o["name"] for o in dec["outputs"]][1:] == [
        f"present.{i}.{p}" for i in range(2) for p in ("key", "value")]
    assert m["graphs"]["vision_encoder"]["inputs"] == [
        {"name": "pixel_values", "type": "float32", "shape": ["batch", 3, 224, 224]}]
    assert m["exporter"]["opset"] == 17
    for name in GRAPHS:
        imports = onnx.load(os.path.join(tiny_export, f"{name}.onnx")).opset_import
        # GroupQueryAttention, FastGelu, SkipLayerNormalization
        contrib = [("com.microsoft", 1)] if name == "decoder_model_merged" else []
        assert [(o.domain, o.version) for o in imports] == [("", 17)] + contrib


def test_export_is_deterministic(tiny_export, tmp_path):
    again = tmp_path / "again"
    assert cli.main(["export", "--random-init", "tiny", "--out", str(again), "--created", "2025-08-30T00:00:00Z"]) == 0
    for name in os.listdir(tiny_export):
        with open(os.path.join(tiny_export, name), "rb") as a, open(again / name, "rb") as b:
            assert a.read() == b.read(), name


def test_decoder_adds_each_residual_in_its_layer_norm(tiny_export):
    """A decoding step is hundreds of small operators: each residual sum and the projection's bias
    are added by the SkipLayerNormalization that follows, and ln_f reads only the last positions."""
    graph = onnx.load(os.path.join(tiny_export, "decoder_model_merged.onnx")).graph
    layers = random_init.build("tiny", 0).cfg.gpt2.layers
    ops = [n.op_type for n in graph.node]
    assert ops.count("SkipLayerNormalization") == 2 * layers + 1  # ln_1, ln_2 per block, ln_f
    assert ops.count("LayerNormalization") == 0
    assert ops.count("Add") == layers  # the packed query/key/value bias, which attention takes none of
    producer = {o: n.op_type for n in graph.node for o in n.output if o}
    ln_f = next(n for n in graph.node if n.output[0] == "ln_f")
    assert [producer[i] for i in ln_f.input[:2]] == ["GatherElements", "GatherElements"]


def test_a_float16_cache_changes_only_the_attentions_types(tiny_export, tiny_export_f16_cache):
    """--kv-cache float16: the cache is declared float16 and each attention is wrapped in two casts;
    every other node and every weight is the float32 graph's."""
    f32, f16 = (onnx.load(os.path.join(b, "decoder_model_merged.onnx")).graph
                for b in (tiny_export, tiny_export_f16_cache))
    layers = random_init.build("tiny", 0).cfg.gpt2.layers
    casts = [n for n in f16.node if n.op_type == "Cast" and n.output[0].endswith(".cast")]
    assert len(casts) == 2 * layers
    assert [onnx.helper.get_attribute_value(c.attribute[0]) for c in casts] == [
        onnx.TensorProto.FLOAT16, onnx.TensorProto.FLOAT] * layers
    assert [n.op_type for n in f16.node if n not in casts] == [n.op_type for n in f32.node]
    assert [t.raw_data for t in f16.initializer] == [t.raw_data for t in f32.initializer]
    types = {v.name: v.type.tensor_type.elem_type for v in [*f16.input, *f16.output]}
    assert {n: t for n, t in types.items() if "past" in n or "present" in n} == {
        n: onnx.TensorProto.FLOAT16 for n in types if "past" in n or "present" in n}
    assert types["inputs_embeds"] == types["logits"] == onnx.TensorProto.FLOAT
    m = check_bundle(tiny_export_f16_cache)
    assert m["graphs"]["decoder_model_merged"]["inputs"][4] == {
        "name": "past_key_values.0.key", "type": "float16", "shape": ["batch", 2, "max_sequence", 8]}


CAPACITY = 12


def assert_close(got, want, kv_cache, atol):
    """float32: within rtol 1e-5 and atol. A float16 cache rounds every key and value to 11
    significant bits, and the error grows through the layers: within 1 % of the largest value."""
    if kv_cache == "float32":
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=atol)
    else:
        assert np.abs(got - want).max() <= 1e-2 * np.abs(want).max()


@pytest.mark.parametrize("kv_cache", ["float32", "float16"])
@pytest.mark.parametrize("lengths", [[6], [3, 6, 5]])
def test_decoder_graph_computes_what_torch_computes(request, kv_cache, lengths):
    """A prefill of rows of different lengths (right-padded in the graph's cache, left-padded for
    torch, as Hugging Face batches them), then one decoding step writing into the same buffers."""
    model = random_init.build("tiny", 0)
    cfg = model.cfg.gpt2
    bundle = request.getfixturevalue("tiny_export" if kv_cache == "float32" else "tiny_export_f16_cache")
    graph = onnx.load(os.path.join(bundle, "decoder_model_merged.onnx"))
    batch, longest = len(lengths), max(lengths)
    embeds = torch.randn(batch, longest + 1, cfg.hidden_size)  # the last column is the step's token
    mask = torch.tensor([[0] * (longest - n) + [1] * n for n in lengths])
    left = torch.stack([torch.cat([embeds[r, longest - n:longest].new_zeros(longest - n, cfg.hidden_size),
                                   embeds[r, :n]]) for r, n in enumerate(lengths)])
    positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
    with torch.no_grad():
        logits, present = model.gpt2(left, mask, positions, model.gpt2.empty_past(batch))
        step_mask = torch.cat([mask, torch.ones(batch, 1, dtype=torch.long)], dim=1)
        step_logits, step_present = model.gpt2(embeds[:, longest:], step_mask,
                                               torch.tensor(lengths)[:, None], present)
    names = [f"{i}.{p}" for i in range(cfg.layers) for p in ("key", "value")]
    cache = {f"past_key_values.{n}": np.full((batch, cfg.heads, CAPACITY, cfg.head_dim), np.nan, kv_cache)
             for n in names}
    out = onnx_numpy.run(graph, {"inputs_embeds": embeds[:, :longest].numpy(),
                                 "position_ids": np.tile(np.arange(longest), (batch, 1)),
                                 "seqlens_k": np.array(lengths, np.int32) - 1,
                                 "total_sequence_length": np.array([longest], np.int32), **cache})
    assert_close(out["logits"], logits.numpy(), kv_cache, atol=2e-3)  # logits reach ±700
    assert np.array_equal(out["logits"].argmax(-1), logits.numpy().argmax(-1))
    cache = {f"past_key_values.{n}": out[f"present.{n}"] for n in names}
    step = onnx_numpy.run(graph, {"inputs_embeds": embeds[:, longest:].numpy(),
                                  "position_ids": np.array(lengths)[:, None],
                                  "seqlens_k": np.array(lengths, np.int32),
                                  "total_sequence_length": np.array([longest + 1], np.int32), **cache})
    assert_close(step["logits"], step_logits.numpy(), kv_cache, atol=2e-3)
    assert np.array_equal(step["logits"].argmax(-1), step_logits.numpy().argmax(-1))
    for n, p in zip(names, step_present):
        got = step[f"present.{n}"]
        assert got.shape == (batch, cfg.heads, CAPACITY, cfg.head_dim) and got.dtype == kv_cache
        for r, length in enumerate(lengths):  # row r's valid positions, from 0; the rest never written
            assert_close(got[r, :, :length + 1], p[r, :, longest - length:].numpy(), kv_cache, atol=1e-5)
            assert np.isnan(got[r, :, longest + 1:]).all()


@pytest.mark.parametrize("batch", [1, 3])
def test_vision_and_embedding_graphs_compute_what_torch_computes(tiny_export, batch):
    model = random_init.build("tiny", 0)
    pixels = torch.randn(batch, 3, 224, 224)
    ids = torch.randint(0, 50257, (batch, 5))
    with torch.no_grad():
        prefix, embeds = model.encode_image(pixels), model.gpt2.embed(ids)
    vision = onnx_numpy.run(onnx.load(os.path.join(tiny_export, "vision_encoder.onnx")), {"pixel_values": pixels.numpy()})
    np.testing.assert_allclose(vision["prefix_embeds"], prefix.numpy(), rtol=1e-4, atol=1e-4)
    embed = onnx_numpy.run(onnx.load(os.path.join(tiny_export, "embed_tokens.onnx")), {"input_ids": ids.numpy()})
    assert np.array_equal(embed["inputs_embeds"], embeds.numpy())


def test_a_graph_with_many_weights_goes_to_external_data(tiny_export, tmp_path):
    # The threshold stands in for protobuf's 2 GB, which no test can afford to write.
    written = export_graphs(random_init.build("tiny", 0), str(tmp_path), external_data_threshold=1_000_000)
    assert written["vision_encoder"][1] is None  # 0.4 MB: inline
    path, data = written["decoder_model_merged"]
    assert data == os.path.join(str(tmp_path), "decoder_model_merged.onnx.data") and os.path.getsize(data) > 3_000_000
    assert os.path.getsize(path) < 200_000
    onnx.checker.check_model(path)
    entry = graphs_section(written)["decoder_model_merged"]
    assert entry["external_data"] == [{"file": "decoder_model_merged.onnx.data", "sha256": sha256(data),
                                       "bytes": os.path.getsize(data)}]
    weights = {t.name: onnx.numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}
    inline = onnx.load(os.path.join(tiny_export, "decoder_model_merged.onnx")).graph.initializer
    assert sorted(weights) == sorted(t.name for t in inline)
    for t in inline:
        assert np.array_equal(weights[t.name], onnx.numpy_helper.to_array(t)), t.name


def test_synthetic_release_exports_end_to_end(release, tmp_path, capsys):
    out = tmp_path / "bundle"
    code = cli.main(["export", "--checkpoint", release["checkpoint"], "--config", release["config"],
                     "--open-clip-checkpoint", release["open_clip_checkpoint"],
                     "--open-clip-config", release["open_clip_config"],
                     "--stage-a", release["stage_a"], "--stage-b", release["stage_b"],
                     "--out", str(out), "--created", "2025-09-01T12:00:00Z"])
    err = capsys.readouterr().err
    assert code == 0, err
    m = check_bundle(str(out))
    lineage = m["lineage"]
    assert lineage["checkpoint"] == {
        "file": "final_captioner_gpt2-tiny_VisionTransformer.pt", "sha256": sha256(release["checkpoint"]),
        "published_sha256_prefix": "536ae07811c9", "matches_published": False}
    assert lineage["config"]["sha256"] == sha256(release["config"])
    assert [(s["stage"], s["dataset"], s["file"], s["sha256"]) for s in lineage["stages"]] == [
        ("A", "META", "best_stageA.pt", sha256(release["stage_a"])),
        ("B", "SkinCAP", "best_stageB.pt", sha256(release["stage_b"]))]
    assert lineage["vision_weights"] == {"id": "hf-hub:redlessone/DermLIP_ViT-B-16",
                                         "file": "open_clip_pytorch_model.bin",
                                         "sha256": sha256(release["open_clip_checkpoint"]),
                                         "config": {"file": "open_clip_config.json",
                                                    "sha256": sha256(release["open_clip_config"])}}
    assert lineage["base_lm"] == "gpt2-tiny"
    # none of the synthetic files is the released one: one warning each, in the manifest and on stderr
    assert len(m["warnings"]) == 4
    for w in m["warnings"]:
        assert "does not match the model card" in w and f"warning: {w}" in err
    assert m["model"]["vision"]["act"] == "quick_gelu"
    assert m["preprocessing"]["mean"] == [0.5, 0.5, 0.5] and m["preprocessing"]["std"] == [0.25, 0.25, 0.25]
    assert m["generation"]["prompt"].startswith("Describe the skin lesion concisely")
    assert m["generation"]["default_profile"] == "published"
    profiles = m["generation"]["profiles"]
    assert {n: (p["num_beams"], p["max_new_tokens"], p["min_new_tokens"], p["length_penalty"], p["text"]["collapse_whitespace"])
            for n, p in profiles.items()} == {"card": (4, 60, 24, 0.6, False), "training-eval": (4, 60, 24, 0.6, False),
                                               "published": (4, 80, 24, 0.6, True)}
    assert profiles["card"]["bad_words"]["token_ids"] == []
    banned = profiles["published"]["bad_words"]
    assert banned == profiles["training-eval"]["bad_words"] and len(banned["token_ids"]) == 10
    # encoded without a leading space, as the author's inference.py does: "seek" is 36163, " seek" 5380
    assert banned["phrases"][0] == "seek medical attention" and banned["token_ids"][0] == [36163, 3315, 3241]

    # The vision graph is the released weights with QuickGELU
    reference = release["model"]
    quick = Captioner(type(reference.cfg)(
        vision=type(reference.cfg.vision)(**{**reference.cfg.vision.__dict__, "act": "quick_gelu"}),
        gpt2=reference.cfg.gpt2, prefix_tokens=32, projector_hidden=64)).eval()
    quick.load_state_dict(reference.state_dict())
    pixels = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        expected = quick.encode_image(pixels).numpy()
        gelu_version = reference.encode_image(pixels).numpy()
    got = onnx_numpy.run(onnx.load(str(out / "vision_encoder.onnx")), {"pixel_values": pixels.numpy()})["prefix_embeds"]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    assert not np.allclose(got, gelu_version, atol=1e-3)


def test_matching_files_raise_no_warning(tmp_path):
    # The released config's hash matches the model card's prefix.
    from conftest import RELEASED_CONFIG
    out = tmp_path / "b"
    assert cli.main(["export", "--random-init", "tiny", "--config", RELEASED_CONFIG, "--out", str(out)]) == 0
    m = check_bundle(str(out))
    assert m["warnings"] == [] and m["lineage"]["config"]["matches_published"] is True


def test_exporting_needs_only_torch_and_onnx(tmp_path):
    """PIL, torchvision and regex serve the reference command and the fixtures, not the exporter."""
    import subprocess
    import sys
    script = ("import sys\n"
              "for name in ('PIL', 'torchvision', 'regex', 'jsonschema'):\n"
              "    sys.modules[name] = None  # any import of them fails\n"
              "from dermcap_export.__main__ import main\n"
              f"sys.exit(main(['export', '--random-init', 'tiny', '--out', {str(tmp_path / 'b')!r}]))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ONNX_MODELS, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert sorted(os.listdir(tmp_path / "b")) == ["decoder_model_merged.onnx", "embed_tokens.onnx",
                                                  "manifest.json", "vision_encoder.onnx"]
