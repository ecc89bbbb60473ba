"""The three graphs of a dermcap bundle (BUNDLE.md): the vision encoder and the token embedding traced
from the torch Captioner at opset 17, the decoder written node by node (decoder_graph.py) so that its
attention updates a preallocated key/value cache in place. A graph whose weights would pass
protobuf's 2 GB limit is written with its initialisers in one `<graph>.onnx.data` file.
"""

import inspect
import os
import tempfile
import warnings

import onnx
import torch
import torch.nn as nn

from . import decoder_graph
from .model import Captioner

OPSET = 17
# torch >= 2.9 exports through torch.export (dynamo) by default, with other dynamic-shape rules and
# node names; the bundle is made by the TorchScript tracer on every torch version.
_TORCHSCRIPT_EXPORTER = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
# Weights above this go into a `.onnx.data` file beside the graph. ONNX Runtime reads external data
# straight into its tensors, while inline weights go through the protobuf parser and are copied:
# the full-size bundle loads in 6 s instead of 15 s and holds 1.1 GB less (docs/benchmarks.md).
# Small graphs (the test fixtures, the toy model) stay in one file.
EXTERNAL_DATA_THRESHOLD = 64 << 20
_ELEM_TYPES = {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.FLOAT16: "float16", onnx.TensorProto.INT64: "int64",
               onnx.TensorProto.INT32: "int32"}


class VisionEncoder(nn.Module):
    def __init__(self, captioner: Captioner):
        super().__init__()
        self.captioner = captioner

    def forward(self, pixel_values):
        return self.captioner.encode_image(pixel_values)


class EmbedTokens(nn.Module):
    def __init__(self, captioner: Captioner):
        super().__init__()
        self.wte = captioner.gpt2.transformer.wte

    def forward(self, input_ids):
        return self.wte(input_ids)


def graph_specs(captioner: Captioner):
    """(file stem, module, example inputs, input names, output names, dynamic axes) per traced graph."""
    cfg = captioner.cfg
    batch, seq = 2, 3
    size = cfg.vision.image_size
    return [
        ("vision_encoder", VisionEncoder(captioner), (torch.zeros(batch, 3, size, size),),
         ["pixel_values"], ["prefix_embeds"],
         {"pixel_values": {0: "batch"}, "prefix_embeds": {0: "batch"}}),
        ("embed_tokens", EmbedTokens(captioner), (torch.zeros(batch, seq, dtype=torch.long),),
         ["input_ids"], ["inputs_embeds"],
         {"input_ids": {0: "batch", 1: "sequence"}, "inputs_embeds": {0: "batch", 1: "sequence"}}),
    ]


def expected_signatures(captioner: Captioner, kv_cache="float32"):
    """The contract of BUNDLE.md, to check the exported graphs against."""
    cfg, g = captioner.cfg, captioner.cfg.gpt2
    s = cfg.vision.image_size
    cache = ["batch", g.heads, "max_sequence", g.head_dim]

    def io(name, dtype, shape):
        return {"name": name, "type": dtype, "shape": shape}

    return {
        "vision_encoder": ([io("pixel_values", "float32", ["batch", 3, s, s])],
                           [io("prefix_embeds", "float32", ["batch", cfg.prefix_tokens, g.hidden_size])]),
        "embed_tokens": ([io("input_ids", "int64", ["batch", "sequence"])],
                         [io("inputs_embeds", "float32", ["batch", "sequence", g.hidden_size])]),
        "decoder_model_merged": (
            [io("inputs_embeds", "float32", ["batch", "sequence", g.hidden_size]),
             io("position_ids", "int64", ["batch", "sequence"]),
             io("seqlens_k", "int32", ["batch"]),
             io("total_sequence_length", "int32", [1])]
            + [io(n, kv_cache, cache) for n in decoder_graph.cache_names(g.layers, "past")],
            [io("logits", "float32", ["batch", 1, g.vocab_size])]
            + [io(n, kv_cache, cache) for n in decoder_graph.cache_names(g.layers, "present")]),
    }


def io_signature(model: onnx.ModelProto):
    def describe(value):
        t = value.type.tensor_type
        dims = [d.dim_param if d.dim_param else d.dim_value for d in t.shape.dim]
        return {"name": value.name, "type": _ELEM_TYPES.get(t.elem_type, str(t.elem_type)), "shape": dims}

    return [describe(v) for v in model.graph.input], [describe(v) for v in model.graph.output]


def _weights_bytes(model: onnx.ModelProto):
    return sum(len(t.raw_data) for t in model.graph.initializer)


def _traced(module, args, inputs, outputs, axes, scratch):
    """torch may spill weights of a >2 GB model into one file per tensor next to its output: trace
    into a scratch folder, then the caller writes the graph the way the bundle wants it."""
    tmp_path = os.path.join(scratch, "graph.onnx")
    with torch.no_grad(), warnings.catch_warnings():
        # torch 1.13 warns about every traced constant's missing shape inference: noise.
        warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
        torch.onnx.export(module, args, tmp_path, input_names=inputs, output_names=outputs,
                          dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True,
                          **_TORCHSCRIPT_EXPORTER)
    model = onnx.load(tmp_path)
    model.doc_string = ""
    return model


def export_graphs(captioner: Captioner, out_dir: str, kv_cache="float32",
                  external_data_threshold=EXTERNAL_DATA_THRESHOLD):
    """Writes the three graphs into out_dir, the decoder's cache of type kv_cache (float32 or
    float16); returns {graph: (onnx file, external data file or None)}.
    `external_data_threshold` (bytes of weights) is a parameter only so tests can exercise that path."""
    captioner.eval()
    written = {}
    expected = expected_signatures(captioner, kv_cache)
    builders = [(stem, lambda scratch, spec=spec: _traced(*spec, scratch)) for stem, *spec in graph_specs(captioner)]
    builders.append(("decoder_model_merged", lambda scratch: decoder_graph.build(captioner.gpt2, OPSET, kv_cache)))
    for stem, build in builders:
        path = os.path.join(out_dir, f"{stem}.onnx")
        with tempfile.TemporaryDirectory(dir=out_dir) as scratch:
            model = build(scratch)
            data_file = None
            if _weights_bytes(model) > external_data_threshold:
                data_file = f"{stem}.onnx.data"
                onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                                location=data_file, size_threshold=1024)
            else:
                onnx.save_model(model, path)
            del model  # the checker loads the file again: not two copies of a 1.4 GB graph at once
        onnx.checker.check_model(path)  # the path form also checks external data files
        actual = io_signature(onnx.load(path, load_external_data=False))
        if [list(a) for a in actual] != [list(e) for e in expected[stem]]:
            raise RuntimeError(f"{stem}: exported I/O {actual} differs from the bundle contract {expected[stem]}")
        written[stem] = (path, os.path.join(out_dir, data_file) if data_file else None)
    return written
