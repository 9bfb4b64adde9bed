#!/usr/bin/env python3
"""torchvision's architectures through `pruned prune`, as a user would bring them.

    pip install --no-deps torchvision        # the one package the other checks do not need
    swift build -c release --product pruned
    python3 scripts/check_zoo.py [--pruned .build/release/pruned] [--models resnet18,lraspp_mobilenet_v3_large]
                                 [--rate 0.3] [--size 224] [--perturb 1e-3] [--json OUT.json]

Each model (random weights, seeded; `torch.onnx.export` defaults, `external_data=False`) is
exported at 1x3xSIZExSIZE, then:
  forward   our forward (`pruned run`) of the original against onnxruntime (max |difference|
            relative to the output's largest magnitude): the interpreter that the data stages use;
  prune     `pruned prune --rate R`: parameters before and after, channel groups pruned / all,
            the reasons the others were pinned (report.json), wall seconds;
  pruned    the pruned model in onnxruntime: runs, and its output has the original's shape.
`--perturb S` adds S·N(0, 1) (seeded) to every parameter before the export: torchvision's
initialisation makes many tensors equal (ConvNeXt's LayerNorm weights are all ones, its biases
all zeros) and the exporter stores equal constants once, which ties their layers' channels
together; trained weights are never equal, and neither are perturbed ones.
Prints one line per model and exits non-zero when any export that worked fails a step. Not
needed by `swift test`.
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from forward_compare import ours, theirs  # noqa: E402

CLASSIFIERS = ["resnet18", "mobilenet_v3_small", "efficientnet_b0", "densenet121", "squeezenet1_0",
               "shufflenet_v2_x0_5", "regnet_x_400mf", "mnasnet0_5", "googlenet", "convnext_tiny"]
SEGMENTERS = ["lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large"]


class OutOnly(torch.nn.Module):
    """Segmentation models return a dict; export its `out`."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


def perturbed(model, scale):
    if scale:
        generator = torch.Generator().manual_seed(1)
        with torch.no_grad():
            for p in model.parameters():
                p.add_(scale * torch.randn(p.shape, generator=generator))
    return model


def build(name):
    import torchvision
    torch.manual_seed(0)
    if name in SEGMENTERS:
        return OutOnly(getattr(torchvision.models.segmentation, name)(weights=None, weights_backbone=None, aux_loss=False))
    kwargs = {"aux_logits": False, "init_weights": True} if name == "googlenet" else {}
    return getattr(torchvision.models, name)(weights=None, **kwargs)


def check(name, binary, rate, size, work, perturb=0.0):
    row = {"model": name}
    path = os.path.join(work, f"{name}.onnx")
    x = np.random.default_rng(0).standard_normal((1, 3, size, size)).astype(np.float32)
    try:
        torch.onnx.export(perturbed(build(name).eval(), perturb), (torch.from_numpy(x),), path, input_names=["input"],
                          output_names=["out"], external_data=False)
    except Exception as e:  # an export torch itself cannot do is not ours to check
        return {**row, "skipped": f"export failed: {str(e).splitlines()[0][:120]}"}
    expected = theirs(path, x)
    try:
        got = ours(binary, path, x, work)
        row["forward_rel_error"] = float(np.max(np.abs(got - expected)) / max(1e-12, np.max(np.abs(expected))))
    except RuntimeError as e:
        row["forward"] = f"FAIL (exit {str(e).rsplit(' exited ', 1)[-1][:200]}"

    out = os.path.join(work, f"out-{name}")
    t = time.perf_counter()
    p = subprocess.run([binary, "prune", path, "--rate", str(rate), "--out", out], capture_output=True, text=True)
    row["prune_seconds"] = time.perf_counter() - t
    if p.returncode:
        return {**row, "prune": f"FAIL (exit {p.returncode}): {p.stderr.strip()[-300:]}"}
    report = json.load(open(os.path.join(out, "report.json")))
    model = report["models"][0]
    groups = model["groups"]
    row.update(params_before=model["before"]["params"], params_after=model["after"]["params"],
               flops_before=model["before"].get("flops"), flops_after=model["after"].get("flops"),
               groups=len(groups), groups_pruned=sum(1 for g in groups if g["kept"] < g["total"]),
               groups_prunable=sum(1 for g in groups if g["prunable"]),
               pinned=collections.Counter(re.sub(r"'[^']*'", "'…'", g.get("reason", "")) for g in groups
                                          if not g["prunable"]).most_common(3))
    try:
        row["pruned_runs"] = theirs(os.path.join(out, f"{name}.onnx"), x).shape == expected.shape
    except Exception as e:
        row["pruned_runs"] = f"FAIL: {str(e)[:200]}"
    return row


def line(r):
    if "skipped" in r:
        return f"{r['model']:30s} skipped: {r['skipped']}"
    fwd = r.get("forward") or f"forward {r['forward_rel_error']:.1e}"
    if "prune" in r:
        return f"{r['model']:30s} {fwd}  prune {r['prune']}"
    return (f"{r['model']:30s} {fwd}  params {r['params_before']} -> {r['params_after']} "
            f"({100 * r['params_after'] / r['params_before']:.1f}%)  groups pruned {r['groups_pruned']}/{r['groups']}"
            f"  {r['prune_seconds']:.2f} s  onnxruntime {'ok' if r['pruned_runs'] is True else r['pruned_runs']}"
            + (f"  pinned: {'; '.join(f'{n} x {why}' for why, n in r['pinned'])}" if r["pinned"] else ""))


def failed(r):
    if "skipped" in r:
        return False
    return ("forward" in r or r.get("forward_rel_error", 0) > 1e-4 or "prune" in r or r.get("pruned_runs") is not True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pruned", default=".build/release/pruned")
    ap.add_argument("--models", default=",".join(CLASSIFIERS + SEGMENTERS))
    ap.add_argument("--rate", type=float, default=0.3)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--perturb", type=float, default=0.0, help="add this times N(0, 1) to every parameter before export")
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    work = tempfile.mkdtemp(prefix="zoo-")
    rows = []
    for name in args.models.split(","):
        rows.append(check(name, os.path.abspath(args.pruned), args.rate, args.size, work, args.perturb))
        print(line(rows[-1]), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    bad = [r["model"] for r in rows if failed(r)]
    print(f"{len(rows) - len(bad)} of {len(rows)} passed" + (f"; failed: {', '.join(bad)}" if bad else ""))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
