#!/usr/bin/python3
"""The PyTorch side of the peer comparison (bench/peers/run): the same workloads as
latent_peer.cpp, eager mode, fp32, NCHW. Prints "<row>\t<threads>\t<value>\t<unit>" per rep."""
import argparse
import sys
import time

import torch
from torch import nn


def measure(args, row, unit, units_per_iteration, step, latency=False, min_seconds=0.3):
    def run_for(seconds, min_iterations):
        iterations, start = 0, time.perf_counter()
        while True:
            step()
            iterations += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds and iterations >= min_iterations:
                return iterations, elapsed

    run_for(min_seconds / 2, 3)
    for _ in range(args.reps):
        iterations, seconds = run_for(min_seconds, 3)
        value = seconds * 1e9 / iterations if latency else units_per_iteration * iterations / seconds
        print(f"{row}\t{args.threads}\t{value:.6g}\t{unit}", flush=True)


def mlp():
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def conv_block(cin, cout):  # Conv 3x3 same, ReLU, BatchNorm with Keras' defaults
    return [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01)]


def minivgg():
    return nn.Sequential(
        *conv_block(1, 32), *conv_block(32, 32), nn.MaxPool2d(2), nn.Dropout(0.25),
        *conv_block(32, 64), *conv_block(64, 64), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 512), nn.ReLU(), nn.BatchNorm1d(512, eps=1e-3, momentum=0.01),
        nn.Dropout(0.5), nn.Linear(512, 10))


def conv_autoencoder():
    return nn.Sequential(
        *conv_block(1, 32), nn.MaxPool2d(2), *conv_block(32, 32), *conv_block(32, 16), nn.MaxPool2d(2),
        *conv_block(16, 8), nn.Flatten(), nn.Linear(8 * 7 * 7, 2),
        nn.Linear(2, 8 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (8, 7, 7)),
        *conv_block(8, 8), *conv_block(8, 16), nn.Upsample(scale_factor=2, mode="nearest"),
        *conv_block(16, 32), nn.Upsample(scale_factor=2, mode="nearest"), *conv_block(32, 32),
        nn.Conv2d(32, 1, 3, padding=1), nn.Sigmoid())


def train_row(args, row, model, optimizer, loss_fn, x, y):
    if not wants(args, row):
        return
    model.train()

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()

    measure(args, row, "samples/s", x.shape[0], step)


def wants(args, row):
    return not args.rows or row in args.rows or row[:2] in args.rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--rows", default="")
    args = parser.parse_args()
    args.rows = set(r for r in args.rows.split(",") if r)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    for m, n, k in ((64, 256, 784), (256, 512, 3136), (512, 512, 512)):
        row = f"W1.{m}x{n}x{k}"
        if wants(args, row):
            a, b = torch.rand(m, k) * 2 - 1, torch.rand(k, n) * 2 - 1
            c = torch.empty(m, n)
            measure(args, row, "GFLOP/s", 2e-9 * m * n * k, lambda: torch.matmul(a, b, out=c))

    cross_entropy = nn.CrossEntropyLoss()
    for batch in (64, 256):
        model = mlp()
        x, y = torch.rand(batch, 784), torch.randint(0, 10, (batch,))
        train_row(args, f"W2.b{batch}", model, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9),
                  cross_entropy, x, y)

    images = torch.rand(64, 1, 28, 28)
    model = minivgg()
    train_row(args, "W3.b64", model, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9), cross_entropy,
              images, torch.randint(0, 10, (64,)))
    model = conv_autoencoder()
    train_row(args, "W4.b64", model, torch.optim.Adam(model.parameters(), lr=1e-3), nn.MSELoss(), images, images)

    class LastStep(nn.Module):
        def forward(self, out):
            return out[0][:, -1]

    sequences = torch.rand(64, 28, 28)
    for row, cell in (("W7.lstm", nn.LSTM), ("W7.gru", nn.GRU)):
        if wants(args, row):
            model = nn.Sequential(cell(28, 128, batch_first=True), LastStep(), nn.Linear(128, 10))
            train_row(args, row, model, torch.optim.Adam(model.parameters(), lr=1e-3), cross_entropy, sequences,
                      torch.randint(0, 10, (64,)))

    for row, model, inputs in (("W5.mlp", nn.Sequential(mlp(), nn.Softmax(dim=1)), 784),
                               ("W5.tiny", nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(),
                                                         nn.Linear(16, 1)), 8)):
        if not wants(args, row):
            continue
        model.eval()
        x = torch.rand(1, inputs)

        def infer():
            with torch.inference_mode():
                model(x)

        measure(args, row, "ns", 1, infer, latency=True)


if __name__ == "__main__":
    sys.exit(main())
