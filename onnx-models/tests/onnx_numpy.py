"""A small numpy interpreter for the ONNX operators our exported graphs use, so tests can run the
graphs without onnxruntime (there is none for Python here, and onnx 1.12 has no reference
evaluator). Unknown operators or attribute values fail loudly instead of being guessed."""

import math

import numpy as np
import onnx
from onnx import numpy_helper

_erf = np.vectorize(math.erf, otypes=[np.float32])


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _reshape(x, shape, allowzero=0):
    if allowzero:
        raise NotImplementedError("Reshape with allowzero=1")
    shape = [x.shape[i] if d == 0 else d for i, d in enumerate(shape.tolist())]
    return x.reshape(shape)


def _slice(x, starts, ends, axes=None, steps=None):
    axes = range(len(starts)) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    index = [slice(None)] * x.ndim
    for s, e, a, st in zip(starts.tolist(), ends.tolist(), list(axes), list(steps)):
        index[a] = slice(s, min(e, x.shape[a]) if e >= 0 else e, st)
    return x[tuple(index)]


def _conv(x, w, b=None, **a):
    kh, kw = w.shape[2:]
    if (a.get("strides") != [kh, kw] or any(a.get("pads", [0])) or a.get("group", 1) != 1
            or any(d != 1 for d in a.get("dilations", [1]))):
        raise NotImplementedError(f"Conv with {a}: only non-overlapping patch convolutions are implemented")
    n, c, h, wd = x.shape
    patches = x.reshape(n, c, h // kh, kh, wd // kw, kw).transpose(0, 2, 4, 1, 3, 5).reshape(n, h // kh, wd // kw, -1)
    y = patches @ w.reshape(w.shape[0], -1).T
    if b is not None:
        y = y + b
    return y.transpose(0, 3, 1, 2).astype(np.float32)


def _layer_norm(x, scale, bias, axis=-1, epsilon=1e-5, **_):
    mean = x.mean(axis=axis, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axis, keepdims=True)
    return ((x - mean) / np.sqrt(var + epsilon) * scale + bias).astype(np.float32)


def _skip_layer_norm(x, skip, scale, bias, skip_bias=None, epsilon=1e-5):
    """com.microsoft.SkipLayerNormalization: [layer_norm(x + skip (+ bias)), mean, inv_std_var, x + skip (+ bias)]
    (the two statistics are not computed: our graphs leave those outputs unnamed)."""
    total = x + skip if skip_bias is None else x + skip + skip_bias
    return [_layer_norm(total, scale, bias, epsilon=epsilon), None, None, total.astype(np.float32)]


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True)).astype(np.float32)


def _gemm(a, b, c=None, alpha=1.0, beta=1.0, transA=0, transB=0):
    y = alpha * ((a.T if transA else a) @ (b.T if transB else b))
    return (y + beta * c if c is not None else y).astype(np.float32)


def _split(x, split=None, axis=0):
    points = np.cumsum(split.tolist())[:-1]
    return np.split(x, points, axis=axis)


def _group_query_attention(qkv, past_key, past_value, seqlens_k, total_sequence_length, num_heads, kv_num_heads,
                           scale=0.0):
    """com.microsoft.GroupQueryAttention as ONNX Runtime's CPU kernel computes it, for what our decoder
    uses: packed QKV, BNSH past/present of one buffer length (present = the past buffer with this
    call's positions written), no rotary. Row b ends at seqlens_k[b] + 1 valid positions; a call whose
    sequence equals total_sequence_length is a prompt (positions from 0), else one new position."""
    if num_heads != kv_num_heads:
        raise NotImplementedError("grouped heads")
    batch, seq, width = qkv.shape
    hd = width // (3 * num_heads)
    q, k, v = (x.reshape(batch, seq, num_heads, hd).transpose(0, 2, 1, 3) for x in np.split(qkv, 3, axis=-1))
    present_key, present_value = past_key.copy(), past_value.copy()  # of the cache's type: float32 or float16
    q = q.astype(np.float32)  # scores and softmax in float32, as the kernel computes them for float16 too
    prompt = seq == int(np.asarray(total_sequence_length).reshape(-1)[0])
    out = np.zeros((batch, num_heads, seq, hd), np.float32)
    alpha = scale or 1 / math.sqrt(hd)
    for b in range(batch):
        total = int(seqlens_k[b]) + 1
        past = 0 if prompt else total - seq
        present_key[b, :, past:past + seq], present_value[b, :, past:past + seq] = k[b], v[b]
        keys, values = (x[b, :, :total].astype(np.float32) for x in (present_key, present_value))
        scores = (q[b] @ keys.transpose(0, 2, 1)) * np.float32(alpha)  # [N, S, total]
        visible = np.arange(total)[None, :] <= (past + np.arange(seq))[:, None]
        scores = np.where(visible, scores, -np.inf)
        out[b] = _softmax(scores) @ values
    out = out.transpose(0, 2, 1, 3).reshape(batch, seq, num_heads * hd).astype(qkv.dtype)
    return [out, present_key, present_value]


def _fast_gelu(x, bias=None):
    x = x + bias if bias is not None else x
    return (0.5 * x * (1 + np.tanh(np.float32(math.sqrt(2 / math.pi)) * (x + np.float32(0.044715) * x ** 3)))).astype(x.dtype)


def _gather_elements(x, index, axis=0):
    return np.take_along_axis(x, index, axis=axis)


_ONNX_TO_NUMPY = {onnx.TensorProto.FLOAT: np.float32, onnx.TensorProto.FLOAT16: np.float16,
                  onnx.TensorProto.INT64: np.int64, onnx.TensorProto.BOOL: np.bool_, onnx.TensorProto.INT32: np.int32}

OPS = {
    "Add": lambda a, b: a + b, "Sub": lambda a, b: a - b, "Mul": lambda a, b: a * b,
    "Div": lambda a, b: (a / b).astype(a.dtype) if a.dtype.kind == "f" else a // b,
    "Pow": lambda a, b: np.power(a, b).astype(a.dtype), "MatMul": lambda a, b: np.matmul(a, b),
    "Tanh": np.tanh, "Erf": lambda x: _erf(x), "Sigmoid": lambda x: (1 / (1 + np.exp(-x))).astype(x.dtype),
    "Sqrt": np.sqrt, "Neg": np.negative,
    "Equal": np.equal, "LessOrEqual": np.less_equal, "Less": np.less, "Greater": np.greater,
    "And": np.logical_and, "Not": np.logical_not, "Where": np.where,
    "Shape": lambda x: np.array(x.shape, dtype=np.int64),
    "Reshape": _reshape, "Slice": _slice, "Conv": _conv, "LayerNormalization": _layer_norm,
    "Softmax": _softmax, "Gemm": _gemm, "Split": _split,
    "Transpose": lambda x, perm=None: x.transpose(perm),
    "Concat": lambda *xs, axis: np.concatenate(xs, axis=axis),
    "Gather": lambda x, i, axis=0: np.take(x, i, axis=axis),
    "Unsqueeze": lambda x, axes: np.expand_dims(x, tuple(int(a) for a in axes)),
    "Squeeze": lambda x, axes=None: np.squeeze(x, None if axes is None else tuple(int(a) for a in axes)),
    "Cast": lambda x, to: x.astype(_ONNX_TO_NUMPY[to]),
    "Range": lambda start, limit, delta: np.arange(start, limit, delta, dtype=start.dtype),
    "Expand": lambda x, shape: np.broadcast_to(x, np.broadcast_shapes(x.shape, tuple(shape.tolist()))).copy(),
    "ConstantOfShape": lambda shape, value=None: np.full(
        tuple(shape.tolist()), numpy_helper.to_array(value)[0] if value is not None else 0.0),
    "Clip": lambda x, lo=None, hi=None: np.clip(x, -np.inf if lo is None else lo, np.inf if hi is None else hi),
    "ReduceL2": lambda x, axes=None, keepdims=1: np.sqrt((x * x).sum(
        axis=None if axes is None else tuple(axes), keepdims=bool(keepdims))).astype(x.dtype),
    "Min": np.minimum, "GatherElements": _gather_elements,
    "GroupQueryAttention": _group_query_attention, "FastGelu": _fast_gelu,
    "SkipLayerNormalization": _skip_layer_norm,
    "ReduceSum": lambda x, axes=None, keepdims=1: x.sum(
        axis=None if axes is None else tuple(axes.tolist()), keepdims=bool(keepdims)),
}


def run(model: onnx.ModelProto, feeds: dict) -> dict:
    values = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    values.update(feeds)
    for node in model.graph.node:
        attrs = _attrs(node)
        if node.op_type == "Constant":
            values[node.output[0]] = numpy_helper.to_array(attrs["value"])
            continue
        if node.op_type not in OPS:
            raise NotImplementedError(f"operator {node.op_type} ({node.name}) is not implemented")
        args = [values[i] if i else None for i in node.input]
        if node.op_type == "GroupQueryAttention":
            if args[1] is not None or args[2] is not None:
                raise NotImplementedError("GroupQueryAttention with separate key and value")
            args = [args[0]] + args[3:]
        while args and args[-1] is None:
            args.pop()
        out = OPS[node.op_type](*args, **attrs)
        for name, value in zip(node.output, out if isinstance(out, list) else [out]):
            if name:
                values[name] = np.asarray(value)
    return {o.name: values[o.name] for o in model.graph.output}
