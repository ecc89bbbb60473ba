"""The exported decoder and embedding graphs, run by the numpy interpreter, behind the language-model
interface of dermcap_export.generate: decoding through them is what the Java engine does."""

import numpy as np
import onnx
import torch

import onnx_numpy


class OnnxLM:
    def __init__(self, bundle_dir, manifest):
        self.decoder = onnx.load(f"{bundle_dir}/decoder_model_merged.onnx")
        self.embed_graph = onnx.load(f"{bundle_dir}/embed_tokens.onnx")
        m = manifest["model"]
        self.vocab_size, self.layers = m["vocab_size"], m["num_layers"]
        self.cache_shape = (m["num_heads"], 0, m["head_dim"])
        self.cache_names = [f"{i}.{part}" for i in range(self.layers) for part in ("key", "value")]

    def embed(self, input_ids):
        out = onnx_numpy.run(self.embed_graph, {"input_ids": input_ids.numpy()})
        return torch.from_numpy(out["inputs_embeds"])

    def empty_past(self, batch):
        return [torch.zeros(batch, *self.cache_shape) for _ in self.cache_names]

    def __call__(self, inputs_embeds, attention_mask, position_ids, past):
        """generate()'s interface (a compact cache of past positions, grown by each call) over the
        in-place decoder: the past goes into a buffer with room for this call's positions, which
        the graph fills; rows are unpadded here (the reference generator runs one image)."""
        assert bool(attention_mask.all()), "OnnxLM drives unpadded rows only"
        batch, seq = inputs_embeds.shape[:2]
        past_len, total = past[0].shape[2], attention_mask.shape[1]
        feeds = {"inputs_embeds": inputs_embeds.numpy().astype(np.float32), "position_ids": position_ids.numpy(),
                 "seqlens_k": np.full(batch, total - 1, np.int32),
                 "total_sequence_length": np.array([total], np.int32)}
        for n, p in zip(self.cache_names, past):
            buffer = np.full((batch, p.shape[1], total, p.shape[3]), np.nan, np.float32)
            buffer[:, :, :past_len] = p.numpy()
            feeds[f"past_key_values.{n}"] = buffer
        out = onnx_numpy.run(self.decoder, feeds)
        return (torch.from_numpy(out["logits"]),
                [torch.from_numpy(out[f"present.{n}"]) for n in self.cache_names])


def encode_image(bundle_dir, pixel_values):
    graph = onnx.load(f"{bundle_dir}/vision_encoder.onnx")
    return torch.from_numpy(onnx_numpy.run(graph, {"pixel_values": pixel_values.numpy()})["prefix_embeds"])
