"""The shipped held-out drawings (toy/heldout): JPEGs of drawings whose seeds training never used,
and labels.json with each image's true attributes and its caption, plus the attribute vocabulary
the Java scorer (io.dermcap.demo.CaptionScorer) reads captions with."""

import json
import os

from . import lesions
from .train import HELDOUT_SEED0

JPEG_QUALITY = 90


def write(out_dir, count):
    os.makedirs(out_dir, exist_ok=True)
    for name in os.listdir(out_dir):
        if name.endswith(".jpg") or name == "labels.json":
            os.remove(os.path.join(out_dir, name))
    images = []
    for seed in range(HELDOUT_SEED0, HELDOUT_SEED0 + count):
        d = lesions.draw(seed)
        name = f"lesion-{seed}.jpg"
        lesions.render(d).save(os.path.join(out_dir, name), "JPEG", quality=JPEG_QUALITY)
        images.append({"file": name, "seed": seed, "size": [d.width, d.height], "attributes": d.attributes,
                       "caption": lesions.caption(d)})
    with open(os.path.join(out_dir, "labels.json"), "w", encoding="utf-8") as f:
        json.dump({"about": "synthetic lesion drawings held out from the toy captioner's training "
                            "(python3 -m dermcap_toy heldout); not medical images",
                   "vocabulary": lesions.vocabulary(), "images": images}, f, indent=1)
        f.write("\n")
    return images
