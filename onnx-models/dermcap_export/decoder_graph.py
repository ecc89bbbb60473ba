"""The decoder graph, written node by node: GPT-2 whose attention writes each call's keys and values
into a cache the caller preallocates, in place (ONNX Runtime's com.microsoft.GroupQueryAttention
with kv_num_heads = num_heads, no rotary: GPT-2's learned positions are added before the blocks).

Contract (BUNDLE.md, "decoder_model_merged.onnx"):

    inputs_embeds          float32 [batch, sequence, D]
    position_ids           int64   [batch, sequence]
    seqlens_k              int32   [batch]        valid positions of each row after this call, minus 1
    total_sequence_length  int32   [1]            the longest row's valid positions after this call
    past_key_values.{i}.*  CACHE   [batch, H, max_sequence, hd]
    → logits               float32 [batch, 1, V]  at each row's last valid position
    → present.{i}.*        CACHE   [batch, H, max_sequence, hd]

CACHE is float32, or float16 (`--kv-cache float16`): then each attention's packed q/k/v is cast to
float16 before it and its output back to float32 after it, the rest of the graph unchanged. ONNX
Runtime's CUDA GroupQueryAttention takes float16/bfloat16 only; its CPU kernel takes both.

A row's positions sit from 0 of its cache row (right padding), so left padding never enters the
cache. When past and present are the same buffer, the kernel writes positions
[seqlens_k + 1 - sequence, seqlens_k] of each row and reads [0, seqlens_k]: nothing else moves.
A prefill call is one whose sequence equals total_sequence_length (a row shorter than that is
right-padded in inputs_embeds; its padding queries are computed and never read).
"""

import math

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .model import LAYER_NORM_EPS

MS_DOMAIN = "com.microsoft"


def cache_names(layers, kind):
    prefix = "past_key_values" if kind == "past" else "present"
    return [f"{prefix}.{i}.{part}" for i in range(layers) for part in ("key", "value")]


CACHE_TYPES = {"float32": TensorProto.FLOAT, "float16": TensorProto.FLOAT16}


def build(gpt2, opset, kv_cache="float32") -> onnx.ModelProto:
    """gpt2: the torch GPT2LMHead whose weights the graph carries; kv_cache: the cache's type."""
    cache_type = CACHE_TYPES[kv_cache]
    cfg = gpt2.cfg
    D, H, hd, V = cfg.hidden_size, cfg.heads, cfg.head_dim, cfg.vocab_size
    weights = {k: np.asarray(v.detach().numpy(), dtype=np.float32) for k, v in gpt2.state_dict().items()}  # views, no copies
    initializers = []
    nodes = []

    def weight(name, array=None):
        initializers.append(numpy_helper.from_array(weights[name] if array is None else array, name))
        return name

    def const(name, array):
        initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(op, inputs, outputs, domain="", **attrs):
        nodes.append(helper.make_node(op, inputs, outputs, name=f"{op}_{len(nodes)}", domain=domain, **attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    def skip_layer_norm(x, skip, prefix, out, bias=None):
        """(layer norm of x + skip + bias, that sum): the residual stream and the next norm in one
        operator, where Add, Add and LayerNormalization were three (ONNX Runtime does not fuse them)."""
        inputs = [x, skip, weight(f"{prefix}.weight"), weight(f"{prefix}.bias")] + ([weight(bias)] if bias else [])
        normed, _, _, total = node("SkipLayerNormalization", inputs, [out, "", "", f"{out}.sum"], domain=MS_DOMAIN,
                                   epsilon=LAYER_NORM_EPS)
        return normed, total

    t = "transformer"
    wpe = node("Gather", [weight(f"{t}.wpe.weight"), "position_ids"], ["positions"], axis=0)
    past, present = cache_names(cfg.layers, "past"), cache_names(cfg.layers, "present")
    # a projection's bias is added by the SkipLayerNormalization after it, with the residual
    ln_1, x = skip_layer_norm("inputs_embeds", wpe, f"{t}.h.0.ln_1", "h.0.ln_1")
    for i in range(cfg.layers):
        p = f"{t}.h.{i}"
        qkv = node("Add", [node("MatMul", [ln_1, weight(f"{p}.attn.c_attn.weight")], [f"h.{i}.qkv.matmul"]),
                           weight(f"{p}.attn.c_attn.bias")], [f"h.{i}.qkv"])
        if cache_type != TensorProto.FLOAT:  # the kernel's query, keys, values and cache share one type
            qkv = node("Cast", [qkv], [f"h.{i}.qkv.cast"], to=cache_type)
        attn = node("GroupQueryAttention",
                    [qkv, "", "", past[2 * i], past[2 * i + 1], "seqlens_k", "total_sequence_length"],
                    [f"h.{i}.attn", present[2 * i], present[2 * i + 1]], domain=MS_DOMAIN,
                    num_heads=H, kv_num_heads=H, scale=1.0 / math.sqrt(hd))[0]
        if cache_type != TensorProto.FLOAT:
            attn = node("Cast", [attn], [f"h.{i}.attn.cast"], to=TensorProto.FLOAT)
        attn_out = node("MatMul", [attn, weight(f"{p}.attn.c_proj.weight")], [f"h.{i}.attn_out"])
        ln_2, x = skip_layer_norm(attn_out, x, f"{p}.ln_2", f"h.{i}.ln_2", bias=f"{p}.attn.c_proj.bias")
        fc = node("MatMul", [ln_2, weight(f"{p}.mlp.c_fc.weight")], [f"h.{i}.fc"])
        act = node("FastGelu", [fc, weight(f"{p}.mlp.c_fc.bias")], [f"h.{i}.gelu"], domain=MS_DOMAIN)
        mlp_out = node("MatMul", [act, weight(f"{p}.mlp.c_proj.weight")], [f"h.{i}.mlp_out"])
        if i + 1 < cfg.layers:
            ln_1, x = skip_layer_norm(mlp_out, x, f"{t}.h.{i + 1}.ln_1", f"h.{i + 1}.ln_1", bias=f"{p}.mlp.c_proj.bias")

    # each row's last valid position: min(seqlens_k, sequence - 1) (a decoding step has sequence 1)
    seq = node("Gather", [node("Shape", [x], ["h.shape"]), const("dim_sequence", np.array(1, np.int64))], ["sequence"])
    last_query = node("Sub", [seq, const("one", np.array(1, np.int64))], ["last_query"])
    row_last = node("Min", [node("Cast", ["seqlens_k"], ["seqlens_k.i64"], to=TensorProto.INT64), last_query], ["row_last"])
    index = node("Expand", [node("Reshape", [row_last, const("shape_b11", np.array([-1, 1, 1], np.int64))], ["row_last.b11"]),
                            const("shape_11d", np.array([1, 1, D], np.int64))], ["row_last.b1d"])
    # the last block's residual sum and ln_f, for that position only
    last_mlp = node("GatherElements", [mlp_out, index], ["h.last.mlp_out"], axis=1)
    last_x = node("GatherElements", [x, index], ["h.last.mid"], axis=1)
    normed = skip_layer_norm(last_mlp, last_x, f"{t}.ln_f", "ln_f", bias=f"{t}.h.{cfg.layers - 1}.mlp.c_proj.bias")[0]
    # tied LM head: wte stored transposed once more, as the traced graph did, for a plain MatMul
    node("MatMul", [normed, weight("lm_head.weight", np.ascontiguousarray(weights[f"{t}.wte.weight"].T))], ["logits"])

    cache = ["batch", H, "max_sequence", hd]
    inputs = [helper.make_tensor_value_info("inputs_embeds", TensorProto.FLOAT, ["batch", "sequence", D]),
              helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch", "sequence"]),
              helper.make_tensor_value_info("seqlens_k", TensorProto.INT32, ["batch"]),
              helper.make_tensor_value_info("total_sequence_length", TensorProto.INT32, [1])]
    inputs += [helper.make_tensor_value_info(n, cache_type, cache) for n in past]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 1, V])]
    outputs += [helper.make_tensor_value_info(n, cache_type, cache) for n in present]
    graph = helper.make_graph(nodes, "decoder_model_merged", inputs, outputs, initializers)
    return helper.make_model(graph, producer_name="dermcap-export",
                             opset_imports=[helper.make_opsetid("", opset), helper.make_opsetid(MS_DOMAIN, 1)])
