"""The committed fixtures are what they claim: a valid tiny bundle, and parity cases that torch
reproduces on this machine and that decoding through the exported graphs reproduces too."""

import gzip
import json
import os
import shutil

import numpy as np
import onnx
import pytest
import torch
from PIL import Image

from conftest import PARITY, TINY_BUNDLE
from dermcap_export import preprocess, random_init
from dermcap_export.bpe import Tokenizer, caption_text
from dermcap_export.generate import Settings, generate
from onnx_lm import OnnxLM, encode_image
from test_export import check_bundle

with open(os.path.join(PARITY, "cases.json")) as f:
    CASES = json.load(f)
MANIFEST = check_bundle(TINY_BUNDLE)


@pytest.fixture(scope="module")
def model():
    seeded = MANIFEST["random_init"]
    return random_init.build(seeded["preset"], seeded["seed"])


@pytest.fixture(scope="module")
def tokenizer():
    return Tokenizer()


def path(relative):
    return os.path.join(PARITY, relative)


def test_cases_cover_the_formats_modes_and_shapes_of_the_issue():
    cases = CASES["cases"]
    assert len(cases) >= 8
    assert {c["pil_mode"] for c in cases} >= {"RGB", "RGBA", "LA", "L", "P", "CMYK", "I"}
    assert {c["format"] for c in cases} >= {"PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP"}
    sizes = [c["size"] for c in cases]
    assert any(max(w, h) < 224 for w, h in sizes)              # upscaled
    assert any(h > w for w, h in sizes)                          # portrait
    assert any(w >= 4 * h for w, h in sizes)                     # very wide
    assert any(w % 2 and h % 2 for w, h in sizes)                # odd
    for case in cases:
        with Image.open(path(case["image"])) as image:
            assert [image.format, image.mode, list(image.size)] == [case["format"], case["pil_mode"], case["size"]]


def test_prompt_is_the_bundles_and_its_ids_are_gpt2_bpe(tokenizer):
    assert CASES["prompt"] == MANIFEST["generation"]["prompt"]
    assert CASES["prompt_token_ids"] == tokenizer.encode(CASES["prompt"])
    assert os.path.normpath(os.path.join(PARITY, CASES["bundle"])) == os.path.normpath(TINY_BUNDLE)


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda c: c["id"])
def test_torch_reproduces_the_case(case, model, tokenizer):
    with gzip.open(path(case["pixels"])) as f:
        pixels = np.frombuffer(f.read(), dtype=np.uint8).reshape(224, 224, 3)
    assert np.array_equal(pixels, preprocess.cropped_pixels(path(case["image"])))
    values = preprocess.pixel_values([path(case["image"])])
    expected = (torch.from_numpy(pixels.astype(np.float32)).permute(2, 0, 1) / 255
                - torch.tensor(preprocess.CLIP_MEAN)[:, None, None]) / torch.tensor(preprocess.CLIP_STD)[:, None, None]
    assert torch.allclose(values[0], expected, atol=1e-6)

    with torch.no_grad():
        prefix = model.encode_image(values)
        stored = np.fromfile(path(case["prefix_embeds"]), dtype="<f4").reshape(32, 16)
        np.testing.assert_allclose(prefix[0].numpy(), stored, rtol=1e-5, atol=1e-6)
        inputs = torch.cat([prefix, model.gpt2.embed(torch.tensor([CASES["prompt_token_ids"]]))], dim=1)
        logits, _ = model.gpt2(inputs, torch.ones(1, inputs.shape[1], dtype=torch.long),
                               torch.arange(inputs.shape[1])[None], model.gpt2.empty_past(1))
    top = logits[0, 0].topk(CASES["top_k"])
    assert top.indices.tolist() == case["first_step_logits"]["ids"]
    np.testing.assert_allclose(top.values.numpy(), case["first_step_logits"]["values"], rtol=1e-6)

    assert [g["name"] for g in case["generations"]] == [
        f"{p}/{kind}" for p in ("card", "training-eval", "published", "ban-check") for kind in ("greedy", "beam")]
    for g in case["generations"]:
        out = generate(model.gpt2, inputs, Settings(**g["settings"]))[0]
        assert out.token_ids == g["token_ids"]
        assert g["min_top2_gap"] >= CASES["min_margin_required"]
        assert g["text"] == caption_text(tokenizer, g["token_ids"], CASES["prompt"], g["collapse_whitespace"])
        assert len(g["token_ids"]) > g["settings"]["min_new_tokens"]
        profile = MANIFEST["generation"]["profiles"][g["profile"]]
        if g["name"].startswith("ban-check/"):
            assert_ban_fired(g)
        else:
            assert g["settings"]["bad_words_ids"] == profile["bad_words"]["token_ids"]
            assert g["settings"]["max_new_tokens"] == profile["max_new_tokens"]


def assert_ban_fired(g):
    """The banned token never appears; the banned pair never from the 2nd position on (4.56.0 skips
    a sequence longer than what was generated); and the output differs from the unbanned one."""
    (single,), (first, second) = g["settings"]["bad_words_ids"]
    ids = g["token_ids"]
    assert single in g["unbanned_token_ids"] and single not in ids
    assert all((ids[i], ids[i + 1]) != (first, second) for i in range(1, len(ids) - 1))
    assert ids != g["unbanned_token_ids"]


@pytest.mark.parametrize("case_id", ["rgb-dermoscopy", "la-portrait", "very-wide"])
def test_decoding_through_the_exported_graphs_reproduces_the_case(case_id):
    """What the Java engine does: vision graph, embedding graph, decoder graph with its cache."""
    case = next(c for c in CASES["cases"] if c["id"] == case_id)
    lm = OnnxLM(TINY_BUNDLE, MANIFEST)
    prefix = encode_image(TINY_BUNDLE, preprocess.pixel_values([path(case["image"])]))
    inputs = torch.cat([prefix, lm.embed(torch.tensor([CASES["prompt_token_ids"]]))], dim=1)
    for g in case["generations"]:
        assert generate(lm, inputs, Settings(**g["settings"]))[0].token_ids == g["token_ids"]


def test_the_float16_cache_fixture_is_the_tiny_bundle_with_a_float16_cache(tmp_path):
    """fixtures/tiny-bundle-f16-cache holds only the decoder and manifest; with tiny-bundle's other
    graphs it is a valid bundle, and its decoder carries tiny-bundle's weights."""
    f16 = os.path.join(os.path.dirname(TINY_BUNDLE), "tiny-bundle-f16-cache")
    assert sorted(os.listdir(f16)) == ["decoder_model_merged.onnx", "manifest.json"]
    for folder in (TINY_BUNDLE, f16):
        for name in os.listdir(folder):
            shutil.copy(os.path.join(folder, name), tmp_path)
    m = check_bundle(str(tmp_path))
    for graph in ("vision_encoder", "embed_tokens"):
        assert m["graphs"][graph] == MANIFEST["graphs"][graph]
    caches = [t for t in m["graphs"]["decoder_model_merged"]["inputs"] if t["name"].startswith("past_key_values")]
    assert caches and all(t["type"] == "float16" for t in caches)
    weights = [onnx.load(os.path.join(b, "decoder_model_merged.onnx")).graph.initializer for b in (TINY_BUNDLE, f16)]
    assert [t.raw_data for t in weights[0]] == [t.raw_data for t in weights[1]]
