"""The reference preprocessing is open_clip's (torchvision on PIL), spelled out: what the Java side
must reproduce."""

import numpy as np
from PIL import Image

from dermcap_export import preprocess


def test_shorter_side_to_224_then_centre_crop(tmp_path):
    rng = np.random.RandomState(0)
    source = rng.randint(0, 256, (451, 601, 3)).astype(np.uint8)
    path = tmp_path / "x.png"
    Image.fromarray(source).save(path)
    # long side int(224 · 601 / 451) = 298; crop offsets round((298 − 224) / 2) = 37 and 0
    by_hand = Image.fromarray(source).resize((298, 224), Image.BICUBIC).crop((37, 0, 261, 224))
    assert np.array_equal(preprocess.cropped_pixels(path), np.asarray(by_hand))


def test_crop_offset_rounds_half_to_even(tmp_path):
    # 300×224 → no resize; offset (300 − 224) / 2 = 38 exactly. 301×224: 38.5 → round() = 38
    source = np.arange(224 * 301 * 3, dtype=np.int64).reshape(224, 301, 3) % 251
    path = tmp_path / "y.png"
    Image.fromarray(source.astype(np.uint8)).save(path)
    assert np.array_equal(preprocess.cropped_pixels(path), source[:, 38:262].astype(np.uint8))


def test_alpha_is_dropped_not_composited(tmp_path):
    rgba = np.zeros((224, 224, 4), dtype=np.uint8)
    rgba[..., 0] = 200
    rgba[..., 3] = 0  # fully transparent red
    path = tmp_path / "z.png"
    Image.fromarray(rgba, "RGBA").save(path)
    assert (preprocess.cropped_pixels(path)[..., 0] == 200).all()
