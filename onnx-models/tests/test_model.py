"""The torch modules: real key names and layouts, round trips, attention and cache semantics, and
deterministic random weights."""

import io

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from dermcap_export import random_init
from dermcap_export.model import Captioner, QuickGELU


@pytest.fixture(scope="module")
def tiny():
    return random_init.build("tiny", 0)


def test_state_dict_uses_the_released_key_names_and_layouts(tiny):
    shapes = {k: list(v.shape) for k, v in tiny.state_dict().items()}
    expected = {
        "visual.conv1.weight": [32, 3, 16, 16],
        "visual.class_embedding": [32],
        "visual.positional_embedding": [197, 32],
        "visual.ln_pre.weight": [32],
        "visual.transformer.resblocks.1.ln_1.bias": [32],
        "visual.transformer.resblocks.1.attn.in_proj_weight": [96, 32],
        "visual.transformer.resblocks.1.attn.in_proj_bias": [96],
        "visual.transformer.resblocks.1.attn.out_proj.weight": [32, 32],
        "visual.transformer.resblocks.1.mlp.c_fc.weight": [128, 32],      # nn.Linear: [out, in]
        "visual.transformer.resblocks.1.mlp.c_proj.bias": [32],
        "visual.ln_post.weight": [32],
        "visual.proj": [32, 32],
        "prefix.fc1.weight": [64, 32],
        "prefix.fc2.weight": [32 * 16, 64],
        "prefix.ln.weight": [16],
        "prefix.alpha": [],
        "gpt2.transformer.wte.weight": [50257, 16],
        "gpt2.transformer.wpe.weight": [1024, 16],
        "gpt2.transformer.h.1.ln_1.weight": [16],
        "gpt2.transformer.h.1.attn.c_attn.weight": [16, 48],               # Conv1D: [in, out]
        "gpt2.transformer.h.1.attn.c_proj.weight": [16, 16],
        "gpt2.transformer.h.1.mlp.c_fc.weight": [16, 64],
        "gpt2.transformer.h.1.mlp.c_proj.weight": [64, 16],
        "gpt2.transformer.ln_f.bias": [16],
    }
    for key, shape in expected.items():
        assert shapes[key] == shape, key
    assert not any(k.startswith("gpt2.lm_head") for k in shapes)  # tied to wte, not a parameter
    # vision 3 + ln_pre 2 + 2 blocks × 12 + ln_post 2 + proj 1; prefix 7; gpt2 wte, wpe + 2 × 12 + ln_f 2
    assert len(shapes) == 3 + 2 + 2 * 12 + 2 + 1 + 7 + 2 + 2 * 12 + 2


def test_state_dict_round_trip_through_torch_save(tiny):
    buffer = io.BytesIO()
    torch.save(tiny.state_dict(), buffer)
    buffer.seek(0)
    copy = Captioner(tiny.cfg).eval()
    copy.load_state_dict(torch.load(buffer), strict=True)
    pixels = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        assert torch.equal(copy.encode_image(pixels), tiny.encode_image(pixels))


def test_vision_attention_matches_torch_multihead_attention(tiny):
    block = tiny.visual.transformer.resblocks[0]
    mha = nn.MultiheadAttention(32, 2, batch_first=True)
    mha.load_state_dict({k: v for k, v in block.attn.state_dict().items()})
    x = torch.randn(2, 7, 32)
    with torch.no_grad():
        expected, _ = mha(x, x, x, need_weights=False)
        assert torch.allclose(block.attn(x), expected, atol=1e-5)


def test_quick_gelu_is_chosen_by_config():
    cfg = random_init.PRESETS["tiny"]
    quick = Captioner(type(cfg)(vision=type(cfg.vision)(**{**cfg.vision.__dict__, "act": "quick_gelu"}),
                                gpt2=cfg.gpt2, prefix_tokens=32, projector_hidden=64))
    assert isinstance(quick.visual.transformer.resblocks[0].mlp.gelu, QuickGELU)
    assert isinstance(Captioner(cfg).visual.transformer.resblocks[0].mlp.gelu, nn.GELU)


def test_conv1d_weights_are_in_out(tiny):
    c_fc = tiny.gpt2.transformer.h[0].mlp.c_fc
    x = torch.randn(3, 16)
    with torch.no_grad():
        assert torch.allclose(c_fc(x), F.linear(x, c_fc.weight.t(), c_fc.bias), atol=1e-5)


def test_projector_normalises_the_image_embedding_first(tiny):
    e = torch.randn(2, 32)
    with torch.no_grad():
        assert torch.allclose(tiny.prefix(e), tiny.prefix(5.0 * e), atol=1e-5)


def test_cached_decoding_equals_one_full_pass(tiny):
    gpt2 = tiny.gpt2
    x = torch.randn(1, 9, 16)
    with torch.no_grad():
        full, _ = gpt2(x, torch.ones(1, 9, dtype=torch.long), torch.arange(9)[None], gpt2.empty_past(1))
        _, past = gpt2(x[:, :6], torch.ones(1, 6, dtype=torch.long), torch.arange(6)[None], gpt2.empty_past(1))
        _, past = gpt2(x[:, 6:8], torch.ones(1, 8, dtype=torch.long), torch.tensor([[6, 7]]), past)
        last, past = gpt2(x[:, 8:], torch.ones(1, 9, dtype=torch.long), torch.tensor([[8]]), past)
    assert torch.allclose(last, full, rtol=1e-4, atol=1e-3)
    assert past[0].shape == (1, 2, 9, 8)


def test_left_padding_is_invisible(tiny):
    """A left-padded row with Hugging Face positions gives the logits of the unpadded row."""
    gpt2 = tiny.gpt2
    x = torch.randn(1, 5, 16)
    padded = torch.cat([torch.randn(1, 3, 16), x], dim=1)
    mask = torch.tensor([[0, 0, 0, 1, 1, 1, 1, 1]])
    positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
    with torch.no_grad():
        plain, _ = gpt2(x, torch.ones(1, 5, dtype=torch.long), torch.arange(5)[None], gpt2.empty_past(1))
        left, _ = gpt2(padded, mask, positions, gpt2.empty_past(1))
    assert torch.allclose(left, plain, rtol=1e-4, atol=1e-3)


def test_random_init_is_deterministic_and_seeded():
    a, b, c = random_init.build("tiny", 0), random_init.build("tiny", 0), random_init.build("tiny", 1)
    for key, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[key]), key
    assert not torch.equal(a.state_dict()["prefix.fc2.weight"], c.state_dict()["prefix.fc2.weight"])
    # numpy's RandomState streams are frozen: these values hold on any machine and version
    assert a.state_dict()["visual.conv1.weight"].flatten()[:3].tolist() == pytest.approx(
        [-0.31989115, 0.20643465, 0.01641382], abs=1e-7)


def test_unknown_preset_is_refused():
    with pytest.raises(ValueError, match="unknown random-init preset 'huge'"):
        random_init.build("huge", 0)
