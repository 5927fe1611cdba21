#!/usr/bin/env python3
"""PyTorch parity: the same weights and inputs mean the same thing in latent and in PyTorch.

Builds the PyTorch twin of a latent network (the MLP 784-256-128-10, the MiniVGG network, the
convolutional autoencoder, a small Conv2DTranspose network for that layer's layout, an LSTM
feeding a GRU for theirs and their gate orders, or the same both ways (Bidirectional)), written the way a PyTorch user writes them:
channels-first, a plain flatten, exports its weights with scripts/lib/latent_torch.py, runs the latent tool
(tests/tools/torch_parity.cpp) on them and checks:
  * outputs of predict agree within 1e-5, relative to the largest output;
  * the loss and every parameter gradient of one training step agree within 1e-4, relative to
    the largest value of each;
  * the weights latent trained (a few SGD steps) load into PyTorch and give latent's outputs.

usage: torch_parity.py NET TOOL DIR       NET: mlp, minivgg, conv_autoencoder, conv_transpose, recurrent,
                                          bidirectional
exit:  0 agree, 1 disagree, 2 usage, 77 torch missing (a skip)
"""

import copy
import os
import subprocess
import sys

try:
    import numpy as np
    import torch
    import torch.nn as nn
except ImportError as e:  # CTest treats 77 as "skipped"
    print(f"SKIP: {e}", file=sys.stderr)
    sys.exit(77)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "lib"))
import latent_torch  # noqa: E402

OUTPUT_TOLERANCE = 1e-5
GRADIENT_TOLERANCE = 1e-4


def bn(c, two_d=True):
    # Keras' BatchNormalization defaults, which latent follows.
    return (nn.BatchNorm2d if two_d else nn.BatchNorm1d)(c, eps=1e-3, momentum=0.01)


def conv(i, o):
    return nn.Conv2d(i, o, 3, padding=1)  # Padding::same for a 3x3 kernel at stride 1


def mlp():
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10),
                          nn.Softmax(dim=1))
    return model, {}, {}


def minivgg():
    model = nn.Sequential(
        conv(1, 32), nn.ReLU(), bn(32), conv(32, 32), nn.ReLU(), bn(32), nn.MaxPool2d(2),
        conv(32, 64), nn.ReLU(), bn(64), conv(64, 64), nn.ReLU(), bn(64), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 512), nn.ReLU(), bn(512, False), nn.Linear(512, 10), nn.Softmax(dim=1))
    return model, {"15": (64, 7, 7)}, {}


def conv_autoencoder():
    model = nn.Sequential(
        conv(1, 32), nn.ReLU(), bn(32), nn.MaxPool2d(2),
        conv(32, 32), nn.ReLU(), bn(32),
        conv(32, 16), nn.ReLU(), bn(16), nn.MaxPool2d(2),
        conv(16, 8), nn.ReLU(), bn(8),
        nn.Flatten(), nn.Linear(8 * 7 * 7, 2),
        nn.Linear(2, 8 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (8, 7, 7)),
        conv(8, 8), nn.ReLU(), bn(8),
        conv(8, 16), nn.ReLU(), bn(16), nn.Upsample(scale_factor=2, mode="nearest"),
        conv(16, 32), nn.ReLU(), bn(32), nn.Upsample(scale_factor=2, mode="nearest"),
        conv(32, 32), nn.ReLU(), bn(32),
        conv(32, 1), nn.Sigmoid())
    return model, {"15": (8, 7, 7)}, {"16": (8, 7, 7)}


def conv_transpose():
    model = nn.Sequential(nn.ConvTranspose2d(3, 4, 3, stride=2), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 13 * 13, 10),
                          nn.Softmax(dim=1))
    return model, {"3": (4, 13, 13)}, {}


class Steps(nn.Module):
    """An nn.LSTM's or nn.GRU's output at every step: latent's Returns::sequences."""

    def forward(self, out):
        return out[0]


class LastStep(nn.Module):
    """Its output at the last step: latent's default (Keras' return_sequences=False)."""

    def forward(self, out):
        return out[0][:, -1]


class BothLast(nn.Module):
    """A bidirectional nn.LSTM's or nn.GRU's last output as latent's Bidirectional gives it: the
    forward direction's last step beside the backward direction's, which is step 0."""

    def __init__(self, units):
        super().__init__()
        self.units = units

    def forward(self, out):
        return torch.cat([out[0][:, -1, :self.units], out[0][:, 0, self.units:]], dim=1)


def bidirectional():
    model = nn.Sequential(nn.LSTM(3, 5, batch_first=True, bidirectional=True), Steps(),
                          nn.GRU(10, 4, batch_first=True, bidirectional=True), BothLast(4), nn.Linear(8, 10),
                          nn.Softmax(dim=1))
    return model, {}, {}


def recurrent():
    model = nn.Sequential(nn.LSTM(3, 8, batch_first=True), Steps(), nn.GRU(8, 6, batch_first=True), LastStep(),
                          nn.Linear(6, 10), nn.Softmax(dim=1))
    return model, {}, {}


NETS = {"mlp": (mlp, (784,), 32), "minivgg": (minivgg, (28, 28, 1), 8),
        "conv_autoencoder": (conv_autoencoder, (28, 28, 1), 8), "conv_transpose": (conv_transpose, (6, 6, 3), 8),
        "recurrent": (recurrent, (7, 3), 8), "bidirectional": (bidirectional, (7, 3), 8)}


def relative(a, b):
    scale = max(float(np.max(np.abs(b))), 1e-30)
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))) / scale


def check_command_line(model, folder, convert, failures):
    """scripts/torch-export on a bare state_dict gives the files the module gives."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "torch-export")
    state = os.path.join(folder, "model_state.pt")
    torch.save(model.state_dict(), state)
    options = [f"--flatten-from={k}={','.join(map(str, v))}" for k, v in convert["flatten_from"].items()]
    # A bare state_dict cannot tell a transposed convolution from a convolution.
    options += [f"--conv-transpose={q}" for q, m in model.named_modules() if isinstance(m, nn.ConvTranspose2d)]
    exported = os.path.join(folder, "cli.safetensors")
    back = os.path.join(folder, "cli_back.pt")
    for command in (["to-latent", state, exported], ["to-torch", exported, state, back]):
        result = subprocess.run([script] + command + options, capture_output=True, text=True)
        if result.returncode != 0:
            failures.append(f"scripts/torch-export {command[0]} failed: {result.stderr}")
            return
    arrays, _ = latent_torch.read_safetensors(exported)
    expected = latent_torch.to_latent_arrays(model, **convert)
    if sorted(arrays) != sorted(expected) or any(not np.array_equal(arrays[k], expected[k]) for k in expected):
        failures.append("scripts/torch-export to-latent wrote other tensors than latent_torch.export")
    restored = torch.load(back)
    for k, v in model.state_dict().items():
        if k.endswith("num_batches_tracked"):
            continue
        if k not in restored or not torch.equal(restored[k], v):
            failures.append(f"scripts/torch-export to-torch did not restore {k}")
    print("  scripts/torch-export round trip                exact")


def check_recurrent_refusals(model, folder, failures):
    """What latent's LSTM and GRU cannot be is refused, and a refused load changes nothing."""
    arrays, _ = latent_torch.read_safetensors(os.path.join(folder, "trained.safetensors"))
    arrays["gru/bias"] = arrays["gru/bias"][0]  # one row of the (2, 3u) bias
    before = {k: v.clone() for k, v in model.state_dict().items()}
    try:
        latent_torch.from_latent_arrays(model, arrays)
        failures.append("a GRU bias of shape (3u,) was loaded")
    except ValueError as e:
        if "expected a GRU's bias of shape (2, 18)" not in str(e):
            failures.append(f"the GRU bias error does not say what was expected: {e}")
    if any(not torch.equal(v, model.state_dict()[k]) for k, v in before.items()):
        failures.append("a refused load changed the model")
    for module in (nn.LSTM(3, 8, proj_size=4), nn.LSTM(3, 8, num_layers=2), nn.GRU(3, 8, bias=False)):
        for convert in (lambda m: latent_torch.to_latent_arrays(nn.Sequential(m)),
                        lambda m: latent_torch.to_latent_arrays(
                            latent_torch.StateDictModel(nn.Sequential(m).state_dict()))):
            try:
                convert(module)
                failures.append(f"{module} was converted")
            except ValueError:
                pass
    print("  LSTM/GRU that latent's are not, and bad biases    refused")


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in NETS:
        print(__doc__, file=sys.stderr)
        return 2
    name, tool, folder = sys.argv[1:]
    os.makedirs(folder, exist_ok=True)
    build, sample_shape, batch = NETS[name]
    torch.manual_seed(1)
    torch.set_num_threads(1)
    model, flatten_from, unflatten_to = build()
    # Non-trivial BatchNorm state, so inference really uses the moving statistics.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    convert = dict(flatten_from=flatten_from, unflatten_to=unflatten_to)
    latent_torch.export(model, os.path.join(folder, "weights.safetensors"), **convert)

    rng = np.random.default_rng(7)
    x = rng.uniform(0.0, 1.0, size=(batch,) + sample_shape).astype(np.float32)
    if name == "conv_autoencoder":
        y = x.copy()
    else:
        y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, size=batch)]
    latent_torch.write_safetensors(os.path.join(folder, "inputs.safetensors"), {"x": x, "y": y})

    result = subprocess.run([tool, name, folder], capture_output=True, text=True)
    if result.returncode != 0:
        print(f"FAIL: the latent tool exited with {result.returncode}: {result.stderr}", file=sys.stderr)
        return 1
    latent, _ = latent_torch.read_safetensors(os.path.join(folder, "latent.safetensors"))

    def to_torch(a):  # channels-last batches to channels-first
        t = torch.from_numpy(a)
        return t.permute(0, 3, 1, 2).contiguous() if t.dim() == 4 else t

    def from_torch(t):
        t = t.detach()
        return (t.permute(0, 2, 3, 1) if t.dim() == 4 else t).contiguous().numpy()

    failures = []

    def check(what, got, want, tolerance):
        if got.shape != want.shape:
            failures.append(f"{what}: latent shape {got.shape}, torch shape {want.shape}")
            return
        err = relative(got, want)
        print(f"  {what:45s} relative error {err:.2e}  (tolerance {tolerance:g})")
        if not err <= tolerance:
            failures.append(f"{what}: relative error {err:.3e} > {tolerance:g}")

    print(f"{name}: PyTorch {torch.__version__}, batch {batch}")
    model.eval()
    with torch.no_grad():
        check("predict output", latent["output"], from_torch(model(to_torch(x))), OUTPUT_TOLERANCE)

    # One training step: batch statistics in BatchNorm, the loss as latent/Keras define it; in
    # float32 as latent computes it, and in float64 as the exact value to judge both by.
    def training_step(m, dtype):
        m.train()
        m.zero_grad()
        out = m(to_torch(x).to(dtype))
        target = to_torch(y).to(dtype)
        if name == "conv_autoencoder":
            loss = ((out - target) ** 2).mean()
        else:
            loss = -(target * torch.log(out)).sum(dim=1).mean()
        loss.backward()
        grads = latent_torch.to_latent_arrays(m, gradients=True, **convert)
        return np.array([loss.item()]), grads

    loss32, grads32 = training_step(model, torch.float32)
    loss64, grads64 = training_step(copy.deepcopy(model).double(), torch.float64)
    check("loss", latent["loss"].reshape(1).astype(np.float64), loss32, GRADIENT_TOLERANCE)
    for key in sorted(grads32):
        got = latent[f"grad/{key}"]
        if got.shape == grads32[key].shape and relative(got, grads32[key]) > GRADIENT_TOLERANCE:
            # Some gradients are ill-conditioned in float32 (conv -> ReLU -> BatchNorm layers
            # fed by a 2-unit bottleneck: the batch-norm backward subtracts nearly equal sums),
            # so PyTorch's own float32 gradient is that far from the exact one. There latent must
            # be as close to the exact (float64) gradient as PyTorch's float32 gradient is.
            torch_error = relative(grads32[key], grads64[key])
            latent_error = relative(got, grads64[key])
            print(f"  {'gradient ' + key:45s} vs float64: latent {latent_error:.2e}, torch float32 {torch_error:.2e}")
            if not latent_error <= 2.0 * torch_error:
                failures.append(f"gradient {key}: relative error {latent_error:.3e} to the float64 gradient, "
                                f"more than twice PyTorch float32's {torch_error:.3e}")
        else:
            check(f"gradient {key}", got, grads32[key], GRADIENT_TOLERANCE)
    missing = sorted(k[len("grad/"):] for k in latent if k.startswith("grad/") and k[len("grad/"):] not in grads32)
    if missing:
        failures.append(f"latent has gradients torch has not: {missing}")

    # Weights trained in latent, loaded into PyTorch.
    latent_torch.load(model, os.path.join(folder, "trained.safetensors"), **convert)
    model.eval()
    with torch.no_grad():
        check("output after latent training, in torch", latent["trained_output"], from_torch(model(to_torch(x))),
              OUTPUT_TOLERANCE)

    if name != "conv_autoencoder":
        check_command_line(model, folder, convert, failures)
    if name == "recurrent":
        check_recurrent_refusals(model, folder, failures)

    if failures:
        print("FAIL:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print(f"{name}: latent and PyTorch agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
