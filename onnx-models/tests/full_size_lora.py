"""The full-size variant of test_lora.py, run by hand (minutes, ~10 GB of memory): a synthetic
release at the real sizes (ViT-B/16, gpt2-medium) in the author's exact layout, LoRA r = alpha = 16
on h.23 with non-zero B, exported, and the decoder's logits compared with a torch forward of the
unmerged adapter model on a prefill of the real length (32 prefix + 37 prompt positions) and three
cached steps.

    cd onnx-models && /usr/bin/time -v nice -n 5 /usr/bin/python3 tests/full_size_lora.py /work/bundles/lora-full
"""

import json
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]  # tests/conftest.py, not the root one

from conftest import RELEASED_CONFIG, released_layout, with_adapters  # noqa: E402
from dermcap_export import __main__ as cli, random_init  # noqa: E402
from onnx_lm import OnnxLM  # noqa: E402
from test_lora import LoraConv1D, prefill_and_three_steps  # noqa: E402

R = ALPHA = 16  # the author's LoRA config


def main(work):
    os.makedirs(work, exist_ok=True)
    torch.manual_seed(0)
    base = random_init.build("full", 0).eval()
    captioner, open_clip = released_layout(base)
    adapters = with_adapters(captioner, 23, r=R, std=0.02)
    with open(RELEASED_CONFIG) as f:
        config = json.load(f)
    meta = {k: v for k, v in config.items() if k != "columns"}
    paths = {k: os.path.join(work, v) for k, v in (
        ("checkpoint", "final_captioner_gpt2-medium_VisionTransformer.pt"), ("config", "captioner.json"),
        ("open_clip", "open_clip_pytorch_model.bin"), ("out", "bundle"))}
    torch.save({"model": captioner, "cfg": {"lora_r": R, "lora_alpha": ALPHA, "lora_dropout": 0.05}, "meta": meta},
               paths["checkpoint"])
    with open(paths["config"], "w") as f:
        json.dump(config, f)
    torch.save(open_clip, paths["open_clip"])
    del captioner, open_clip

    t0 = time.perf_counter()
    code = cli.main(["export", "--checkpoint", paths["checkpoint"], "--config", paths["config"],
                     "--open-clip-checkpoint", paths["open_clip"], "--vision-act", "gelu", "--out", paths["out"],
                     "--force", "--created", "2025-09-01T12:00:00Z"])
    export_seconds = time.perf_counter() - t0
    assert code == 0
    with open(os.path.join(paths["out"], "manifest.json")) as f:
        manifest = json.load(f)
    print("lineage.weights:", json.dumps(manifest["lineage"]["weights"]))

    for prefix, (weight, bias, a, b) in adapters.items():  # the unmerged adapter model
        parent, attr = prefix.split(".")[-2:]
        setattr(getattr(base.gpt2.transformer.h[23], parent), attr, LoraConv1D(weight, bias, a, b, ALPHA / R))
    torch.manual_seed(5)
    embeds = base.gpt2.transformer.wte.weight[torch.randint(0, 50257, (1, 69))].detach()
    with torch.no_grad():
        expected = prefill_and_three_steps(base.gpt2, embeds, [11, 500, 3])
    got = prefill_and_three_steps(OnnxLM(paths["out"], manifest), embeds, [11, 500, 3])
    worst = (got - expected).abs().max().item()
    print(f"export {export_seconds:.0f} s; decoder vs unmerged torch, prefill 69 + 3 cached steps: worst |logit "
          f"difference| {worst:.2e} (logits up to {expected.abs().max().item():.1f}); argmax equal: "
          f"{bool((got.argmax(-1) == expected.argmax(-1)).all())}")


if __name__ == "__main__":
    main(sys.argv[1])
