"""The toy bundle from the trained checkpoint, through the exporter's normal path (the captioner
checkpoint with its vision tower under `visual.`, as `export --vision-prefix visual.` reads it),
with a manifest warning that says what the model is."""

import os

from dermcap_export import bundle
from dermcap_export.checkpoint import Sources

from .train import CAPTIONER_JSON, CHECKPOINT, OPEN_CLIP_JSON

NAME = "dermcap-toy-synthetic-lesions"
VERSION = "0.1.0"
NOTE = ("TOY MODEL trained on synthetic lesion drawings (onnx-models/dermcap_toy: coloured ellipses on "
        "skin-tone backgrounds, captions written from the drawings' attributes); it is not a medical "
        "model and knows nothing about real skin. Real captions need the exported release.")


def export(checkpoint_dir, out, created):
    src = Sources(checkpoint=os.path.join(checkpoint_dir, CHECKPOINT),
                  config=os.path.join(checkpoint_dir, CAPTIONER_JSON),
                  open_clip_config=os.path.join(checkpoint_dir, OPEN_CLIP_JSON), vision_prefix="visual.")
    loaded = bundle.load_released(src)
    loaded.warnings.insert(0, NOTE)
    return bundle.write(loaded, out, name=NAME, version=VERSION, created=created, force=True)
