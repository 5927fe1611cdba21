#!/usr/bin/env python3
"""The PyTorch side of the GPU comparison (bench/gpu/run): the workloads of latent_gpu.cu on
CUDA, eager mode, fp32 with TF32 off, NCHW, synchronizing after every step as latent does.
The latency row also runs under a captured CUDA graph ("torch-graph"), PyTorch's fastest
batch-1 path. Prints "<program>\t<row>\t<value>\t<unit>" per repetition."""
import argparse
import sys
import time

import torch
from torch import nn


def measure(args, program, row, unit, units_per_iteration, step, latency=False, min_seconds=0.5):
    def run_for(seconds, min_iterations):
        iterations, start = 0, time.perf_counter()
        while True:
            step()
            torch.cuda.synchronize()
            iterations += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds and iterations >= min_iterations:
                return iterations, elapsed

    run_for(min_seconds / 2, 3)
    for _ in range(args.reps):
        iterations, seconds = run_for(min_seconds, 3)
        value = seconds * 1e9 / iterations if latency else units_per_iteration * iterations / seconds
        print(f"{program}\t{row}\t{value:.6g}\t{unit}", flush=True)


def mlp():
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def conv_block(cin, cout):
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
        *conv_block(16, 8), nn.Flatten(), nn.Linear(8 * 7 * 7, 2), nn.Linear(2, 8 * 7 * 7), nn.ReLU(),
        nn.Unflatten(1, (8, 7, 7)), *conv_block(8, 8), *conv_block(8, 16), nn.Upsample(scale_factor=2),
        *conv_block(16, 32), nn.Upsample(scale_factor=2), *conv_block(32, 32), nn.Conv2d(32, 1, 3, padding=1),
        nn.Sigmoid())


def train_row(args, row, model, optimizer, loss_fn, x, y):
    model.train()

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()

    measure(args, "torch", row, "samples/s", x.shape[0], step)


def wants(args, row):
    return not args.rows or row in args.rows or row.split(".")[0] in args.rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--rows", default="")
    args = parser.parse_args()
    args.rows = set(r for r in args.rows.split(",") if r)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(0)
    dev = torch.device("cuda")
    cross_entropy = nn.CrossEntropyLoss()

    for batch in (64, 256, 4096):
        row = f"G1.b{batch}"
        if wants(args, row):
            model = mlp().to(dev)
            x, y = torch.rand(batch, 784, device=dev), torch.randint(0, 10, (batch,), device=dev)
            train_row(args, row, model, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9), cross_entropy, x, y)
    for batch in (64, 512):
        images = torch.rand(batch, 1, 28, 28, device=dev)
        if wants(args, f"G2.b{batch}"):
            model = minivgg().to(dev)
            train_row(args, f"G2.b{batch}", model, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9),
                      cross_entropy, images, torch.randint(0, 10, (batch,), device=dev))
        if wants(args, f"G3.b{batch}"):
            model = conv_autoencoder().to(dev)
            train_row(args, f"G3.b{batch}", model, torch.optim.Adam(model.parameters(), lr=1e-3), nn.MSELoss(),
                      images, images)

    if wants(args, "G4.mlp"):
        model = nn.Sequential(mlp(), nn.Softmax(dim=1)).to(dev).eval()
        x = torch.rand(1, 784, device=dev)
        host_in, host_out = torch.rand(1, 784).pin_memory(), torch.empty(1, 10).pin_memory()

        def eager():  # the same round trip as latent's predict: input over, output back
            with torch.inference_mode():
                x.copy_(host_in, non_blocking=True)
                host_out.copy_(model(x), non_blocking=True)

        measure(args, "torch", "G4.mlp", "ns", 1, eager, latency=True)
        static_out = torch.empty(1, 10, device=dev)
        graph = torch.cuda.CUDAGraph()
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream), torch.inference_mode():
            for _ in range(3):
                static_out.copy_(model(x))
        torch.cuda.current_stream().wait_stream(stream)
        with torch.cuda.graph(graph), torch.inference_mode():
            static_out.copy_(model(x))

        def replay():
            x.copy_(host_in, non_blocking=True)
            graph.replay()
            host_out.copy_(static_out, non_blocking=True)

        measure(args, "torch-graph", "G4.mlp", "ns", 1, replay, latency=True)


if __name__ == "__main__":
    sys.exit(main())
