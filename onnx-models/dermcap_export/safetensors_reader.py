"""Reading a .safetensors file into torch tensors without the safetensors package."""

import json
import struct

import numpy as np
import torch

from .errors import SourceError


def read_safetensors(path) -> dict:
    """The safetensors layout: u64 header length, JSON header {name: {dtype, shape, data_offsets}}, data."""
    dtypes = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32}
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] == "BF16":  # numpy has no bfloat16: widen the 16 stored bits
            start, end = info["data_offsets"]
            raw = np.frombuffer(data[start:end], dtype=np.uint16).astype(np.uint32) << 16
            array = raw.view(np.float32)
        elif info["dtype"] in dtypes:
            start, end = info["data_offsets"]
            array = np.frombuffer(data[start:end], dtype=dtypes[info["dtype"]])
        else:
            raise SourceError(f"{path}: tensor {name} has dtype {info['dtype']}, which this exporter does not read")
        tensors[name] = torch.from_numpy(array.copy()).reshape(info["shape"])
    return tensors
