"""PyTorch <-> latent weights, through latent's safetensors files.

latent names a parameter "<layer name>/<weight>" and stores it channels-last, as Keras does;
PyTorch names it after the module and stores it channels-first. This module converts a
PyTorch model's weights to a file that `net.load_weights(path)` reads, and a file written by
`net.save_weights(path)` back into the PyTorch model:

    import latent_torch
    latent_torch.export(model, "from_pytorch.safetensors")   # torch -> latent
    latent_torch.load(model, "trained_in_latent.safetensors")  # latent -> torch

What maps to what (torch module: latent layer, weight layouts):

    nn.Linear           Dense               weight (out, in)          -> kernel (in, out); bias
    nn.Conv2d           Conv2D              weight (out, in, kh, kw)  -> kernel (kh, kw, in, out); bias
    nn.ConvTranspose2d  Conv2DTranspose     weight (in, out, kh, kw)  -> kernel (kh, kw, out, in); bias
    nn.BatchNorm1d/2d   BatchNormalization  weight, bias, running_mean, running_var
                                            -> gamma, beta, moving_mean, moving_variance
    nn.LSTM             LSTM                weight_ih_l0 (4u, in)     -> kernel (in, 4u), gates (i, f, g, o) both;
                                            weight_hh_l0 (4u, u)      -> recurrent_kernel (u, 4u);
                                            bias_ih_l0 + bias_hh_l0   -> bias (4u) (back: bias_ih, bias_hh = 0)
    nn.GRU              GRU                 torch's gates (r, z, n) are Keras' (z, r, h) reordered:
                                            weight_ih_l0 (3u, in)     -> kernel (in, 3u);
                                            weight_hh_l0 (3u, u)      -> recurrent_kernel (u, 3u);
                                            bias_ih_l0, bias_hh_l0    -> bias (2, 3u) (Keras' reset_after=True,
                                            which is torch's GRU)

nn.LSTM and nn.GRU convert when they have one layer and biases (latent's LSTM and GRU are that);
bidirectional=True is latent's Bidirectional<LSTM> (named "bidirectional", ... with weights
"forward_lstm/kernel", ..., "backward_lstm/..." from torch's "_reverse" ones, as Keras names them).
The module returns (output, state): output for Returns::sequences (batch_first=True is latent's
(batch, steps, features) layout); output[:, -1] for latent's default of one direction, and for a
bidirectional one torch.cat([output[:, -1, :u], output[:, 0, u:]], 1) (the backward direction's
last step is step 0).

Layer names: by default the torch modules that hold weights get Keras' default names in the
order the model registers them (dense, dense_1, conv2d, conv2d_1, batch_normalization, ...),
which are the names a latent Sequential gives its layers when the two list them in the same
order. `names={"classifier.0": "logits"}` overrides a name (keys are torch module names as
model.named_modules() gives them).

Two things the weights alone cannot say, given per torch module:

  * flatten_from={"fc1": (C, H, W)}: the Linear reads a flattened (C, H, W) feature map.
    torch flattens channels-first, latent's Flatten channels-last, so the kernel's rows are
    permuted.
  * unflatten_to={"fc2": (C, H, W)}: the Linear's output is viewed as a (C, H, W) map (latent:
    Reshape<H, W, C>), so the kernel's columns and the bias are permuted.

Settings that are not weights are not carried: latent's BatchNormalization uses Keras'
epsilon 1e-3 (torch: eps=1e-5) and momentum 0.99 (torch: momentum=0.01); build the torch model
with eps=1e-3, or set the latent layer's epsilon(1e-5). A latent Conv2D with Padding::same
pads like TensorFlow (for stride 1 and odd kernels, torch's padding=k//2 is the same).

The safetensors reader and writer here use numpy only (Debian has no `safetensors` package).
"""

import json
import struct

import numpy as np

__all__ = ["export", "load", "to_latent_arrays", "from_latent_arrays", "layer_names",
           "read_safetensors", "write_safetensors"]

# ---------------------------------------------------------------------------------------------
# safetensors

_DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "F16": np.dtype("<f2"),
           "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "U8": np.dtype("u1")}
_NAMES = {v: k for k, v in _DTYPES.items()}


def read_safetensors(path):
    """Returns ({name: numpy array}, metadata) of a safetensors file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: not a safetensors file (shorter than 8 bytes)")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise ValueError(f"{path}: header of {n} bytes runs past the end of the file")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    body = memoryview(data)[8 + n:]
    metadata = header.pop("__metadata__", {}) or {}
    arrays = {}
    for name, entry in header.items():
        dtype = _DTYPES.get(entry["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name!r} has dtype {entry['dtype']}, which this reader does not take")
        begin, end = entry["data_offsets"]
        shape = tuple(entry["shape"])
        count = int(np.prod(shape, dtype=np.int64))
        if end - begin != count * dtype.itemsize or end > len(body):
            raise ValueError(f"{path}: tensor {name!r} of shape {shape} has data_offsets {begin, end}")
        arrays[name] = np.frombuffer(body[begin:end], dtype=dtype).reshape(shape).copy()
    return arrays, metadata


def write_safetensors(path, arrays, metadata=None):
    """Writes {name: numpy array} as a safetensors file (float32 stays float32, ...)."""
    header = {}
    chunks = []
    offset = 0
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        dtype = a.dtype.newbyteorder("<") if a.dtype.byteorder == ">" else a.dtype
        if dtype not in _NAMES:
            raise ValueError(f"tensor {name!r}: dtype {a.dtype} cannot be written")
        raw = a.astype(dtype, copy=False).tobytes()
        header[name] = {"dtype": _NAMES[dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)


# ---------------------------------------------------------------------------------------------
# layer naming and layouts

def _kinds():
    import torch.nn as nn
    return [(nn.Linear, "dense"), (nn.Conv2d, "conv2d"), (nn.ConvTranspose2d, "conv2d_transpose"),
            ((nn.BatchNorm1d, nn.BatchNorm2d), "batch_normalization"), (nn.LSTM, "lstm"), (nn.GRU, "gru")]


def _kind_of(module):
    for types, kind in _kinds():
        if isinstance(module, types):
            # A bidirectional nn.LSTM/nn.GRU is latent's Bidirectional<LSTM>/<GRU>, named as Keras
            # names Bidirectional layers.
            return "bidirectional" if kind in ("lstm", "gru") and module.bidirectional else kind
    return None


def layer_names(model, names=None):
    """[(torch module name, module, latent layer name, kind)] for every module with weights."""
    names = names or {}
    counters = {}
    out = []
    for qualified, module in model.named_modules():
        kind = _kind_of(module)
        if kind is None:
            continue
        count = counters.get(kind, 0)
        counters[kind] = count + 1
        default = kind if count == 0 else f"{kind}_{count}"
        out.append((qualified, module, names.get(qualified, default), kind))
    unknown = set(names) - {q for q, _, _, _ in out}
    if unknown:
        raise ValueError(f"names given for modules without convertible weights: {sorted(unknown)}")
    return out


def _np(t):
    return t.detach().cpu().numpy().astype(np.float32)


def _check_recurrent(qualified, m):
    what = type(m).__name__
    if m.num_layers != 1 or not m.bias or getattr(m, "proj_size", 0):
        raise ValueError(f"{qualified or 'the model'}: an {what} converts to latent's {what} (or Bidirectional<{what}>) "
                         f"with num_layers=1, bias=True and no proj_size; got num_layers={m.num_layers}, "
                         f"bias={m.bias}, proj_size={getattr(m, 'proj_size', 0)}")


def _directions(m, name):
    """(latent name prefix, torch parameter suffix, inner kind) of each direction of an nn.LSTM
    or nn.GRU: one for a plain one; "forward_lstm" and "backward_lstm" (torch's "_reverse"
    weights) under a Bidirectional one, as Keras names them."""
    import torch.nn as nn
    inner = "lstm" if isinstance(m, nn.LSTM) else "gru"
    if not m.bidirectional:
        return [(name, "", inner)]
    return [(f"{name}/forward_{inner}", "", inner), (f"{name}/backward_{inner}", "_reverse", inner)]


def _gru_gates(a):
    """torch's GRU gate blocks (r, z, n) along axis 0 in Keras' order (z, r, h), and back (the
    same swap)."""
    u = a.shape[0] // 3
    return np.ascontiguousarray(np.concatenate([a[u:2 * u], a[:u], a[2 * u:]], axis=0))


def _dense_kernel(weight, flatten_from, unflatten_to):
    k = weight.T  # (in, out)
    if flatten_from is not None:
        c, h, w = flatten_from
        k = k.reshape(c, h, w, -1).transpose(1, 2, 0, 3).reshape(h * w * c, -1)
    if unflatten_to is not None:
        c, h, w = unflatten_to
        k = k.reshape(-1, c, h, w).transpose(0, 2, 3, 1).reshape(k.shape[0], -1)
    return np.ascontiguousarray(k)


def _dense_weight(kernel, flatten_from, unflatten_to):
    k = kernel
    if unflatten_to is not None:
        c, h, w = unflatten_to
        k = k.reshape(-1, h, w, c).transpose(0, 3, 1, 2).reshape(k.shape[0], -1)
    if flatten_from is not None:
        c, h, w = flatten_from
        k = k.reshape(h, w, c, -1).transpose(2, 0, 1, 3).reshape(c * h * w, -1)
    return np.ascontiguousarray(k.T)


def _bias_to_latent(bias, unflatten_to):
    if unflatten_to is None:
        return bias
    c, h, w = unflatten_to
    return np.ascontiguousarray(bias.reshape(c, h, w).transpose(1, 2, 0).reshape(-1))


def _bias_to_torch(bias, unflatten_to):
    if unflatten_to is None:
        return bias
    c, h, w = unflatten_to
    return np.ascontiguousarray(bias.reshape(h, w, c).transpose(2, 0, 1).reshape(-1))


def to_latent_arrays(model, names=None, flatten_from=None, unflatten_to=None, gradients=False):
    """{latent name: array} of the model's weights (or, with gradients=True, of their .grad)."""
    flatten_from = flatten_from or {}
    unflatten_to = unflatten_to or {}
    out = {}

    def value(p):
        if gradients:
            return np.zeros(tuple(p.shape), np.float32) if p.grad is None else _np(p.grad)
        return _np(p)

    for qualified, m, name, kind in layer_names(model, names):
        if kind == "dense":
            ff, uf = flatten_from.get(qualified), unflatten_to.get(qualified)
            out[f"{name}/kernel"] = _dense_kernel(value(m.weight), ff, uf)
            if m.bias is not None:
                out[f"{name}/bias"] = _bias_to_latent(value(m.bias), uf)
        elif kind in ("conv2d", "conv2d_transpose"):
            out[f"{name}/kernel"] = np.ascontiguousarray(value(m.weight).transpose(2, 3, 1, 0))
            if m.bias is not None:
                out[f"{name}/bias"] = value(m.bias)
        elif kind in ("lstm", "gru", "bidirectional"):
            _check_recurrent(qualified, m)
            for prefix, suffix, inner in _directions(m, name):
                order = _gru_gates if inner == "gru" else (lambda a: a)
                weight = lambda w, suffix=suffix: value(getattr(m, w + suffix))  # noqa: E731
                out[f"{prefix}/kernel"] = np.ascontiguousarray(order(weight("weight_ih_l0")).T)
                out[f"{prefix}/recurrent_kernel"] = np.ascontiguousarray(order(weight("weight_hh_l0")).T)
                b_ih, b_hh = order(weight("bias_ih_l0")), order(weight("bias_hh_l0"))
                if inner == "gru":
                    out[f"{prefix}/bias"] = np.stack([b_ih, b_hh])
                else:  # the two add up; so do their gradients, which are equal: one is the bias's
                    out[f"{prefix}/bias"] = b_ih if gradients else b_ih + b_hh
        else:
            out[f"{name}/gamma"] = value(m.weight)
            out[f"{name}/beta"] = value(m.bias)
            if not gradients:
                out[f"{name}/moving_mean"] = _np(m.running_mean)
                out[f"{name}/moving_variance"] = _np(m.running_var)
    return out


def from_latent_arrays(model, arrays, names=None, flatten_from=None, unflatten_to=None, strict=True):
    """Copies {latent name: array} into the model; all shapes are checked before anything is
    written, so a failed load leaves the model as it was. strict: every array must be used."""
    import torch
    flatten_from = flatten_from or {}
    unflatten_to = unflatten_to or {}
    plan = []  # (torch tensor, numpy array, latent name)

    def take(name, tensor, convert):
        if name not in arrays:
            raise KeyError(f"the file has no tensor {name!r} (needed for {tuple(tensor.shape)})")
        a = convert(np.asarray(arrays[name], dtype=np.float32))
        if tuple(a.shape) != tuple(tensor.shape):
            raise ValueError(f"tensor {name!r}: expected shape {tuple(tensor.shape)} in torch's layout, "
                             f"got {tuple(a.shape)} after conversion")
        plan.append((tensor, a, name))

    for qualified, m, name, kind in layer_names(model, names):
        if kind == "dense":
            ff, uf = flatten_from.get(qualified), unflatten_to.get(qualified)
            take(f"{name}/kernel", m.weight, lambda k, ff=ff, uf=uf: _dense_weight(k, ff, uf))
            if m.bias is not None:
                take(f"{name}/bias", m.bias, lambda b, uf=uf: _bias_to_torch(b, uf))
        elif kind in ("conv2d", "conv2d_transpose"):
            take(f"{name}/kernel", m.weight, lambda k: np.ascontiguousarray(k.transpose(3, 2, 0, 1)))
            if m.bias is not None:
                take(f"{name}/bias", m.bias, lambda b: b)
        elif kind in ("lstm", "gru", "bidirectional"):
            _check_recurrent(qualified, m)
            for prefix, suffix, inner in _directions(m, name):
                order = _gru_gates if inner == "gru" else (lambda a: a)
                take(f"{prefix}/kernel", getattr(m, "weight_ih_l0" + suffix),
                     lambda k, order=order: np.ascontiguousarray(order(k.T)))
                take(f"{prefix}/recurrent_kernel", getattr(m, "weight_hh_l0" + suffix),
                     lambda k, order=order: np.ascontiguousarray(order(k.T)))
                b_ih, b_hh = getattr(m, "bias_ih_l0" + suffix), getattr(m, "bias_hh_l0" + suffix)
                if inner == "gru":  # (2, 3u): the input bias, then the recurrent one
                    def gru_bias(b, row, n=b_ih.shape[0], bias_name=f"{prefix}/bias"):
                        if b.shape != (2, n):
                            raise ValueError(f"tensor {bias_name!r}: expected a GRU's bias of shape (2, {n}), "
                                             f"got {b.shape}")
                        return _gru_gates(b[row])

                    for row, tensor in enumerate((b_ih, b_hh)):
                        take(f"{prefix}/bias", tensor, lambda b, row=row, gru_bias=gru_bias: gru_bias(b, row))
                else:  # torch adds two biases; latent's is their sum
                    take(f"{prefix}/bias", b_ih, lambda b: b)
                    plan.append((b_hh, np.zeros(tuple(b_hh.shape), np.float32), f"{prefix}/bias"))
        else:
            take(f"{name}/gamma", m.weight, lambda v: v)
            take(f"{name}/beta", m.bias, lambda v: v)
            take(f"{name}/moving_mean", m.running_mean, lambda v: v)
            take(f"{name}/moving_variance", m.running_var, lambda v: v)
    used = {name for _, _, name in plan}
    if strict and set(arrays) - used:
        raise ValueError(f"the file has tensors the model does not use: {sorted(set(arrays) - used)}")
    with torch.no_grad():
        for tensor, a, _ in plan:
            tensor.copy_(torch.from_numpy(a))


def export(model, path, names=None, flatten_from=None, unflatten_to=None):
    """Writes the torch model's weights as a latent safetensors file; returns the names written."""
    arrays = to_latent_arrays(model, names, flatten_from, unflatten_to)
    write_safetensors(path, arrays, {"format": "latent", "source": "pytorch"})
    return sorted(arrays)


def load(model, path, names=None, flatten_from=None, unflatten_to=None, strict=True):
    """Loads a latent safetensors file (net.save_weights) into the torch model."""
    arrays, _ = read_safetensors(path)
    from_latent_arrays(model, arrays, names, flatten_from, unflatten_to, strict)


# ---------------------------------------------------------------------------------------------
# state_dict files (scripts/torch-export)

class StateDictModel:
    """Stand-in modules for a bare state_dict, so that it converts like a model: "<m>.weight"
    of rank 2 is an nn.Linear, of rank 4 an nn.Conv2d (an nn.ConvTranspose2d when <m> is in
    `conv_transpose`), a module with running_mean a BatchNorm, one with weight_hh_l0 an nn.LSTM
    (4u rows) or an nn.GRU (3u rows). Order: the state_dict's."""

    def __init__(self, state_dict, conv_transpose=()):
        import torch.nn as nn
        self.modules = []
        seen = set()
        for key in state_dict:
            prefix = key.rsplit(".", 1)[0] if "." in key else ""
            if prefix in seen:
                continue
            seen.add(prefix)
            p = prefix + "." if prefix else ""
            weight = state_dict.get(p + "weight")
            recurrent = state_dict.get(p + "weight_hh_l0")
            if weight is None and recurrent is None:
                continue
            if recurrent is not None:  # (4u, u) for an LSTM, (3u, u) for a GRU
                if any((p + k) in state_dict for k in ("weight_hh_l1", "weight_hr_l0")):
                    raise ValueError(f"state_dict module {prefix!r} is a recurrent network of several layers, or "
                                     "with a projection (proj_size); latent's LSTM and GRU are one layer, no "
                                     "projection")
                inputs, units = state_dict[p + "weight_ih_l0"].shape[1], recurrent.shape[1]
                gates = recurrent.shape[0] // units
                if gates not in (3, 4) or gates * units != recurrent.shape[0]:
                    raise ValueError(f"state_dict entry {p}weight_hh_l0 of shape {tuple(recurrent.shape)} is not "
                                     "an LSTM's (4u, u) or a GRU's (3u, u)")
                m = (nn.LSTM if gates == 4 else nn.GRU)(inputs, units, batch_first=True,
                                                        bias=(p + "bias_ih_l0") in state_dict,
                                                        bidirectional=(p + "weight_hh_l0_reverse") in state_dict)
            elif (p + "running_mean") in state_dict:
                m = nn.BatchNorm1d(weight.shape[0])
            elif weight.dim() == 2:
                m = nn.Linear(weight.shape[1], weight.shape[0], bias=(p + "bias") in state_dict)
            elif weight.dim() == 4 and prefix in conv_transpose:
                m = nn.ConvTranspose2d(weight.shape[0], weight.shape[1], tuple(weight.shape[2:]),
                                       bias=(p + "bias") in state_dict)
            elif weight.dim() == 4:
                m = nn.Conv2d(weight.shape[1], weight.shape[0], tuple(weight.shape[2:]),
                              bias=(p + "bias") in state_dict)
            else:
                raise ValueError(f"state_dict entry {key!r} of shape {tuple(weight.shape)} is not a Linear, "
                                 "Conv2d or BatchNorm weight")
            m.load_state_dict({k[len(p):]: v for k, v in state_dict.items()
                               if k.startswith(p) and "." not in k[len(p):]}, strict=False)
            self.modules.append((prefix, m))

    def named_modules(self):
        return list(self.modules)

    def state_dict(self):
        out = {}
        for prefix, m in self.modules:
            p = prefix + "." if prefix else ""
            for k, v in m.state_dict().items():
                out[p + k] = v
        return out
