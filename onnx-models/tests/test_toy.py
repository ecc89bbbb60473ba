"""The toy captioner's drawings, captions, held-out set and training loss."""

import dataclasses
import itertools
import json
import math
import os

import numpy as np
import pytest
import torch

from dermcap_export.bpe import EOS_TOKEN_ID, Tokenizer
from dermcap_export.generate import RELEASED
from dermcap_toy import lesions, train

HELDOUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "toy", "heldout")


@pytest.fixture(scope="module")
def tok():
    return Tokenizer()


def test_drawings_are_a_function_of_the_seed():
    a, b = lesions.draw(7), lesions.draw(7)
    assert a == b and lesions.caption(a) == lesions.caption(b)
    assert np.array_equal(np.asarray(lesions.render(a)), np.asarray(lesions.render(b)))
    assert lesions.draw(8) != a


def test_the_largest_lesion_fits_the_central_square():
    for seed in range(20):
        placed = lesions._place(np.random.RandomState(seed), {"size": "large", "colour": "red"})
        assert len(placed) == 1


def test_phrases_of_different_values_never_contain_one_another():
    for name, values in lesions.ATTRIBUTES.items():
        for (v1, p1), (v2, p2) in itertools.permutations(values.items(), 2):
            assert not any(a in b for a in p1 for b in p2), (name, v1, v2)


def test_every_caption_can_be_decoded_with_the_released_settings(tok):
    """At least min_new_tokens before EOS, within max_new_tokens, no repeated no-repeat n-gram."""
    n = RELEASED.no_repeat_ngram_size
    for template in range(len(lesions._TEMPLATES)):
        for values in itertools.product(*[list(v) for v in lesions.ATTRIBUTES.values()]):
            d = dataclasses.replace(lesions.draw(0), attributes=dict(zip(lesions.ATTRIBUTES, values)), template=template)
            ids = tok.encode(" " + lesions.caption(d))
            assert RELEASED.min_new_tokens <= len(ids) < RELEASED.max_new_tokens, lesions.caption(d)
            grams = [tuple(ids[i:i + n]) for i in range(len(ids) - n + 1)]
            assert len(grams) == len(set(grams)), lesions.caption(d)


def test_shipped_heldout_set_is_what_the_generator_draws():
    with open(os.path.join(HELDOUT, "labels.json"), encoding="utf-8") as f:
        labels = json.load(f)
    assert labels["vocabulary"] == lesions.vocabulary()
    assert len(labels["images"]) >= 64
    for image in labels["images"]:
        assert image["seed"] >= train.HELDOUT_SEED0
        d = lesions.draw(image["seed"])
        assert image["attributes"] == d.attributes and image["caption"] == lesions.caption(d)
        assert image["size"] == [d.width, d.height]
    assert train.HParams().train_images <= train.HELDOUT_SEED0 and train.EVAL_SEED0 > train.HELDOUT_SEED0 + len(labels["images"])


def test_loss_is_the_full_vocabulary_cross_entropy():
    """The loss over used tokens plus log(#unused) equals cross-entropy over all 50257 logits when
    the unused rows of the tied embedding are zero."""
    hp = dataclasses.replace(train.HPARAMS, vision_layers=1, gpt2_layers=1)
    model = train.Captioner(hp.config())
    used = torch.tensor([11, 13, 262, 1000, EOS_TOKEN_ID])
    train.init_weights(model, used, 0)
    with torch.no_grad():
        model.gpt2.transformer.wte.weight[used] *= 50  # spread the logits
    pixels = torch.randn(2, 3, 224, 224)
    prompt = torch.tensor([[262, 11]])
    captions = torch.tensor([[1000, 13, EOS_TOKEN_ID], [13, EOS_TOKEN_ID, EOS_TOKEN_ID]])
    lengths = np.array([3, 2])
    loss, _ = train.caption_loss(model, pixels, prompt, captions, lengths, used)
    h = train.hidden_states(model, pixels, torch.cat([prompt.expand(2, -1), captions], 1))
    logits = h[:, hp.prefix_tokens + 1:hp.prefix_tokens + 4] @ model.gpt2.transformer.wte.weight.T
    nll = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), captions.reshape(-1), reduction="none")
    expected = nll.reshape(2, 3)[torch.arange(3)[None] < torch.tensor(lengths)[:, None]].mean()
    assert math.isclose(loss.item(), expected.item(), rel_tol=1e-5)
