"""Command line: `python3 -m dermcap_export {export,reference} --help`."""

import argparse
import json
import os
import re
import sys
import time
from datetime import datetime, timezone

import torch

from . import __version__
from .checkpoint import Sources
from .errors import SourceError
from .manifest import warn


def _add_source_options(p):
    g = p.add_argument_group("released checkpoints")
    g.add_argument("--checkpoint", help="captioner state dict (final_captioner_gpt2-medium_VisionTransformer.pt)")
    g.add_argument("--config", help="captioner config (final_captioner_gpt2-medium_VisionTransformer.json)")
    g.add_argument("--open-clip-checkpoint",
                   help="DermLIP open_clip weights (open_clip_pytorch_model.bin or .safetensors); visual.* is used")
    g.add_argument("--open-clip-config", help="its open_clip_config.json: activation (quick_gelu), sizes, mean/std")
    g.add_argument("--vision-prefix",
                   help="take the vision tower from the captioner checkpoint's keys under this prefix "
                        "(e.g. 'clip.visual.') instead of --open-clip-checkpoint")
    g.add_argument("--vision-act", choices=["gelu", "quick_gelu"],
                   help="vision MLP activation, overriding open_clip_config.json")
    g.add_argument("--like-inference-min", action="store_true",
                   help="rebuild what the model card's inference_min.py runs: the LoRA-wrapped layers take the "
                        "original weights of --gpt2-base, everything else the checkpoint's (default: adapters merged)")
    g.add_argument("--gpt2-base", help="gpt2-medium's model.safetensors or pytorch_model.bin, for --like-inference-min")
    g.add_argument("--trust-pickles", action="store_true",
                   help="load checkpoints with torch.load(weights_only=False): runs code from the file")


def _given_sources(args):
    """Names of the checkpoint options given on the command line."""
    return [o for o in ("checkpoint", "config", "open_clip_checkpoint", "open_clip_config", "vision_prefix",
                        "vision_act", "like_inference_min", "gpt2_base") if getattr(args, o)]


def _sources(args) -> Sources:
    missing = [f"--{o.replace('_', '-')}" for o in ("checkpoint", "config") if not getattr(args, o)]
    if not (args.open_clip_checkpoint or args.vision_prefix):
        missing.append("--open-clip-checkpoint (or --vision-prefix)")
    if missing:
        raise SourceError(f"missing {', '.join(missing)}")
    return Sources(args.checkpoint, args.config, args.open_clip_checkpoint, args.open_clip_config,
                   args.vision_prefix, args.vision_act, args.trust_pickles, args.like_inference_min, args.gpt2_base)


def cmd_export(args):
    from . import bundle
    created = args.created or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", created):
        raise SourceError(f"--created must look like 2025-08-30T00:00:00Z (UTC), not {created!r}")
    if not 0 <= args.seed < 2 ** 32:
        raise SourceError(f"--seed must be in 0 .. 2^32-1, not {args.seed}")
    if args.random_init:
        extra = [o for o in _given_sources(args) if o != "config"]
        if extra or args.stage_a or args.stage_b:
            raise SourceError("--random-init builds its own weights: give no checkpoints (only --config, for the "
                              "prompt and generation settings)")
        loaded = bundle.load_random(args.random_init, args.seed, args.config, args.jtokkit_jar)
        name = args.name or f"dermlip-gpt2-captioner-random-{args.random_init}"
    else:
        loaded = bundle.load_released(_sources(args), args.stage_a, args.stage_b, args.jtokkit_jar)
        name = args.name or "dermlip-gpt2-captioner"
    for message in loaded.warnings:
        warn(message)
    version = args.bundle_version or created[:10].replace("-", ".")
    doc = bundle.write(loaded, args.out, name=name, version=version, created=created, kv_cache=args.kv_cache,
                       force=args.force)
    sizes = ", ".join(f"{g['file']} {g['bytes'] + sum(e['bytes'] for e in g['external_data'])} bytes"
                      for g in doc["graphs"].values())
    print(f"wrote {args.out}: {sizes}")


def cmd_reference(args):
    from . import reference  # PIL, torchvision and regex: only the reference needs them
    from .bpe import DEFAULT_JAR, Tokenizer
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.batch_size < 1:
        raise SourceError(f"--batch-size must be >= 1, not {args.batch_size}")
    manifest = reference.read_manifest(args.bundle)
    if manifest.get("random_init"):
        if _given_sources(args):
            raise SourceError("the bundle holds random weights rebuilt from its manifest: pass no checkpoints")
        sources = None
    else:
        sources = _sources(args)
    missing = [p for p in args.images if not os.path.isfile(p)]
    if missing:
        raise SourceError(f"no such image files: {', '.join(missing)}")
    t0 = time.perf_counter()
    model = reference.load_model(manifest, sources)
    tokenizer = Tokenizer(args.jtokkit_jar or DEFAULT_JAR)
    settings, collapse = reference.settings_for(manifest, args.decoding, args.profile, max_new_tokens=args.max_new_tokens,
                                      min_new_tokens=args.min_new_tokens)
    load_seconds = time.perf_counter() - t0
    results, seconds = reference.caption_images(model, manifest, args.images, settings, collapse, args.batch_size,
                                                tokenizer)
    busy = sum(seconds.values())
    json.dump({
        "bundle": os.path.abspath(args.bundle), "engine": "torch", "torch": torch.__version__,
        "threads": torch.get_num_threads(), "decoding": args.decoding, "batch_size": args.batch_size,
        "profile": args.profile or manifest["generation"]["default_profile"], "settings": {**settings.__dict__},
        "images": results,
        "totals": {"images": len(results), "load_seconds": load_seconds,
                   **{f"{k}_seconds": v for k, v in seconds.items()},
                   "images_per_second": len(results) / busy if busy else None},
    }, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


def parser():
    root = argparse.ArgumentParser(prog="python3 -m dermcap_export",
                                   description="DermLIP + GPT-2 captioner → dermcap ONNX bundle (BUNDLE.md)")
    root.add_argument("--version", action="version", version=f"dermcap-export {__version__}")
    sub = root.add_subparsers(dest="command", required=True)

    e = sub.add_parser("export", help="write a bundle from the released checkpoints or random weights",
                       description="Writes vision_encoder.onnx, embed_tokens.onnx, decoder_model_merged.onnx "
                                   "and manifest.json into --out.")
    e.add_argument("--out", required=True, help="bundle folder to create (must be absent or empty)")
    _add_source_options(e)
    e.add_argument("--stage-a", help="best_stageA.pt, hashed into the lineage only (to export a stage's "
                                     "weights, give it as --checkpoint)")
    e.add_argument("--stage-b", help="best_stageB.pt, hashed into the lineage only")
    e.add_argument("--random-init", choices=["tiny", "full"],
                   help="random weights with the real architecture instead of checkpoints")
    e.add_argument("--seed", type=int, default=0, help="seed of --random-init (default 0)")
    e.add_argument("--name", help="bundle name (default dermlip-gpt2-captioner[-random-PRESET])")
    e.add_argument("--bundle-version", help="bundle version (default: the creation date, YYYY.MM.DD)")
    e.add_argument("--created", help="creation time to record, e.g. 2025-08-30T00:00:00Z (default: now)")
    e.add_argument("--kv-cache", choices=["float32", "float16"], default="float32",
                   help="the decoder's key/value cache type (default float32, tokens identical to the torch "
                        "reference; float16: half the cache memory, and the type ONNX Runtime's CUDA attention needs)")
    e.add_argument("--force", action="store_true", help="replace an existing --out folder")
    e.add_argument("--jtokkit-jar", help="GPT-2 ranks for encoding the config's cliche_phrases "
                                         "(default ~/.m2/repository/com/knuddels/jtokkit/1.1.0/jtokkit-1.1.0.jar)")
    e.set_defaults(run=cmd_export)

    r = sub.add_parser("reference", help="caption images with the bundle's torch reference; prints JSON",
                       description="Rebuilds the torch model of a bundle (from its manifest's random_init, or "
                                   "from the given checkpoints, checked against the manifest's hashes) and "
                                   "captions the images with the fixtures' preprocessing and Hugging Face "
                                   "generate semantics. Prints JSON: per image token_ids and text; totals with "
                                   "seconds per stage and images_per_second.")
    r.add_argument("--bundle", required=True, help="bundle folder (its manifest.json is read)")
    r.add_argument("images", nargs="+", help="image files")
    r.add_argument("--profile", help="the manifest's generation profile (card, training-eval, published; "
                                     "default: the bundle's default_profile)")
    r.add_argument("--decoding", choices=["beam", "greedy"], default="beam",
                   help="beam: the profile's settings; greedy: the same with one beam (default beam)")
    r.add_argument("--batch-size", type=int, default=1, help="images per forward pass (default 1)")
    r.add_argument("--max-new-tokens", type=int, help="override the manifest's max_new_tokens")
    r.add_argument("--min-new-tokens", type=int, help="override the manifest's min_new_tokens")
    r.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's)")
    r.add_argument("--jtokkit-jar", help="GPT-2 ranks for decoding "
                                         "(default ~/.m2/repository/com/knuddels/jtokkit/1.1.0/jtokkit-1.1.0.jar)")
    _add_source_options(r)
    r.set_defaults(run=cmd_reference)
    return root


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except (SourceError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
