#!/usr/bin/env python3
"""Independent reader for safetensors files, used to check what latent writes.

Follows the format spec (8-byte little-endian header length, JSON header, raw little-endian
data) with struct + json + numpy only, since the `safetensors` package is not packaged for
Debian. Applies the checks the reference implementation applies, prints one line per tensor
(name, dtype, shape, sum) and exits non-zero on any violation or failed --expect.

usage: read_safetensors.py FILE [--expect NAME=SUM]... [--metadata KEY=VALUE]...
exit:  0 ok, 1 invalid file or failed expectation, 2 usage, 77 numpy missing (a skip)
"""

import argparse
import json
import math
import struct
import sys

try:
    import numpy as np
except ImportError:  # CTest treats 77 as "skipped"
    print("SKIP: numpy is not available", file=sys.stderr)
    sys.exit(77)

MAX_HEADER_SIZE = 100_000_000  # the reference implementation's limit

# dtype -> (bytes per element, numpy dtype used to sum it, or None)
DTYPES = {
    "BOOL": (1, np.dtype("?")),
    "U8": (1, np.dtype("u1")),
    "I8": (1, np.dtype("i1")),
    "F8_E5M2": (1, None),
    "F8_E4M3": (1, None),
    "F8_E8M0": (1, None),
    "I16": (2, np.dtype("<i2")),
    "U16": (2, np.dtype("<u2")),
    "F16": (2, np.dtype("<f2")),
    "BF16": (2, None),  # decoded by hand below: numpy has no bfloat16
    "I32": (4, np.dtype("<i4")),
    "U32": (4, np.dtype("<u4")),
    "F32": (4, np.dtype("<f4")),
    "F64": (8, np.dtype("<f8")),
    "I64": (8, np.dtype("<i8")),
    "U64": (8, np.dtype("<u8")),
}


class Invalid(Exception):
    pass


def reject_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise Invalid("duplicate key in header object")
    return dict(pairs)


def reject_constant(name):
    raise Invalid(f"non-JSON constant {name} in header")


def is_index(value):
    # bool is a subclass of int in Python; JSON true is not a size.
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def read(path):
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 8:
        raise Invalid(f"file has {len(buf)} bytes, too short for the header length")
    (n,) = struct.unpack("<Q", buf[:8])
    if n > MAX_HEADER_SIZE:
        raise Invalid(f"header length {n} exceeds {MAX_HEADER_SIZE}")
    if 8 + n > len(buf):
        raise Invalid(f"header length {n} runs past the end of the {len(buf)}-byte file")
    try:
        text = buf[8 : 8 + n].decode("utf-8")
    except UnicodeDecodeError as e:
        raise Invalid(f"header is not UTF-8: {e}")
    if not text.startswith("{"):
        raise Invalid("header does not start with '{'")
    try:
        header = json.loads(text, object_pairs_hook=reject_duplicates, parse_constant=reject_constant)
    except json.JSONDecodeError as e:
        raise Invalid(f"header is not JSON: {e}")
    if not isinstance(header, dict):
        raise Invalid("header is not an object")

    metadata = header.pop("__metadata__", None)
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
            raise Invalid("__metadata__ is not an object of strings")
    else:
        metadata = {}

    entries = []
    for name, info in header.items():
        if not isinstance(info, dict):
            raise Invalid(f"entry {name!r} is not an object")
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if dtype not in DTYPES:
            raise Invalid(f"tensor {name!r} has unknown dtype {dtype!r}")
        if not isinstance(shape, list) or not all(is_index(d) for d in shape):
            raise Invalid(f"tensor {name!r} has an invalid shape {shape!r}")
        if not isinstance(offsets, list) or len(offsets) != 2 or not all(is_index(o) for o in offsets):
            raise Invalid(f"tensor {name!r} has invalid data_offsets {offsets!r}")
        entries.append((offsets[0], offsets[1], name, dtype, shape))

    # Sorted by offsets, the tensors must tile the data buffer exactly.
    data = buf[8 + n :]
    entries.sort()
    start = 0
    tensors = []
    for begin, end, name, dtype, shape in entries:
        if begin != start or end < begin:
            raise Invalid(f"tensor {name!r} data_offsets [{begin}, {end}] leave a hole or overlap (expected begin {start})")
        size = DTYPES[dtype][0] * math.prod(shape)
        if end - begin != size:
            raise Invalid(f"tensor {name!r} has {end - begin} bytes, {dtype} {tuple(shape)} needs {size}")
        start = end
        tensors.append((name, dtype, shape, data[begin:end]))
    if start != len(data):
        raise Invalid(f"tensors cover {start} bytes of data, the file has {len(data)}")
    return metadata, tensors


def tensor_sum(dtype, shape, raw):
    if dtype == "BF16":
        bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        values = bits.view(np.float32)
    elif DTYPES[dtype][1] is None:
        return None
    else:
        values = np.frombuffer(raw, dtype=DTYPES[dtype][1])
    values = values.reshape(shape)
    if values.dtype.kind in "fc":
        return float(values.astype(np.float64).sum())
    return int(values.astype(object).sum()) if values.size else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--expect", action="append", default=[], metavar="NAME=SUM")
    parser.add_argument("--metadata", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()

    try:
        metadata, tensors = read(args.file)
    except (Invalid, OSError) as e:
        print(f"{args.file}: invalid safetensors file: {e}", file=sys.stderr)
        return 1

    sums = {}
    for key, value in sorted(metadata.items()):
        print(f"metadata {key} = {value}")
    for name, dtype, shape, raw in tensors:
        s = tensor_sum(dtype, shape, raw)
        sums[name] = s
        print(f"{name}\t{dtype}\t{tuple(shape)}\t{'n/a' if s is None else repr(s)}")

    ok = True
    for item in args.expect:
        name, _, want = item.rpartition("=")
        if name not in sums:
            print(f"expected tensor {name!r} is not in the file", file=sys.stderr)
            ok = False
            continue
        got = sums[name]
        if got is None or not math.isclose(got, float(want), rel_tol=1e-6, abs_tol=1e-6):
            print(f"tensor {name!r}: sum {got!r}, expected {want}", file=sys.stderr)
            ok = False
    for item in args.metadata:
        key, _, want = item.partition("=")
        if metadata.get(key) != want:
            print(f"metadata {key!r}: {metadata.get(key)!r}, expected {want!r}", file=sys.stderr)
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
