"""The three graphs of a dermcap bundle (BUNDLE.md), traced from the torch Captioner at opset 17.

The decoder is traced with a non-empty past and a sequence longer than one, so the graph keeps
both dynamic and also accepts a zero-length past (the prefill call). A graph whose weights would
pass protobuf's 2 GB limit is written with its initialisers in one `<graph>.onnx.data` file.
"""

import os
import shutil
import tempfile

import onnx
import torch
import torch.nn as nn

from .model import Captioner

OPSET = 17
PROTOBUF_LIMIT = 2 * 1024 ** 3
_ELEM_TYPES = {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.INT64: "int64"}


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


class Decoder(nn.Module):
    """Flat inputs/outputs in the bundle's order: inputs_embeds, attention_mask, position_ids, past...
    → logits, present..."""

    def __init__(self, captioner: Captioner):
        super().__init__()
        self.gpt2 = captioner.gpt2

    def forward(self, inputs_embeds, attention_mask, position_ids, *past):
        logits, present = self.gpt2(inputs_embeds, attention_mask, position_ids, list(past))
        return (logits, *present)


def _cache_names(layers, kind):
    prefix = "past_key_values" if kind == "past" else "present"
    return [f"{prefix}.{i}.{part}" for i in range(layers) for part in ("key", "value")]


def graph_specs(captioner: Captioner):
    """(file stem, module, example inputs, input names, output names, dynamic axes) per graph."""
    cfg = captioner.cfg
    g = cfg.gpt2
    batch, seq, past = 2, 3, 4
    size = cfg.vision.image_size
    past_tensors = [torch.zeros(batch, g.heads, past, g.head_dim) for _ in range(2 * g.layers)]
    past_in, present_out = _cache_names(g.layers, "past"), _cache_names(g.layers, "present")
    decoder_axes = {"inputs_embeds": {0: "batch", 1: "sequence"},
                    "attention_mask": {0: "batch", 1: "total_sequence"},
                    "position_ids": {0: "batch", 1: "sequence"},
                    "logits": {0: "batch"}}
    decoder_axes.update({n: {0: "batch", 2: "past_sequence"} for n in past_in})
    decoder_axes.update({n: {0: "batch", 2: "total_sequence"} for n in present_out})
    return [
        ("vision_encoder", VisionEncoder(captioner), (torch.zeros(batch, 3, size, size),),
         ["pixel_values"], ["prefix_embeds"],
         {"pixel_values": {0: "batch"}, "prefix_embeds": {0: "batch"}}),
        ("embed_tokens", EmbedTokens(captioner), (torch.zeros(batch, seq, dtype=torch.long),),
         ["input_ids"], ["inputs_embeds"],
         {"input_ids": {0: "batch", 1: "sequence"}, "inputs_embeds": {0: "batch", 1: "sequence"}}),
        ("decoder_model_merged", Decoder(captioner),
         (torch.zeros(batch, seq, g.hidden_size), torch.ones(batch, past + seq, dtype=torch.long),
          torch.arange(past, past + seq).expand(batch, -1).contiguous(), *past_tensors),
         ["inputs_embeds", "attention_mask", "position_ids", *past_in], ["logits", *present_out], decoder_axes),
    ]


def expected_signatures(captioner: Captioner):
    """The contract of BUNDLE.md, to check the exported graphs against."""
    cfg, g = captioner.cfg, captioner.cfg.gpt2
    s = cfg.vision.image_size
    cache = ["batch", g.heads, None, g.head_dim]

    def io(name, dtype, shape):
        return {"name": name, "type": dtype, "shape": shape}

    return {
        "vision_encoder": ([io("pixel_values", "float32", ["batch", 3, s, s])],
                           [io("prefix_embeds", "float32", ["batch", cfg.prefix_tokens, g.hidden_size])]),
        "embed_tokens": ([io("input_ids", "int64", ["batch", "sequence"])],
                         [io("inputs_embeds", "float32", ["batch", "sequence", g.hidden_size])]),
        "decoder_model_merged": (
            [io("inputs_embeds", "float32", ["batch", "sequence", g.hidden_size]),
             io("attention_mask", "int64", ["batch", "total_sequence"]),
             io("position_ids", "int64", ["batch", "sequence"])]
            + [io(n, "float32", [d if d is not None else "past_sequence" for d in cache])
               for n in _cache_names(g.layers, "past")],
            [io("logits", "float32", ["batch", 1, g.vocab_size])]
            + [io(n, "float32", [d if d is not None else "total_sequence" for d in cache])
               for n in _cache_names(g.layers, "present")]),
    }


def io_signature(model: onnx.ModelProto):
    def describe(value):
        t = value.type.tensor_type
        dims = [d.dim_param if d.dim_param else d.dim_value for d in t.shape.dim]
        return {"name": value.name, "type": _ELEM_TYPES.get(t.elem_type, str(t.elem_type)), "shape": dims}

    return [describe(v) for v in model.graph.input], [describe(v) for v in model.graph.output]


def _weights_bytes(model: onnx.ModelProto):
    return sum(len(t.raw_data) for t in model.graph.initializer)


def export_graphs(captioner: Captioner, out_dir: str, external_data_threshold=PROTOBUF_LIMIT - (64 << 20)):
    """Writes the three graphs into out_dir; returns {graph: (onnx file, external data file or None)}.
    `external_data_threshold` (bytes of weights) is a parameter only so tests can exercise that path."""
    captioner.eval()
    written = {}
    expected = expected_signatures(captioner)
    for stem, module, args, inputs, outputs, axes in graph_specs(captioner):
        path = os.path.join(out_dir, f"{stem}.onnx")
        with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
            # torch may spill weights of a >2 GB model into one file per tensor next to its output:
            # export into a scratch folder, then write the graph the way the bundle wants it.
            tmp_path = os.path.join(tmp, "graph.onnx")
            with torch.no_grad():
                torch.onnx.export(module, args, tmp_path, input_names=inputs, output_names=outputs,
                                  dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True)
            model = onnx.load(tmp_path)
            model.doc_string = ""
            data_file = None
            if _weights_bytes(model) > external_data_threshold:
                data_file = f"{stem}.onnx.data"
                onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                                location=data_file, size_threshold=1024)
            else:
                onnx.save_model(model, path)
        onnx.checker.check_model(path)  # the path form also checks external data files
        actual = io_signature(onnx.load(path, load_external_data=False))
        if [list(a) for a in actual] != [list(e) for e in expected[stem]]:
            raise RuntimeError(f"{stem}: exported I/O {actual} differs from the bundle contract {expected[stem]}")
        written[stem] = (path, os.path.join(out_dir, data_file) if data_file else None)
    return written


def remove_bundle_files(out_dir):
    """Clears what export_graphs may have left in a folder it failed in."""
    for name in os.listdir(out_dir):
        full = os.path.join(out_dir, name)
        shutil.rmtree(full) if os.path.isdir(full) else os.remove(full)
