#!/usr/bin/env python3
"""The PyTorch half of examples/pytorch_to_latent: trains the MLP 784-256-128-10 briefly in
PyTorch on the real Fashion-MNIST and exports it for latent.

usage: /usr/bin/python3 train_torch.py OUT_DIR [EPOCHS]

Reads $LATENT_DATA/fashion-mnist (default data/, from scripts/fetch-data). Writes to OUT_DIR:
  mlp_from_pytorch.safetensors   the trained weights, in latent's names and layouts
  test_images.npy                the 10,000 test images, (10000, 784) float32 in [0, 1]
  torch_test_probs.npy           PyTorch's softmax outputs for them, (10000, 10) float32
"""

import gzip
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "lib"))
import latent_torch  # noqa: E402


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def images(path):
    # The same float values latent's reader gives: double(v) / 255 rounded to float.
    return (read_idx(path).reshape(-1, 784).astype(np.float64) * (1.0 / 255.0)).astype(np.float32)


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    out_dir = sys.argv[1]
    epochs = int(sys.argv[2]) if len(sys.argv) == 3 else 5
    os.makedirs(out_dir, exist_ok=True)
    data = os.path.join(os.environ.get("LATENT_DATA") or "data", "fashion-mnist")
    x_train = torch.from_numpy(images(os.path.join(data, "train-images-idx3-ubyte.gz")))
    y_train = torch.from_numpy(read_idx(os.path.join(data, "train-labels-idx1-ubyte.gz")).astype(np.int64))
    x_test = images(os.path.join(data, "t10k-images-idx3-ubyte.gz"))
    y_test = read_idx(os.path.join(data, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.time()
    for epoch in range(epochs):
        order = torch.randperm(len(x_train))
        for first in range(0, len(order), 128):
            batch = order[first:first + 128]
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x_train[batch]), y_train[batch])
            loss.backward()
            optimizer.step()
        print(f"PyTorch epoch {epoch + 1}/{epochs}: last batch loss {loss.item():.4f}")
    print(f"PyTorch {torch.__version__}: trained {epochs} epochs in {time.time() - start:.1f} s")

    # The latent network ends in Softmax; so does the exported model's output here.
    model = nn.Sequential(*model, nn.Softmax(dim=1)).eval()
    with torch.no_grad():
        probs = model(torch.from_numpy(x_test)).numpy()
    print(f"PyTorch test accuracy {np.mean(probs.argmax(1) == y_test):.4f}")
    names = latent_torch.export(model, os.path.join(out_dir, "mlp_from_pytorch.safetensors"))
    np.save(os.path.join(out_dir, "test_images.npy"), x_test)
    np.save(os.path.join(out_dir, "torch_test_probs.npy"), probs.astype(np.float32))
    print(f"exported {', '.join(names)} to {out_dir}/mlp_from_pytorch.safetensors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
