"""Sizing the captioner from its weights (GPT-2 width and depth, vision tower, projector) and
checking every size against the two configs, so a mismatch names the file and the number."""

import re

from .config_files import GPT2_SIZES, CaptionerJson, OpenClipJson
from .errors import SourceError
from .model import CaptionerConfig, GPT2Config, VisionConfig

IMAGE_SIZE = 224  # fixed by the bundle contract's pixel_values [batch, 3, 224, 224]


def _need(tensors, key, source, ndim):
    if key not in tensors:
        raise SourceError(f"{source}: missing {key}, needed to size the model")
    t = tensors[key]
    if t.dim() != ndim:
        raise SourceError(f"{source}: {key} has shape {list(t.shape)}, expected {ndim} dimensions")
    return t.shape


def _count_layers(tensors, prefix):
    found = {int(m.group(1)) for k in tensors for m in [re.match(re.escape(prefix) + r"(\d+)\.", k)] if m}
    return max(found) + 1 if found else 0


def infer_config(lm_tensors, vision_tensors, cfg: CaptionerJson, clip: OpenClipJson, act_override,
                 lm_source, vision_source, warnings) -> CaptionerConfig:
    # GPT-2
    vocab, width = _need(lm_tensors, "gpt2.transformer.wte.weight", lm_source, 2)
    max_positions, _ = _need(lm_tensors, "gpt2.transformer.wpe.weight", lm_source, 2)
    layers = _count_layers(lm_tensors, "gpt2.transformer.h.")
    want_width, want_layers, heads = GPT2_SIZES[cfg.gpt2_name]
    if (width, layers) != (want_width, want_layers):
        raise SourceError(f"{cfg.path} says gpt2_name={cfg.gpt2_name} ({want_width} wide, {want_layers} layers) "
                          f"but {lm_source} holds {width}-wide, {layers}-layer GPT-2 weights")
    gpt2 = GPT2Config(vocab_size=vocab, max_positions=max_positions, hidden_size=width, layers=layers, heads=heads)

    # vision tower
    v_width, channels, patch, patch2 = _need(vision_tensors, "visual.conv1.weight", vision_source, 4)
    positions, _ = _need(vision_tensors, "visual.positional_embedding", vision_source, 2)
    v_width2, embed_dim = _need(vision_tensors, "visual.proj", vision_source, 2)
    fc_width, _ = _need(vision_tensors, "visual.transformer.resblocks.0.mlp.c_fc.weight", vision_source, 2)
    grid = int(round((positions - 1) ** 0.5))
    if channels != 3 or patch != patch2 or grid * grid != positions - 1 or v_width2 != v_width:
        raise SourceError(f"{vision_source}: visual.conv1.weight {[v_width, channels, patch, patch2]}, "
                          f"visual.positional_embedding [{positions}, ...] and visual.proj [{v_width2}, {embed_dim}] "
                          "are not a square-patch RGB ViT with a class token")
    if grid * patch != IMAGE_SIZE:
        raise SourceError(f"{vision_source}: the tower takes {grid * patch}×{grid * patch} images; the bundle "
                          f"contract fixes {IMAGE_SIZE}×{IMAGE_SIZE}")
    head_width = clip.vision_cfg.get("head_width", 64) if clip else 64
    if v_width % head_width:
        raise SourceError(f"{vision_source}: width {v_width} is not a multiple of head_width {head_width}"
                          + ("" if clip else " (open_clip's default; give --open-clip-config with vision_cfg.head_width)"))
    if clip:
        checks = {"width": v_width, "layers": _count_layers(vision_tensors, "visual.transformer.resblocks."),
                  "patch_size": patch, "image_size": grid * patch}
        for key, actual in checks.items():
            if key in clip.vision_cfg and clip.vision_cfg[key] != actual:
                raise SourceError(f"{clip.path}: vision_cfg.{key} is {clip.vision_cfg[key]} but {vision_source} "
                                  f"holds {actual}")
        if clip.embed_dim is not None and clip.embed_dim != embed_dim:
            raise SourceError(f"{clip.path}: model_cfg.embed_dim is {clip.embed_dim} but visual.proj projects to {embed_dim}")
    if act_override:
        act = act_override
    elif clip and clip.quick_gelu is not None:
        act = "quick_gelu" if clip.quick_gelu else "gelu"
    else:
        act = "gelu"
        warnings.append("vision activation not given (no model_cfg.quick_gelu in an --open-clip-config, no "
                        "--vision-act): assumed GELU, open_clip's default for ViT-B-16")
    vision = VisionConfig(image_size=grid * patch, patch_size=patch, width=v_width,
                          layers=_count_layers(vision_tensors, "visual.transformer.resblocks."),
                          heads=v_width // head_width, mlp_width=fc_width, embed_dim=embed_dim, act=act)

    # projector, against both
    hidden, fc1_in = _need(lm_tensors, "prefix.fc1.weight", lm_source, 2)
    fc2_out, _ = _need(lm_tensors, "prefix.fc2.weight", lm_source, 2)
    if cfg.embed_dim != embed_dim:
        raise SourceError(f"{cfg.path}: embed_dim is {cfg.embed_dim} but the vision tower in {vision_source} "
                          f"projects to {embed_dim}")
    if fc1_in != embed_dim:
        raise SourceError(f"{lm_source}: prefix.fc1.weight takes {fc1_in}-wide image embeddings but the vision "
                          f"tower in {vision_source} projects to {embed_dim}")
    if fc2_out != cfg.prefix_tokens * width:
        raise SourceError(f"{lm_source}: prefix.fc2.weight has {fc2_out} outputs; prefix_tokens ({cfg.prefix_tokens}) "
                          f"× GPT-2 width ({width}) = {cfg.prefix_tokens * width} expected")
    return CaptionerConfig(vision=vision, gpt2=gpt2, prefix_tokens=cfg.prefix_tokens, projector_hidden=hidden)
