#!/usr/bin/env python3
"""Resize/Upsample, Pad, InstanceNormalization and the smooth activations against onnxruntime.

    swift build -c release --product pruned
    python3 scripts/check_spatial_ops.py [--pruned .build/release/pruned] [--opsets 9,11,13,17]

Exports small torch models (conv → op → conv → pool → linear) with the legacy exporter at each
opset: nn.Upsample (nearest, bilinear), F.interpolate (bilinear with and without
align_corners, nearest to a size), nn.Mish, nn.Softplus, nn.Softsign, x ** 2,
nn.InstanceNorm2d(affine=True), F.pad (reflect, replicate, constant). For each: our forward
(`pruned run`) must agree with onnxruntime to the tolerance; `pruned prune --rate 0.5` must
prune the conv before the op, and the pruned model must run in onnxruntime and agree with our
forward of it. Prints one line per model; exits non-zero on any failure. Not needed by
`swift test`.
"""
import argparse
import json
import os
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from forward_compare import ours, run, theirs  # noqa: E402


class Net(nn.Module):
    def __init__(self, middle, width=8):
        super().__init__()
        self.first = nn.Conv2d(3, width, 3, padding=1)
        self.middle = middle
        self.second = nn.Conv2d(width, 6, 3, padding=1)
        self.fc = nn.Linear(6, 10)

    def forward(self, x):
        y = self.second(self.middle(self.first(x)))
        return self.fc(F.adaptive_avg_pool2d(y, 1).flatten(1))


class Fn(nn.Module):
    def __init__(self, f):
        super().__init__()
        self.f = f

    def forward(self, x):
        return self.f(x)


def models():
    return {
        "upsample_nearest": nn.Upsample(scale_factor=2, mode="nearest"),
        "upsample_bilinear": nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
        "interpolate_align_corners": Fn(lambda x: F.interpolate(x, size=(23, 23), mode="bilinear", align_corners=True)),
        "interpolate_nearest_size": Fn(lambda x: F.interpolate(x, size=(20, 12), mode="nearest")),
        "interpolate_shrink": Fn(lambda x: F.interpolate(x, scale_factor=0.5, mode="bilinear")),
        "mish": nn.Mish(),
        "softplus": nn.Softplus(),
        "softsign": nn.Softsign(),
        "square": Fn(lambda x: x ** 2),
        "instance_norm": nn.InstanceNorm2d(8, affine=True),
        "pad_reflect": Fn(lambda x: F.pad(x, (1, 2, 2, 1), mode="reflect")),
        "pad_replicate": Fn(lambda x: F.pad(x, (2, 0, 1, 1), mode="replicate")),
        "pad_constant": Fn(lambda x: F.pad(x, (1, 1, 0, 2), value=0.5)),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pruned", default=".build/release/pruned")
    ap.add_argument("--opsets", default="9,11,13,17")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="pruned-spatial-")
    x = np.random.default_rng(0).standard_normal((2, 3, 16, 16)).astype(np.float32)
    failures = 0
    for opset in [int(o) for o in args.opsets.split(",")]:
        for name, middle in models().items():
            torch.manual_seed(0)
            net = Net(middle).eval()
            if name == "instance_norm":
                with torch.no_grad():
                    net.middle.weight.uniform_(0.5, 1.5)
                    net.middle.bias.uniform_(-0.5, 0.5)
            path = os.path.join(work, f"{name}-{opset}.onnx")
            label = f"{name} opset {opset}"
            try:
                torch.onnx.export(net, torch.from_numpy(x), path, opset_version=opset, dynamo=False,
                                  input_names=["input"], output_names=["logits"])
            except Exception as e:  # an op torch cannot export at this opset: not ours to check
                print(f"skip {label}: torch cannot export it ({str(e).splitlines()[0][:80]})")
                continue
            try:
                reference = theirs(path, x)
            except Exception as e:  # onnxruntime refuses the export itself: not ours to check
                print(f"skip {label}: onnxruntime cannot run the export ({str(e).splitlines()[-1][:80]})")
                continue
            try:
                forward = np.abs(ours(args.pruned, path, x, work) - reference).max()
                assert forward <= args.tolerance, f"forward differs from onnxruntime by {forward:.2e}"
                out = os.path.join(work, f"{name}-{opset}")
                run([args.pruned, "prune", path, "--rate", "0.5", "--out", out])
                report = json.load(open(os.path.join(out, "report.json")))["models"][0]
                first = next((g for g in report["groups"] if "first" in g["name"]), None)
                assert first is not None, f"no group of the first conv in {[g['name'] for g in report['groups']]}"
                assert first["prunable"] and first["kept"] == 4, f"conv before the op: {first}"
                pruned_path = os.path.join(out, f"{name}-{opset}.onnx")
                after = np.abs(ours(args.pruned, pruned_path, x, work) - theirs(pruned_path, x)).max()
                assert after <= args.tolerance, f"pruned forward differs from onnxruntime by {after:.2e}"
                print(f"ok   {label}: forward {forward:.1e}, pruned {after:.1e}, first conv kept {first['kept']}/{first['total']}")
            except Exception as e:
                failures += 1
                print(f"FAIL {label}: {e!r}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
