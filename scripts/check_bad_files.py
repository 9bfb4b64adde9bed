#!/usr/bin/env python3
"""Hand-built bad model files must give a clear error and exit code 65, never a crash.

    swift build -c release --product pruned
    python3 scripts/check_bad_files.py [--pruned .build/release/pruned]

Each case is written to a temp folder and given to `pruned prune`; the script prints the
exit code and the first line of stderr, and fails if any case crashes (signal), exits 0, or
says nothing.
"""
import argparse
import json
import struct
import subprocess
import sys
import tempfile
import os

import numpy as np
import onnx
from onnx import TensorProto, helper


def st(header, data=b"", raw_len=None):
    h = json.dumps(header).encode() if not isinstance(header, bytes) else header
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h) if raw_len is None else raw_len) + h + data


def onnx_bytes(init_bytes=None, dims=(4, 3, 3, 3)):
    w = helper.make_tensor("w", TensorProto.FLOAT, dims, np.zeros(int(np.prod(dims)), np.float32).tobytes(), raw=True)
    if init_bytes is not None:
        w.raw_data = init_bytes
    node = helper.make_node("Conv", ["x", "w"], ["y"])
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w])
    return helper.make_model(g).SerializeToString()


F32_4 = np.arange(4, dtype=np.float32).tobytes()
CASES = {
    "header-length-past-end.safetensors": struct.pack("<Q", 10_000) + b"{}",
    "header-not-json.safetensors": st(b"{not json"),
    "overlapping-offsets.safetensors": st({"a.weight": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                                           "b.weight": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}, F32_4),
    "missing-offsets.safetensors": st({"a.weight": {"dtype": "F32", "shape": [4]}}, F32_4),
    "huge-shape.safetensors": st({"a.weight": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 16]}}, F32_4),
    "negative-shape.safetensors": st({"a.weight": {"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]}}, F32_4),
    "unknown-dtype.safetensors": st({"a.weight": {"dtype": "F12", "shape": [4], "data_offsets": [0, 16]}}, F32_4),
    "truncated-data.safetensors": st({"a.weight": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, F32_4[:10]),
    "not-onnx.onnx": b"\x08\x96\x01hello this is not a model" * 3,
    "initializer-short.onnx": onnx_bytes(init_bytes=b"\x00" * 20),
    "empty.onnx": b"",
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pruned", default=".build/release/pruned")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="pruned-bad-")
    failed = 0
    for name, data in CASES.items():
        path = os.path.join(work, name)
        open(path, "wb").write(data)
        p = subprocess.run([args.pruned, "prune", path, "--rate", "0.5", "--out", os.path.join(work, "out")],
                           capture_output=True, text=True)
        first = (p.stderr.strip().splitlines() or [""])[0]
        ok = p.returncode == 65 and first.startswith("error:")
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} exit {p.returncode:3d}  {name:38s} {first[:150]}")
    print(f"{len(CASES) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
