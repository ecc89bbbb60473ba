"""Command line: `python3 -m dermcap_toy {train,heldout,export} --help` (run from onnx-models/)."""

import argparse
import sys


def cmd_train(args):
    import dataclasses
    from . import train
    overrides = {k: v for k, v in (("epochs", args.epochs), ("train_images", args.train_images)) if v is not None}
    train.train(args.out, dataclasses.replace(train.HPARAMS, **overrides), cache_dir=args.cache)


def cmd_heldout(args):
    from . import heldout
    images = heldout.write(args.out, args.count)
    print(f"wrote {len(images)} held-out drawings and labels.json into {args.out}")


def cmd_export(args):
    from . import export
    doc = export.export(args.checkpoint, args.out, args.created)
    print(f"wrote {args.out}: {', '.join(g['file'] + ' ' + str(g['bytes']) + ' bytes' for g in doc['graphs'].values())}")


def parser():
    root = argparse.ArgumentParser(prog="python3 -m dermcap_toy",
                                   description="the toy captioner trained on synthetic lesion drawings")
    sub = root.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="render the training drawings and train (train.HPARAMS); writes the "
                                     "checkpoint, its configs and training.json into --out")
    t.add_argument("--out", required=True, help="folder for the checkpoint")
    t.add_argument("--cache", help="folder to keep the rendered drawings in between runs (optional)")
    t.add_argument("--epochs", type=int, help="instead of train.HPARAMS' (recorded in training.json)")
    t.add_argument("--train-images", type=int, help="instead of train.HPARAMS' (recorded in training.json)")
    t.set_defaults(run=cmd_train)
    h = sub.add_parser("heldout", help="render the held-out drawings the demo and the semantic tests use")
    h.add_argument("--out", default="toy/heldout", help="folder (default toy/heldout)")
    h.add_argument("--count", type=int, default=72, help="images (default 72)")
    h.set_defaults(run=cmd_heldout)
    e = sub.add_parser("export", help="the toy bundle from the trained checkpoint (the exporter's normal path)")
    e.add_argument("--checkpoint", default="toy/checkpoint", help="folder written by train (default toy/checkpoint)")
    e.add_argument("--out", default="toy/bundle", help="bundle folder, replaced (default toy/bundle)")
    e.add_argument("--created", default="2026-12-05T00:00:00Z", help="creation time to record (fixed: same bytes)")
    e.set_defaults(run=cmd_export)
    return root


def main(argv=None):
    args = parser().parse_args(argv)
    args.run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
