#!/usr/bin/env python3
"""Reads the "<program>\t<row>\t<value>\t<unit>" lines bench/gpu/run collected and prints one
Markdown table: medians per program and latent's speed relative to PyTorch (throughput ratio;
for latency rows in ns, PyTorch's time over latent's)."""
import statistics
import sys
from collections import defaultdict

LABELS = {
    "G1.b64": "MLP 784-256-128-10 train (SGD), batch 64", "G1.b256": "MLP train, batch 256",
    "G1.b4096": "MLP train, batch 4096", "G2.b64": "MiniVGG train, batch 64", "G2.b512": "MiniVGG train, batch 512",
    "G3.b64": "conv autoencoder train (Adam), batch 64", "G3.b512": "conv autoencoder train (Adam), batch 512",
    "G4.mlp": "MLP batch-1 predict (input over, output back)",
}


def main():
    samples = defaultdict(list)
    units = {}
    for line in open(sys.argv[1]):
        parts = line.rstrip("\n").split("\t")
        if len(parts) != 4:
            continue
        program, row, value, unit = parts
        samples[(row, program)].append(float(value))
        units[row] = unit
    rows = [r for r in LABELS if r in units] + sorted(r for r in units if r not in LABELS)
    print("| workload | unit | latent | latent, no graphs | latent, no cuDNN | PyTorch eager | PyTorch CUDA graph | "
          "latent vs eager | latent vs graph |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        lower_is_better = units[row] == "ns"
        med = {p: statistics.median(samples[(row, p)]) for p in ("latent", "latent-eager", "latent-im2col", "torch", "torch-graph") if samples.get((row, p))}
        cell = lambda p: "–" if p not in med else (f"{med[p]:,.0f}" if med[p] >= 100 else f"{med[p]:.3g}")
        def ratio(p):
            if "latent" not in med or p not in med:
                return "–"
            r = med[p] / med["latent"] if lower_is_better else med["latent"] / med[p]
            return f"{r:.2f}x"
        print(f"| {LABELS.get(row, row)} | {units[row]} | {cell('latent')} | {cell('latent-eager')} | "
              f"{cell('latent-im2col')} | {cell('torch')} | "
              f"{cell('torch-graph')} | "
              f"{ratio('torch')} | {ratio('torch-graph')} |")
    print()
    print("Ratios above 1 mean latent is faster (latent with its steps replayed from CUDA graphs and its "
          "convolutions through cuDNN where it was built with it, the default). Medians of the repetitions of every "
          "round.")


if __name__ == "__main__":
    main()
