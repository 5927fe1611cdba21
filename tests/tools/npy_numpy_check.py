#!/usr/bin/env python3
"""Cross-checks latent's .npy/.npz reader and writer against NumPy itself.

Writes arrays with NumPy (every supported dtype, a scalar, an empty array, a version 2.0
file, np.savez, np.savez_compressed, an archive written to an unseekable stream so zipfile
uses data descriptors, and files latent must refuse: Fortran order, big-endian, objects),
runs the C++ tool npy_roundtrip on them (it checks the values and refusals, then writes its
own files), and reads what latent wrote back with np.load.

usage: npy_numpy_check.py NPY_ROUNDTRIP WORK_DIR
exit:  0 ok, 1 a check failed, 2 usage, 77 numpy missing (a skip)
"""

import io
import os
import shutil
import subprocess
import sys

try:
    import numpy as np
except ImportError:  # CTest treats 77 as "skipped"
    print("SKIP: numpy is not available", file=sys.stderr)
    sys.exit(77)

# The arrays both sides agree on; npy_roundtrip.cpp computes the same formulas.
F32 = np.arange(24, dtype=np.float32).reshape(2, 3, 4) * np.float32(0.5) - np.float32(3)
F64 = np.arange(6, dtype=np.float64).reshape(3, 2) / 8
U8 = np.arange(256, dtype=np.uint8).reshape(16, 16)
I64 = np.array([-3, 0, 2**40, -(2**62), 2**63 - 1], dtype=np.int64)
V2 = np.arange(10, dtype=np.float32)
SCALAR = np.array(2.5, dtype=np.float64)
EMPTY = np.zeros((0, 4), dtype=np.float32)


class Unseekable:
    """A write-only stream: zipfile then writes sizes in data descriptors after the data."""

    def __init__(self):
        self.buffer = io.BytesIO()

    def write(self, data):
        return self.buffer.write(data)

    def read(self, n=-1):  # np.savez takes objects with read() for files, not for paths
        raise io.UnsupportedOperation("write-only")

    def flush(self):
        pass


def write_inputs(d):
    np.save(os.path.join(d, "f32.npy"), F32)
    np.save(os.path.join(d, "f64.npy"), F64)
    np.save(os.path.join(d, "u8.npy"), U8)
    np.save(os.path.join(d, "i64.npy"), I64)
    np.save(os.path.join(d, "scalar.npy"), SCALAR)
    np.save(os.path.join(d, "empty.npy"), EMPTY)
    with open(os.path.join(d, "v2.npy"), "wb") as f:
        np.lib.format.write_array(f, V2, version=(2, 0))
    np.save(os.path.join(d, "fortran.npy"), np.asfortranarray(F32[0]))
    np.save(os.path.join(d, "bigendian.npy"), F32.astype(">f4"))
    np.save(os.path.join(d, "object.npy"), np.array([1, "a"], dtype=object), allow_pickle=True)
    arrays = dict(f32=F32, u8=U8, i64=I64, scalar=SCALAR, empty=EMPTY)
    np.savez(os.path.join(d, "stored.npz"), **arrays)
    np.savez_compressed(os.path.join(d, "compressed.npz"), **arrays)
    stream = Unseekable()
    np.savez_compressed(stream, **arrays)
    with open(os.path.join(d, "stream.npz"), "wb") as f:
        f.write(stream.buffer.getvalue())
    np.savez(os.path.join(d, "positional.npz"), F64, V2)


failures = []


def check(name, got, want):
    if got.dtype != want.dtype or got.shape != want.shape or not np.array_equal(got, want):
        failures.append(f"{name}: numpy read {got.dtype} {got.shape} {got!r}, expected {want.dtype} {want.shape}")
    else:
        print(f"ok numpy reads {name}: {got.dtype} {got.shape}")


def check_outputs(d):
    for name, want in [("f32", F32), ("f64", F64), ("u8", U8), ("i64", I64), ("scalar", SCALAR),
                       ("empty", EMPTY), ("v2", V2)]:
        check(f"out_{name}.npy", np.load(os.path.join(d, f"out_{name}.npy")), want)
    check("out_tensor.npy", np.load(os.path.join(d, "out_tensor.npy")),
          np.arange(12, dtype=np.float32).reshape(3, 2, 2) - np.float32(5.5))
    for archive in ["out_stored.npz", "out_compressed.npz", "out_zip64.npz"]:
        with np.load(os.path.join(d, archive)) as z:
            if sorted(z.files) != ["empty", "f32", "i64", "scalar", "u8"]:
                failures.append(f"{archive}: numpy lists {sorted(z.files)}")
                continue
            for name, want in [("f32", F32), ("u8", U8), ("i64", I64), ("scalar", SCALAR), ("empty", EMPTY)]:
                check(f"{archive}[{name}]", z[name], want)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    tool, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    inputs, outputs = os.path.join(work, "numpy"), os.path.join(work, "latent")
    os.makedirs(inputs)
    os.makedirs(outputs)
    write_inputs(inputs)
    result = subprocess.run([tool, inputs, outputs])
    if result.returncode != 0:
        print(f"FAIL: {tool} exited with {result.returncode}", file=sys.stderr)
        return 1
    check_outputs(outputs)
    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
