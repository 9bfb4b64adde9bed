#!/usr/bin/env python3
"""ShuffleNet V2 (Split on channels, channel shuffle) pruned end to end, run in onnxruntime.

    swift build -c release --product pruned
    python3 scripts/check_shufflenet.py [--pruned .build/release/pruned] [--rate 0.3]

Exports torchvision's shufflenet_v2_x0_5 and x1_0 (random weights, seeded) with
`torch.onnx.export` as it is by default (opset 18+: Split with num_outputs) and with the
legacy exporter at opsets 11 (Split's `split` attribute) and 13 (its `split` input). For each:
`pruned prune --rate R`, then the pruned model must load and run in onnxruntime with the
original's output shape, and agree with our forward (`pruned run`) of it. Prints per model the
channel groups pruned, parameters and FLOPs before and after; exits non-zero on any failure.
Not needed by `swift test`.
"""
import argparse
import json
import os
import sys
import tempfile

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from forward_compare import ours, run, theirs  # noqa: E402


def export(arch, path, opset):
    torch.manual_seed(0)
    net = getattr(torchvision.models, arch)(weights=None).eval()
    x = torch.randn(1, 3, 224, 224)
    if opset is None:
        torch.onnx.export(net, (x,), path, input_names=["input"], output_names=["logits"], external_data=False)
    else:
        torch.onnx.export(net, (x,), path, input_names=["input"], output_names=["logits"], opset_version=opset, dynamo=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pruned", default=".build/release/pruned")
    ap.add_argument("--rate", default="0.3")
    ap.add_argument("--tolerance", type=float, default=1e-3)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="pruned-shufflenet-")
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
    failures = 0
    for arch in ["shufflenet_v2_x0_5", "shufflenet_v2_x1_0"]:
        for opset in [None, 11, 13]:
            label = f"{arch} {'default export' if opset is None else f'opset {opset}'}"
            path = os.path.join(work, f"{arch}-{opset or 'default'}.onnx")
            try:
                export(arch, path, opset)
                out = os.path.join(work, f"{arch}-{opset or 'default'}")
                run([args.pruned, "prune", path, "--rate", args.rate, "--out", out])
                report = json.load(open(os.path.join(out, "report.json")))["models"][0]
                groups = report["groups"]
                cut = sum(1 for g in groups if g["prunable"] and g["kept"] < g["total"])
                pinned = [g for g in groups if not g["prunable"]]
                pruned_path = os.path.join(out, os.path.basename(path))
                reference, after = theirs(path, x), theirs(pruned_path, x)
                assert after.shape == reference.shape, f"output {after.shape}, expected {reference.shape}"
                assert np.isfinite(after).all(), "non-finite outputs"
                agree = np.abs(ours(args.pruned, pruned_path, x, work) - after).max()
                assert agree <= args.tolerance * max(1, np.abs(after).max()), f"our forward differs from onnxruntime by {agree:.2e}"
                b, a = report["before"], report["after"]
                print(f"ok   {label}: groups pruned {cut} of {len(groups)} ({len(pinned)} pinned: "
                      f"{'; '.join(sorted({g['reason'] for g in pinned}))[:160]}), params {b['params']} -> {a['params']} "
                      f"({a['params'] / b['params']:.1%}), FLOPs {b['flops']} -> {a['flops']}, "
                      f"onnxruntime output {after.shape}, ours vs onnxruntime {agree:.1e}")
            except Exception as e:
                failures += 1
                print(f"FAIL {label}: {e!r}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
