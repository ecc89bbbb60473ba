"""Loading checkpoint files safely: torch pickles through an unpickler that builds tensors and
plain data only (unless the user trusts the file), safetensors without pickles at all; and their
sha256.

Why not torch.load(weights_only=True): torch 1.13's weights-only unpickler rejects float values
(pickle opcode BINFLOAT), and the author's checkpoints hold the training config (learning rates,
dropout) beside the weights. The unpickler below runs every opcode but resolves only the globals
a tensor state dict needs, so a file still cannot run code.
"""

import hashlib
import os
import pickle
import struct
import types

import torch

from .errors import SourceError
from .safetensors_reader import read_safetensors

# The globals a torch.save of tensors, dicts and plain values refers to (storages are resolved by
# torch.load itself before they reach find_class).
_ALLOWED_GLOBALS = {
    ("collections", "OrderedDict"), ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_parameter"),
    ("torch._utils", "_rebuild_parameter_with_state"), ("torch", "Size"), ("torch", "device"),
}


class _DataOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"the file refers to {module}.{name}, which is not tensor data")


_DATA_ONLY = types.SimpleNamespace(
    Unpickler=_DataOnlyUnpickler, load=lambda f, **kw: _DataOnlyUnpickler(f, **kw).load(), __name__="data_only")


def _load_data_only(path):
    """torch.load through _DataOnlyUnpickler. torch 1.13's torch.load replaces any pickle_module by
    pickle when weights_only is off, so this calls the two readers torch.load itself dispatches to."""
    serialization = torch.serialization
    with open(path, "rb") as f:
        if serialization._is_zipfile(f):
            with serialization._open_zipfile_reader(f) as archive:
                return serialization._load(archive, "cpu", _DATA_ONLY, encoding="utf-8")
        return serialization._legacy_load(f, "cpu", _DATA_ONLY, encoding="utf-8")


def load_tensors(path, what, wrapper, trust_pickles=False) -> dict:
    """A flat {name: tensor} state dict from a checkpoint file, at the top level or under `wrapper`."""
    return load_checkpoint(path, what, wrapper, trust_pickles)[0]


def load_checkpoint(path, what, wrapper, trust_pickles=False):
    """(state dict, the file's other top-level entries): a training checkpoint saved as
    {wrapper: state_dict, "cfg": {...}, "meta": {...}} gives its cfg and meta too."""
    if not os.path.isfile(path):
        raise SourceError(f"{what} {path}: no such file")
    if path.endswith(".safetensors"):
        try:
            return read_safetensors(path), {}
        except (OSError, ValueError, KeyError, struct.error) as e:
            raise SourceError(f"{what} {path}: not a readable safetensors file ({e})") from e
    try:
        obj = torch.load(path, map_location="cpu") if trust_pickles else _load_data_only(path)
    except pickle.UnpicklingError as e:
        raise SourceError(
            f"{what} {path}: refused to unpickle it ({str(e).splitlines()[0]}). It holds Python objects "
            "besides tensors and plain data; if you trust the file, pass --trust-pickles") from e
    except Exception as e:  # torch raises RuntimeError, EOFError, zipfile errors... for damaged files
        raise SourceError(f"{what} {path}: torch.load failed: {type(e).__name__}: {e}") from e
    extras = {}
    if isinstance(obj, dict) and isinstance(obj.get(wrapper), dict):
        extras = {k: v for k, v in obj.items() if k != wrapper}
        obj = obj[wrapper]
    if not isinstance(obj, dict) or not obj:
        raise SourceError(f"{what} {path}: no state dict: expected a dict of tensors at the top level "
                          f"or under {wrapper!r}, found {type(obj).__name__}")
    not_tensors = sorted(k for k, v in obj.items() if not isinstance(v, torch.Tensor))
    if not_tensors:
        raise SourceError(f"{what} {path}: expected a dict of tensors at the top level or under {wrapper!r}; "
                          f"these entries are not tensors: {', '.join(map(str, not_tensors[:20]))}")
    return obj, extras


def sha256_file(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 24), b""):
            digest.update(block)
    return digest.hexdigest()
