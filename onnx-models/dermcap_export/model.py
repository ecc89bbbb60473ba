"""The captioner in plain torch: DermLIP's vision tower (open_clip VisionTransformer), the prefix
projector, and GPT-2 (Hugging Face GPT2LMHeadModel). Parameter names follow the released
checkpoints, so their state dicts load without renaming:

    visual.*                 open_clip checkpoint (conv1, class/positional embedding, ln_pre,
                             transformer.resblocks.{i}, ln_post, proj)
    prefix.*                 captioner checkpoint (fc1, fc2, ln, alpha)
    gpt2.transformer.*       captioner checkpoint (wte, wpe, h.{i}, ln_f); lm_head is tied to wte
"""

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

LAYER_NORM_EPS = 1e-5  # open_clip, the projector and GPT-2 all use torch's default


@dataclass(frozen=True)
class VisionConfig:
    image_size: int = 224
    patch_size: int = 16
    width: int = 768
    layers: int = 12
    heads: int = 12
    mlp_width: int = 3072
    embed_dim: int = 512
    act: str = "gelu"  # "gelu" (erf) or "quick_gelu" (OpenAI CLIP's x·σ(1.702x))


@dataclass(frozen=True)
class GPT2Config:
    vocab_size: int = 50257
    max_positions: int = 1024
    hidden_size: int = 1024
    layers: int = 24
    heads: int = 16

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.heads


@dataclass(frozen=True)
class CaptionerConfig:
    vision: VisionConfig
    gpt2: GPT2Config
    prefix_tokens: int = 32
    projector_hidden: int = 2048


# ---------------------------------------------------------------------------------------------
# Vision tower: open_clip VisionTransformer, class-token pooling, projection to embed_dim.


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class VisionAttention(nn.Module):
    """nn.MultiheadAttention's parameter layout (in_proj_weight/bias, out_proj), written out so
    the exported graph is plain MatMul/Softmax."""

    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.head_dim = width // heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * width, width))
        self.in_proj_bias = nn.Parameter(torch.empty(3 * width))
        self.out_proj = nn.Linear(width, width)

    def forward(self, x):
        B, N, W = x.shape
        q, k, v = F.linear(x, self.in_proj_weight, self.in_proj_bias).split(W, dim=-1)
        q, k, v = (t.reshape(B, N, self.heads, self.head_dim).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(self.head_dim))
        y = att.softmax(dim=-1) @ v
        return self.out_proj(y.transpose(1, 2).reshape(B, N, W))


class ResidualAttentionBlock(nn.Module):
    def __init__(self, cfg: VisionConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.width, eps=LAYER_NORM_EPS)
        self.attn = VisionAttention(cfg.width, cfg.heads)
        self.ln_2 = nn.LayerNorm(cfg.width, eps=LAYER_NORM_EPS)
        act = QuickGELU() if cfg.act == "quick_gelu" else nn.GELU()
        self.mlp = nn.Sequential()
        self.mlp.add_module("c_fc", nn.Linear(cfg.width, cfg.mlp_width))
        self.mlp.add_module("gelu", act)
        self.mlp.add_module("c_proj", nn.Linear(cfg.mlp_width, cfg.width))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, cfg: VisionConfig):
        super().__init__()
        self.resblocks = nn.ModuleList(ResidualAttentionBlock(cfg) for _ in range(cfg.layers))


class VisionTransformer(nn.Module):
    def __init__(self, cfg: VisionConfig):
        super().__init__()
        if cfg.act not in ("gelu", "quick_gelu"):
            raise ValueError(f"vision activation must be gelu or quick_gelu, not {cfg.act!r}")
        self.cfg = cfg
        grid = cfg.image_size // cfg.patch_size
        self.conv1 = nn.Conv2d(3, cfg.width, cfg.patch_size, stride=cfg.patch_size, bias=False)
        self.class_embedding = nn.Parameter(torch.empty(cfg.width))
        self.positional_embedding = nn.Parameter(torch.empty(grid * grid + 1, cfg.width))
        self.ln_pre = nn.LayerNorm(cfg.width, eps=LAYER_NORM_EPS)
        self.transformer = Transformer(cfg)
        self.ln_post = nn.LayerNorm(cfg.width, eps=LAYER_NORM_EPS)
        self.proj = nn.Parameter(torch.empty(cfg.width, cfg.embed_dim))

    def forward(self, pixel_values):
        x = self.conv1(pixel_values).flatten(2).transpose(1, 2)  # [B, grid², width]
        cls = self.class_embedding.reshape(1, 1, -1).expand(x.shape[0], 1, self.cfg.width)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding
        x = self.ln_pre(x)
        for block in self.transformer.resblocks:
            x = block(x)
        x = self.ln_post(x)
        return x[:, 0] @ self.proj  # class token → image embedding [B, embed_dim]


# ---------------------------------------------------------------------------------------------
# Prefix projector: L2-normalised image embedding → P GPT-2 input embeddings.


class PrefixProjector(nn.Module):
    def __init__(self, embed_dim, hidden, prefix_tokens, d_model):
        super().__init__()
        self.prefix_tokens = prefix_tokens
        self.d_model = d_model
        self.fc1 = nn.Linear(embed_dim, hidden)
        self.fc2 = nn.Linear(hidden, prefix_tokens * d_model)
        self.ln = nn.LayerNorm(d_model, eps=LAYER_NORM_EPS)
        self.alpha = nn.Parameter(torch.ones(()))

    def forward(self, image_embedding):
        e = F.normalize(image_embedding, dim=-1)
        h = self.fc2(F.gelu(self.fc1(e)))  # exact (erf) GELU
        h = h.reshape(h.shape[0], self.prefix_tokens, self.d_model)
        return self.alpha * self.ln(h)


# ---------------------------------------------------------------------------------------------
# GPT-2 with a key/value cache, in Hugging Face's GPT2LMHeadModel layout.


class Conv1D(nn.Module):
    """Hugging Face's GPT-2 linear layer: the weight is stored [in, out]."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        self.bias = nn.Parameter(torch.empty(n_out))

    def forward(self, x):
        return x @ self.weight + self.bias


def gelu_new(x):
    """GPT-2's tanh-approximated GELU (Hugging Face's NewGELUActivation)."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class GPT2Attention(nn.Module):
    def __init__(self, cfg: GPT2Config):
        super().__init__()
        self.heads = cfg.heads
        self.head_dim = cfg.head_dim
        self.c_attn = Conv1D(cfg.hidden_size, 3 * cfg.hidden_size)
        self.c_proj = Conv1D(cfg.hidden_size, cfg.hidden_size)

    def forward(self, x, past_key, past_value, allowed):
        B, S, D = x.shape
        q, k, v = self.c_attn(x).split(D, dim=2)
        q, k, v = (t.reshape(B, S, self.heads, self.head_dim).transpose(1, 2) for t in (q, k, v))
        k = torch.cat([past_key, k], dim=2)  # [B, H, past + S, hd]
        v = torch.cat([past_value, v], dim=2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(self.head_dim))
        # The most negative float, not -inf: a fully masked row (a left-padding query) stays finite.
        att = att.masked_fill(~allowed, torch.finfo(att.dtype).min)
        y = att.softmax(dim=-1) @ v
        return self.c_proj(y.transpose(1, 2).reshape(B, S, D)), k, v


class GPT2MLP(nn.Module):
    def __init__(self, cfg: GPT2Config):
        super().__init__()
        self.c_fc = Conv1D(cfg.hidden_size, 4 * cfg.hidden_size)
        self.c_proj = Conv1D(4 * cfg.hidden_size, cfg.hidden_size)

    def forward(self, x):
        return self.c_proj(gelu_new(self.c_fc(x)))


class GPT2Block(nn.Module):
    def __init__(self, cfg: GPT2Config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.hidden_size, eps=LAYER_NORM_EPS)
        self.attn = GPT2Attention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.hidden_size, eps=LAYER_NORM_EPS)
        self.mlp = GPT2MLP(cfg)

    def forward(self, x, past_key, past_value, allowed):
        a, k, v = self.attn(self.ln_1(x), past_key, past_value, allowed)
        x = x + a
        return x + self.mlp(self.ln_2(x)), k, v


class GPT2Model(nn.Module):
    def __init__(self, cfg: GPT2Config):
        super().__init__()
        self.wte = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.wpe = nn.Embedding(cfg.max_positions, cfg.hidden_size)
        self.h = nn.ModuleList(GPT2Block(cfg) for _ in range(cfg.layers))
        self.ln_f = nn.LayerNorm(cfg.hidden_size, eps=LAYER_NORM_EPS)


class GPT2LMHead(nn.Module):
    """GPT2LMHeadModel from input embeddings, with the cache as a flat list
    [key_0, value_0, key_1, value_1, ...] of [B, H, past, hd] tensors."""

    def __init__(self, cfg: GPT2Config):
        super().__init__()
        self.cfg = cfg
        self.transformer = GPT2Model(cfg)

    @property
    def vocab_size(self):
        return self.cfg.vocab_size

    def embed(self, input_ids):
        return self.transformer.wte(input_ids)

    def empty_past(self, batch):
        shape = (batch, self.cfg.heads, 0, self.cfg.head_dim)
        return [torch.zeros(shape) for _ in range(2 * self.cfg.layers)]

    def forward(self, inputs_embeds, attention_mask, position_ids, past):
        """Returns the logits of the last position [B, 1, V] and the grown cache."""
        x = inputs_embeds + self.transformer.wpe(position_ids)
        # Query i sits at absolute position total - S + i; it sees earlier keys that are not padding.
        total, S = attention_mask.shape[1], inputs_embeds.shape[1]
        key_pos = torch.arange(total, device=x.device)
        query_pos = torch.arange(S, device=x.device) + (total - S)
        causal = key_pos[None, :] <= query_pos[:, None]
        allowed = causal[None, None] & (attention_mask[:, None, None, :] == 1)
        present = []
        for i, block in enumerate(self.transformer.h):
            x, k, v = block(x, past[2 * i], past[2 * i + 1], allowed)
            present += [k, v]
        x = self.transformer.ln_f(x[:, -1])  # only the last position's logits are ever used
        return F.linear(x, self.transformer.wte.weight).unsqueeze(1), present  # tied LM head


# ---------------------------------------------------------------------------------------------


class Captioner(nn.Module):
    def __init__(self, cfg: CaptionerConfig):
        super().__init__()
        self.cfg = cfg
        self.visual = VisionTransformer(cfg.vision)
        self.prefix = PrefixProjector(
            cfg.vision.embed_dim, cfg.projector_hidden, cfg.prefix_tokens, cfg.gpt2.hidden_size)
        self.gpt2 = GPT2LMHead(cfg.gpt2)

    def encode_image(self, pixel_values):
        """[B, 3, S, S] normalised pixels → [B, P, D] prefix embeddings."""
        return self.prefix(self.visual(pixel_values))
