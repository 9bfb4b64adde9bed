#!/usr/bin/env python3
"""Acceptance check of the engine against onnxruntime (issue 2).

    swift build -c release --product pruned
    python3 scripts/make_torch_models.py --out /tmp/models
    python3 scripts/check_onnx_prune.py --models /tmp/models --pruned .build/release/pruned [--rate 0.5]

For every ONNX model in the folder: `pruned prune` at the rate; the pruned file must load and
run in onnxruntime, be smaller (every prunable group kept at round((1 - rate) * N)), keep its
output shape, and agree with our own forward pass (`pruned run`) to 1e-4 on the same input.
Prints one line per model and exits non-zero on any failure.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from safetensors.numpy import load_file, save_file


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()}")
    return p.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", required=True)
    ap.add_argument("--pruned", default=".build/release/pruned")
    ap.add_argument("--rate", type=float, default=0.5)
    ap.add_argument("--tolerance", type=float, default=1e-4)
    args = ap.parse_args()
    failures = 0
    work = tempfile.mkdtemp(prefix="pruned-check-")
    for path in sorted(glob.glob(os.path.join(args.models, "*.onnx"))):
        name = os.path.splitext(os.path.basename(path))[0]
        out = os.path.join(work, name)
        try:
            run([args.pruned, "prune", path, "--rate", str(args.rate), "--out", out])
            report = json.load(open(os.path.join(out, "report.json")))["models"][0]
            pruned_path = os.path.join(out, f"{name}.onnx")
            onnx.checker.check_model(onnx.load(pruned_path))
            before = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
            after = ort.InferenceSession(pruned_path, providers=["CPUExecutionProvider"])
            inp = before.get_inputs()[0]
            shape = [d if isinstance(d, int) else 1 for d in inp.shape]
            x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
            y0 = before.run(None, {inp.name: x})[0]
            y1 = after.run(None, {inp.name: x})[0]
            assert y0.shape == y1.shape, f"output shape {y1.shape} != {y0.shape}"
            for g in report["groups"]:
                want = max(1, round((1 - args.rate) * g["total"])) if g["prunable"] else g["total"]
                assert g["kept"] == want, f"group {g['name']} kept {g['kept']}, expected {want}"
            p0, p1 = report["before"]["params"], report["after"]["params"]
            assert p1 < p0, "no parameters removed"
            # Our forward pass on the same input.
            save_file({inp.name: x}, os.path.join(out, "input.safetensors"))
            run([args.pruned, "run", pruned_path, "--input", os.path.join(out, "input.safetensors"),
                 "--out", os.path.join(out, "ours.safetensors")])
            ours = list(load_file(os.path.join(out, "ours.safetensors")).values())[0]
            diff = float(np.max(np.abs(ours - y1)))
            assert diff <= args.tolerance, f"our forward differs from onnxruntime by {diff:.2e}"
            prunable = sum(1 for g in report["groups"] if g["prunable"])
            print(f"ok    {name:10s} params {p0} -> {p1} ({100 * p1 / p0:.1f}%), {prunable} prunable groups, "
                  f"max |ours - onnxruntime| = {diff:.1e}")
        except Exception as e:  # report every model, then fail
            failures += 1
            print(f"FAIL  {name:10s} {e}")
    print(f"{len(glob.glob(os.path.join(args.models, '*.onnx'))) - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
