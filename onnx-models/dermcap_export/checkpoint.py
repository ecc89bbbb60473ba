"""Reading the released files into a Captioner, strictly: every key of the model must be found with
its shape, and every key found must be used, or the error lists what is missing, unexpected or
mis-shaped (no silent strict=False).

    captioner .pt    {"model": state dict, "cfg": training config, "meta": {...}} (the final
                     release) or {"model", "cfg"} (best_stageA.pt / best_stageB.pt), or a bare
                     state dict; keys gpt2.* and prefix.*, LoRA adapters merged (lora.py)
                     (tolerated: gpt2.lm_head.weight when equal to wte, and the attn.bias /
                     attn.masked_bias buffers of older Hugging Face GPT-2 checkpoints)
    captioner .json  gpt2_name, prefix_tokens, embed_dim, prompt, ... (config_files.py)
    open_clip file   .bin/.pt (torch) or .safetensors; state dict at the top level or under
                     "state_dict", optionally "module."-prefixed; visual.* is used strictly,
                     other keys (the text tower) are ignored
    open_clip .json  optional: model_cfg (quick_gelu, vision_cfg) and preprocess_cfg
    gpt2 base        with --like-inference-min: gpt2-medium's model.safetensors or pytorch_model.bin
"""

import os
import re
from dataclasses import dataclass

import torch

from . import lora
from .checkpoint_files import load_checkpoint, load_tensors
from .config_files import parse_captioner_json, parse_open_clip_json
from .errors import SourceError
from .key_report import compare_keys
from .model import Captioner
from .model_sizing import infer_config

_HF_ATTN_BUFFER = re.compile(r"^gpt2\.transformer\.h\.\d+\.attn\.(bias|masked_bias)$")


def split_captioner(tensors: dict, path: str, vision_prefix=None):
    """Captioner checkpoint → (gpt2 + prefix tensors, vision tensors when vision_prefix is given).
    Drops the tolerated extras; anything else not in the model is reported by compare_keys."""
    tensors = dict(tensors)
    head = tensors.pop("gpt2.lm_head.weight", None)
    wte = tensors.get("gpt2.transformer.wte.weight")
    if head is not None and wte is not None and (head.shape != wte.shape or not torch.equal(head, wte)):
        raise SourceError(f"{path}: gpt2.lm_head.weight differs from gpt2.transformer.wte.weight; this "
                          "exporter implements GPT2LMHeadModel's tied head only")
    for key in [k for k in tensors if _HF_ATTN_BUFFER.match(k)]:
        del tensors[key]  # causal-mask buffers of older transformers versions, not weights
    alpha = tensors.get("prefix.alpha")
    if alpha is not None and alpha.numel() == 1:
        tensors["prefix.alpha"] = alpha.reshape(())  # nn.Parameter(torch.tensor(x)) or of shape [1]
    vision = {}
    if vision_prefix:
        vision = {"visual." + k[len(vision_prefix):]: tensors.pop(k) for k in list(tensors) if k.startswith(vision_prefix)}
        if not vision:
            raise SourceError(f"{path}: no keys start with --vision-prefix {vision_prefix!r}")
    return tensors, vision


def vision_from_open_clip(tensors: dict, path: str) -> dict:
    if tensors and all(k.startswith("module.") for k in tensors):
        tensors = {k[len("module."):]: v for k, v in tensors.items()}  # saved from DataParallel
    vision = {k: v for k, v in tensors.items() if k.startswith("visual.")}
    if not vision:
        prefixes = sorted({k.split(".")[0] for k in tensors})
        raise SourceError(f"{path}: no visual.* keys: not an open_clip CLIP checkpoint "
                          f"(top-level prefixes: {', '.join(prefixes[:15])})")
    return vision


def weights_stage(path, extras):
    """Which training stage the weights are from: the final release carries `meta`, the stage
    checkpoints do not and are named best_stageA.pt / best_stageB.pt."""
    if "meta" in extras:
        return {"stage": "final", "evidence": "the checkpoint holds meta (the final release's layout)"}
    m = re.search(r"best_stage([AB])", os.path.basename(path))
    if m:
        return {"stage": m.group(1), "evidence": f"no meta; file name {os.path.basename(path)}"}
    return {"stage": None, "evidence": "no meta and not named best_stageA/B.pt: the stage is unknown"}


@dataclass
class Sources:
    checkpoint: str
    config: str
    open_clip_checkpoint: str = None  # None when the vision tower comes from the captioner (--vision-prefix)
    open_clip_config: str = None
    vision_prefix: str = None
    vision_act: str = None
    trust_pickles: bool = False
    like_inference_min: bool = False  # the adapted layers take gpt2_base's weights (inference_min.py)
    gpt2_base: str = None


def _language_model_weights(src: Sources, warnings: list):
    """(gpt2 + prefix tensors with plain GPT-2 layer keys, vision tensors from the captioner file,
    lineage of the weights: stage, and the LoRA merge or inference_min.py's substitution)."""
    if src.like_inference_min and not src.gpt2_base:
        raise SourceError("--like-inference-min needs --gpt2-base: inference_min.py's strict=False load leaves the "
                          "LoRA-wrapped layers with the original gpt2-medium weights, which the checkpoint does not "
                          "hold; pass gpt2-medium's model.safetensors or pytorch_model.bin")
    if src.gpt2_base and not src.like_inference_min:
        raise SourceError("--gpt2-base is only used with --like-inference-min")
    tensors, extras = load_checkpoint(src.checkpoint, "captioner checkpoint", "model", src.trust_pickles)
    lm, vision = split_captioner(tensors, src.checkpoint, src.vision_prefix)
    lineage = {**weights_stage(src.checkpoint, extras), "lora": None}
    if src.like_inference_min:
        base = load_tensors(src.gpt2_base, "--gpt2-base", "state_dict", src.trust_pickles)
        lm, lineage["lora"] = lora.like_inference_min(lm, base, src.gpt2_base, src.checkpoint)
    else:
        lm, lineage["lora"] = lora.merge(lm, extras.get("cfg"), src.checkpoint, warnings)
    return lm, vision, lineage


def load_captioner(src: Sources, warnings: list):
    """The released files → (Captioner in eval mode, parsed captioner json, parsed open_clip json or
    None, lineage of the language model's weights)."""
    cfg = parse_captioner_json(src.config)
    clip = parse_open_clip_json(src.open_clip_config) if src.open_clip_config else None
    if bool(src.vision_prefix) == bool(src.open_clip_checkpoint):
        raise SourceError("give the vision tower either as --open-clip-checkpoint or as --vision-prefix "
                          "(its keys inside the captioner checkpoint), not both or neither")
    lm, vision, weights_lineage = _language_model_weights(src, warnings)
    vision_source = src.checkpoint
    if src.open_clip_checkpoint:
        vision_source = src.open_clip_checkpoint
        vision = vision_from_open_clip(
            load_tensors(src.open_clip_checkpoint, "open_clip checkpoint", "state_dict", src.trust_pickles),
            src.open_clip_checkpoint)
    config = infer_config(lm, vision, cfg, clip, src.vision_act, src.checkpoint, vision_source, warnings)
    model = Captioner(config).eval()
    expected = model.state_dict()
    reports = [compare_keys({k: v for k, v in expected.items() if not k.startswith("visual.")}, lm, src.checkpoint),
               compare_keys({k: v for k, v in expected.items() if k.startswith("visual.")}, vision, vision_source)]
    problems = [p for r in reports for p in r.problems()]
    if reports[0].unexpected and any(".conv1." in k or "visual" in k for k in reports[0].unexpected):
        problems.append("the captioner checkpoint seems to hold a vision tower: pass its key prefix as "
                        "--vision-prefix (e.g. 'clip.visual.') to use it instead of --open-clip-checkpoint")
    if problems:
        raise SourceError("the checkpoints do not match the captioner architecture:\n" + "\n".join(problems))
    weights = {**lm, **vision}
    not_float = sorted(k for k, v in weights.items() if not v.is_floating_point())
    if not_float:
        raise SourceError(f"these tensors are not floating point: {', '.join(not_float)}")
    model.load_state_dict({k: v.float() for k, v in weights.items()}, strict=True)
    return model, cfg, clip, weights_lineage
