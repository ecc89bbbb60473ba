"""Training the toy captioner on synthetic drawings (lesions.py), on CPU, deterministic from HPARAMS.

The model is dermcap_export's Captioner at toy sizes: a ViT vision tower, the prefix projector and
a GPT-2 with the real vocabulary (50257) and tied head. The captions use only a few hundred GPT-2
tokens; every other row of the token embedding stays exactly zero, so its tied logit is exactly 0,
and the full-vocabulary cross-entropy is computed exactly from the used rows plus one constant
term, log(#unused) (the log-sum-exp of all those zero logits). That keeps training cheap, and the
zero rows cost almost nothing in git (zlib), though the bundle carries the full 50257-row table.
"""

import dataclasses
import json
import math
import multiprocessing
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from dermcap_export.bpe import EOS_TOKEN_ID, Tokenizer
from dermcap_export.bundle import RELEASED_PROMPT
from dermcap_export.model import CLIP_MEAN, CLIP_STD, Captioner, CaptionerConfig, GPT2Config, VisionConfig
from dermcap_export.preprocess import resize_crop

from . import lesions

# Seed ranges: training drawings, and the held-out drawings (evaluation here, the shipped
# demo/test images in toy/heldout) never overlap.
HELDOUT_SEED0 = 1_000_000  # the shipped held-out images (heldout.py)
EVAL_SEED0 = 1_100_000     # the held-out drawings scored during training


@dataclasses.dataclass(frozen=True)
class HParams:
    seed: int = 0
    train_images: int = 6000
    eval_images: int = 128
    epochs: int = 16
    batch_size: int = 32
    lr: float = 3e-3
    warmup_steps: int = 30
    weight_decay: float = 0.05
    threads: int = 1
    vision_patch: int = 32
    vision_width: int = 64
    vision_layers: int = 4
    vision_head_width: int = 16
    embed_dim: int = 64
    gpt2_width: int = 32
    gpt2_layers: int = 4
    gpt2_heads: int = 2
    projector_hidden: int = 128
    prefix_tokens: int = 32
    # weight of the attribute classifiers on the image embedding (training only, not exported):
    # without them the language model learns the templates and never reads the image
    attribute_loss_weight: float = 1.0

    def config(self) -> CaptionerConfig:
        return CaptionerConfig(
            vision=VisionConfig(image_size=224, patch_size=self.vision_patch, width=self.vision_width, layers=self.vision_layers,
                                heads=self.vision_width // self.vision_head_width, mlp_width=4 * self.vision_width,
                                embed_dim=self.embed_dim, act="gelu"),
            gpt2=GPT2Config(vocab_size=50257, max_positions=1024, hidden_size=self.gpt2_width,
                            layers=self.gpt2_layers, heads=self.gpt2_heads),
            prefix_tokens=self.prefix_tokens, projector_hidden=self.projector_hidden)


HPARAMS = HParams()


# ---------------------------------------------------------------------------------------------
# Data


def _example(seed):
    """(224×224×3 uint8 as the service sees it, caption) for one drawing; every third is JPEG-coded
    first, like most uploads."""
    import io
    from PIL import Image
    d = lesions.draw(seed)
    image = lesions.render(d, short_side=224)
    if seed % 3:
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=90)
        image = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return np.asarray(resize_crop(image), dtype=np.uint8), lesions.caption(d)


def render_set(seeds, processes, cache_dir=None, chunk=250):
    """Pixels and captions of the drawings of `seeds`, rendered in chunks that are cached in
    cache_dir (an .npz each) when given."""
    pixels, captions = [], []
    with multiprocessing.Pool(processes) as pool:
        for start in range(seeds.start, seeds.stop, chunk):
            part = range(start, min(start + chunk, seeds.stop))
            cache = cache_dir and os.path.join(cache_dir, f"drawings-{part.start}-{part.stop}.npz")
            if cache and os.path.isfile(cache):
                data = np.load(cache)
                px, caps = data["pixels"], list(data["captions"])
            else:
                pairs = pool.map(_example, part, chunksize=8)
                px, caps = np.stack([p for p, _ in pairs]), [c for _, c in pairs]
                if cache:
                    os.makedirs(cache_dir, exist_ok=True)
                    np.savez(cache, pixels=px, captions=np.array(caps))
            pixels.append(px)
            captions += [str(c) for c in caps]
    return np.concatenate(pixels), captions


def tokenize(tokenizer, captions):
    """Right-padded caption ids ending with EOS, and their lengths."""
    ids = [tokenizer.encode(" " + c) + [EOS_TOKEN_ID] for c in captions]
    width = max(map(len, ids))
    out = np.full((len(ids), width), EOS_TOKEN_ID, dtype=np.int64)
    for i, row in enumerate(ids):
        out[i, :len(row)] = row
    return out, np.array([len(r) for r in ids])


def pixel_values(batch_u8):
    x = torch.from_numpy(batch_u8).permute(0, 3, 1, 2).float() / 255
    mean, std = torch.tensor(CLIP_MEAN).view(1, 3, 1, 1), torch.tensor(CLIP_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def dihedral(batch_u8, rng):
    """A random flip/quarter turn per image: none of the attributes depends on orientation."""
    out = np.empty_like(batch_u8)
    for i, img in enumerate(batch_u8):
        k = rng.randint(8)
        img = np.rot90(img, k % 4)
        out[i] = img[:, ::-1] if k >= 4 else img
    return out


# ---------------------------------------------------------------------------------------------
# Model


TOKEN_STD = 0.3
LN_F_GAIN = 2.0


def init_weights(model: Captioner, used_ids, seed):
    """GPT-2/CLIP-style normal(0.02) init; token rows outside `used_ids` are zero."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name == "prefix.alpha":
                p.fill_(1.0)
            elif name.endswith("bias") or ".ln" in name or "ln_" in name:
                p.fill_(1.0 if name.endswith("weight") else 0.0)
            else:
                p.normal_(0.0, 0.02)
        # The tied head must lift the right token above the log(~50000) zero logits of the unused
        # rows: start the used rows and the final LayerNorm's gain large enough that it can within
        # a few hundred steps (0.02 and 1 would need thousands).
        wte = model.gpt2.transformer.wte.weight
        keep = torch.zeros(wte.shape[0], dtype=torch.bool)
        keep[used_ids] = True
        wte.normal_(0.0, TOKEN_STD)
        wte[~keep] = 0
        model.gpt2.transformer.ln_f.weight.fill_(LN_F_GAIN)
        _patch_means(model.visual.conv1.weight)


def _patch_means(conv1):
    """Starts the patch embedding as a low-resolution image: its first 3·g² features are the means
    of each colour channel over a g×g grid of sub-squares of the patch, so the tower sees colours and
    coarse shapes from the first step instead of random projections (training takes it from there)."""
    width, _, patch, _ = conv1.shape
    grid = 4
    while 3 * grid * grid > width:
        grid //= 2
    cell = patch // grid
    for c in range(3):
        for y in range(grid):
            for x in range(grid):
                f = (c * grid + y) * grid + x
                conv1[f].zero_()
                conv1[f, c, y * cell:(y + 1) * cell, x * cell:(x + 1) * cell] = 1.0 / (cell * cell)


def hidden_states(model: Captioner, pixels, token_ids, embedding=None):
    """GPT-2's final hidden state at every position of [prefix ; token_ids], for training (the
    export graph keeps only the last position); `embedding`: the vision tower's output for `pixels`
    when the caller has it already."""
    gpt2 = model.gpt2.transformer
    prefix = model.prefix(model.visual(pixels) if embedding is None else embedding)
    x = torch.cat([prefix, gpt2.wte(token_ids)], dim=1)
    n = x.shape[1]
    x = x + gpt2.wpe(torch.arange(n))
    allowed = torch.ones(n, n, dtype=torch.bool).tril()[None, None]
    empty = torch.zeros(x.shape[0], model.cfg.gpt2.heads, 0, model.cfg.gpt2.head_dim)
    for block in gpt2.h:
        x, _, _ = block(x, empty, empty, allowed)
    return gpt2.ln_f(x)


def caption_loss(model, pixels, prompt_ids, caption_ids, lengths, used_ids, embedding=None):
    """Mean full-vocabulary cross-entropy of the caption tokens (EOS included), and the fraction
    of them predicted exactly (argmax, teacher forced)."""
    batch = caption_ids.shape[0]
    tokens = torch.cat([prompt_ids.expand(batch, -1), caption_ids], dim=1)
    h = hidden_states(model, pixels, tokens, embedding)
    start = model.cfg.prefix_tokens + prompt_ids.shape[1] - 1  # the position that predicts caption token 0
    h = h[:, start:start + caption_ids.shape[1]]
    logits = h @ model.gpt2.transformer.wte.weight[used_ids].T
    unused = model.cfg.gpt2.vocab_size - len(used_ids)
    rest = torch.full(logits.shape[:-1] + (1,), math.log(unused))  # all zero-logit tokens at once
    log_probs = torch.cat([logits, rest], dim=-1).log_softmax(-1)[..., :-1]
    position = torch.zeros(model.cfg.gpt2.vocab_size, dtype=torch.long)
    position[used_ids] = torch.arange(len(used_ids))
    targets = position[caption_ids]
    mask = torch.arange(caption_ids.shape[1])[None] < torch.as_tensor(lengths)[:, None]
    nll = -log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    correct = (log_probs.argmax(-1) == targets) & mask
    return nll[mask].mean(), correct.sum().item() / mask.sum().item()


def attribute_labels(seeds):
    """[N, A] class indices of each drawing's attributes, in ATTRIBUTES' order."""
    names = list(lesions.ATTRIBUTES)
    rows = []
    for seed in seeds:
        a = lesions.draw(seed).attributes
        rows.append([list(lesions.ATTRIBUTES[n]).index(a[n]) for n in names])
    return torch.tensor(rows)


class AttributeHeads(torch.nn.Module):
    """One linear classifier per attribute on the image embedding: a direct signal that teaches the
    tower what to see (the captions' attribute words alone arrive too weakly through the LM)."""

    def __init__(self, embed_dim):
        super().__init__()
        self.heads = torch.nn.ModuleList(torch.nn.Linear(embed_dim, len(v)) for v in lesions.ATTRIBUTES.values())

    def loss(self, embedding, labels):
        return sum(F.cross_entropy(h(embedding), labels[:, i]) for i, h in enumerate(self.heads)) / len(self.heads)

    @torch.no_grad()
    def correct(self, embedding, labels):
        return torch.stack([h(embedding).argmax(-1) == labels[:, i] for i, h in enumerate(self.heads)], dim=1)


# ---------------------------------------------------------------------------------------------


def train(out_dir, hp: HParams = HPARAMS, log=print, cache_dir=None):
    torch.set_num_threads(hp.threads)
    t0 = time.perf_counter()
    tokenizer = Tokenizer()
    train_px, train_captions = render_set(range(hp.train_images), 2, cache_dir)
    eval_px, eval_captions = render_set(range(EVAL_SEED0, EVAL_SEED0 + hp.eval_images), 2, cache_dir)
    render_seconds = time.perf_counter() - t0
    log(f"rendered {len(train_px)} training + {len(eval_px)} held-out drawings in {render_seconds:.0f} s")
    prompt_ids = torch.tensor([tokenizer.encode(RELEASED_PROMPT)])
    train_ids, train_len = tokenize(tokenizer, train_captions)
    eval_ids, eval_len = tokenize(tokenizer, eval_captions)
    used = sorted(set(prompt_ids[0].tolist()) | set(train_ids.ravel().tolist()) | {EOS_TOKEN_ID})
    unseen = set(eval_ids.ravel().tolist()) - set(used)
    if unseen:
        raise ValueError(f"held-out captions use tokens never seen in training: {sorted(unseen)}")
    used_ids = torch.tensor(used)
    train_labels = attribute_labels(range(hp.train_images))
    eval_labels = attribute_labels(range(EVAL_SEED0, EVAL_SEED0 + hp.eval_images))

    model = Captioner(hp.config())
    init_weights(model, used_ids, hp.seed)
    heads = AttributeHeads(hp.config().vision.embed_dim)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "wte" not in n and "wpe" not in n
             and "embedding" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "wte" not in n and "wpe" not in n
                                                               and "embedding" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": hp.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0},
                             {"params": list(heads.parameters()), "weight_decay": 0.0}], lr=hp.lr, betas=(0.9, 0.98))
    steps_per_epoch = len(train_px) // hp.batch_size
    total = steps_per_epoch * hp.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / hp.warmup_steps)
                                              * 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
    rng = np.random.RandomState(hp.seed)
    history = []
    step = 0
    for epoch in range(hp.epochs):
        model.train()
        order = rng.permutation(len(train_px))
        running, running_attributes = [], []
        for b in range(steps_per_epoch):
            idx = np.sort(order[b * hp.batch_size:(b + 1) * hp.batch_size])
            width = int(train_len[idx].max())
            pixels = pixel_values(dihedral(train_px[idx], rng))
            embedding = model.visual(pixels)
            loss, _ = caption_loss(model, pixels, prompt_ids, torch.from_numpy(train_ids[idx, :width]), train_len[idx],
                                   used_ids, embedding)
            attributes = heads.loss(embedding, train_labels[idx])
            running_attributes.append(attributes.item())
            loss = loss + hp.attribute_loss_weight * attributes
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            running.append(loss.item() - hp.attribute_loss_weight * running_attributes[-1])
            if step % 20 == 0:
                log(f"epoch {epoch} step {step}/{total} caption loss {np.mean(running[-20:]):.4f} "
                    f"attribute loss {np.mean(running_attributes[-20:]):.4f} ({time.perf_counter() - t0:.0f} s)")
        entry = {"epoch": epoch, "step": step, "train_loss": float(np.mean(running[-steps_per_epoch:])),
                 "seconds": time.perf_counter() - t0}
        entry.update(evaluate(model, heads, eval_px, eval_labels, eval_ids, eval_len, prompt_ids, used_ids,
                              hp.batch_size))
        history.append(entry)
        log(json.dumps(history[-1]))
        save(model, out_dir, hp, history, render_seconds, time.perf_counter() - t0, len(used))
    return model, history


@torch.no_grad()
def evaluate(model, heads, px, labels, ids, lengths, prompt_ids, used_ids, batch_size):
    """Held-out caption loss and token accuracy (teacher forced), and the attribute classifiers'
    accuracy per attribute (what the tower sees; the captions are scored by scripts/toy-model)."""
    model.eval()
    losses, accs, weights, correct = [], [], [], []
    for b in range(0, len(px), batch_size):
        width = int(lengths[b:b + batch_size].max())
        pixels = pixel_values(px[b:b + batch_size])
        embedding = model.visual(pixels)
        loss, acc = caption_loss(model, pixels, prompt_ids, torch.from_numpy(ids[b:b + batch_size, :width]),
                                 lengths[b:b + batch_size], used_ids, embedding)
        correct.append(heads.correct(embedding, labels[b:b + batch_size]))
        n = int(lengths[b:b + batch_size].sum())
        losses.append(loss.item() * n)
        accs.append(acc * n)
        weights.append(n)
    seen = torch.cat(correct).float().mean(0).tolist()
    return {"heldout_loss": sum(losses) / sum(weights), "heldout_token_accuracy": sum(accs) / sum(weights),
            "heldout_attribute_accuracy": dict(zip(lesions.ATTRIBUTES, seen))}


CHECKPOINT = "toy-captioner.pt"
CAPTIONER_JSON = "toy-captioner.json"
OPEN_CLIP_JSON = "toy-open-clip-config.json"
TRAINING_JSON = "training.json"
GPT2_NAME = "dermcap-toy"


def save(model: Captioner, out_dir, hp: HParams, history, render_seconds, seconds, used_tokens):
    """(After every epoch.) The exporter's inputs: a captioner state dict with the tower under `visual.` (--vision-prefix),
    the captioner config and an open_clip config for the tower's head width and activation."""
    os.makedirs(out_dir, exist_ok=True)
    torch.save({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(out_dir, CHECKPOINT))
    cfg = model.cfg
    with open(os.path.join(out_dir, CAPTIONER_JSON), "w") as f:
        json.dump({"gpt2_name": GPT2_NAME, "clip_backend_kind": "open_clip", "clip_arch": "VisionTransformer",
                   "clip_weight_path": "trained-here:onnx-models/dermcap_toy", "embed_dim": cfg.vision.embed_dim,
                   "prefix_tokens": cfg.prefix_tokens, "prompt": RELEASED_PROMPT}, f, indent=2, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(out_dir, OPEN_CLIP_JSON), "w") as f:
        json.dump({"model_cfg": {"embed_dim": cfg.vision.embed_dim, "quick_gelu": False,
                                 "vision_cfg": {"image_size": 224, "patch_size": cfg.vision.patch_size,
                                                "width": cfg.vision.width, "layers": cfg.vision.layers,
                                                "head_width": cfg.vision.width // cfg.vision.heads}},
                   "preprocess_cfg": {"mean": list(CLIP_MEAN), "std": list(CLIP_STD),
                                      "interpolation": "bicubic", "resize_mode": "shortest"}}, f, indent=2)
        f.write("\n")
    with open(os.path.join(out_dir, TRAINING_JSON), "w") as f:
        json.dump({"hparams": dataclasses.asdict(hp), "used_tokens": used_tokens, "torch": torch.__version__,
                   "render_seconds": render_seconds, "seconds": seconds, "history": history}, f, indent=2)
        f.write("\n")
