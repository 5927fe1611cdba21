#!/usr/bin/env python3
"""Reads the "<program>\t<row>\t<threads>\t<value>\t<unit>" lines bench/peers/run collected and
prints one Markdown table: the median of each row per program and latent's speed relative to
each peer (throughput ratio; for latency rows in ns, the peer's time over latent's)."""
import statistics
import sys
from collections import defaultdict

ORDER = ["W1", "W2", "W3", "W4", "W5", "W6", "W7"]
LABELS = {
    "W1.64x256x784": "W1 GEMM 64x256x784", "W1.256x512x3136": "W1 GEMM 256x512x3136",
    "W1.512x512x512": "W1 GEMM 512x512x512", "W2.b64": "W2 MLP train, batch 64",
    "W2.b256": "W2 MLP train, batch 256", "W3.b64": "W3 MiniVGG train, batch 64",
    "W4.b64": "W4 conv autoencoder train (Adam), batch 64", "W5.mlp": "W5 MLP 784-256-128-10, batch 1",
    "W5.tiny": "W5 tiny MLP 8-16-16-1 tanh, batch 1", "W6.minivgg": "W6 compile MiniVGG program, g++ -O2",
    "W7.lstm": "W7 LSTM(128) on 28x28 rows train (Adam), batch 64",
    "W7.gru": "W7 GRU(128) on 28x28 rows train (Adam), batch 64",
}


def main():
    samples = defaultdict(list)
    units = {}
    for line in open(sys.argv[1]):
        parts = line.rstrip("\n").split("\t")
        if len(parts) != 5:
            continue
        program, row, threads, value, unit = parts
        if row.startswith("W1blas."):  # OpenBLAS is a peer of the GEMM rows
            program, row = "openblas", "W1." + row[len("W1blas."):]
        samples[(row, threads, program)].append(float(value))
        units[row] = unit
    rows = sorted({(r, t) for r, t, _ in samples}, key=lambda k: (ORDER.index(k[0][:2]) if k[0][:2] in ORDER else 9,
                                                                   list(LABELS).index(k[0]) if k[0] in LABELS else 99,
                                                                   k[1]))
    peers = ["torch", "dlib", "openblas"]
    print("| workload | threads | unit | latent | PyTorch | dlib | OpenBLAS | latent vs PyTorch | latent vs dlib | latent vs OpenBLAS |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row, threads in rows:
        unit = units[row]
        lower_is_better = unit in ("ns", "s")
        med = {p: statistics.median(samples[(row, threads, p)]) for p in ["latent"] + peers
               if samples.get((row, threads, p))}
        def cell(p):
            if p not in med:
                return "–"
            return f"{med[p]:,.0f}" if med[p] >= 100 else f"{med[p]:.3g}"
        def ratio(p):
            if "latent" not in med or p not in med or med["latent"] == 0 or med[p] == 0:
                return "–"
            r = med[p] / med["latent"] if lower_is_better else med["latent"] / med[p]
            return f"{r:.2f}x"
        print(f"| {LABELS.get(row, row)} | {threads} | {unit} | {cell('latent')} | {cell('torch')} | {cell('dlib')} | "
              f"{cell('openblas')} | {ratio('torch')} | {ratio('dlib')} | {ratio('openblas')} |")
    print()
    print("Ratios above 1 mean latent is faster (for times, the peer's time over latent's). Medians of "
          f"{min(len(v) for v in samples.values()) if samples else 0}+ repetitions per cell.")


if __name__ == "__main__":
    main()
