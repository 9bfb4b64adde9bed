#!/usr/bin/env python3
"""Data-free channel scores for BN-folded exports, measured in setting (a) (no data, no
fine-tuning) by zeroing the channels a score drops, which is what `pruned prune`'s surgery does
to the outputs (a removed channel reads as zero in every consumer).

    python3 scripts/mfis_quality/criterion_study.py --tasks /tmp/mfis-q2 [--scores a,b,...]

Per arch, rate and score: the mean test accuracy over the 4 tasks, each task pruned on its own
(keep max(1, round((1 - r) N)) of every group, as `pruned prune --rate r`), next to Torch-
Pruning's (the same selection rule reimplemented on the unfolded torch weights: out-channel L1 of
each conv, |γ| of each BN, in-channel L1 of each consumer, 'mean' reduction).

Scores (criterion_scores.py) read the folded ONNX weights only (what `pruned` sees), except `tp-*`
(torch weights, for reference) and `...[oracle]` (statistics of the real training inputs: a
ceiling, not a candidate). Several folders (comma-separated) are summed up against the best
Torch-Pruning importance of each (folder, arch, rate) cell.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
from config import RATES, TASKS  # noqa: E402
from criterion_scores import SCORES  # noqa: E402
from folded_nets import GROUPS, accuracy, kept, load_folded, size, stats, synthetic_inputs  # noqa: E402

# ---------------------------------------------------------------- evaluation

def masks_for(arch, W, scores, rate):
    masks = {}
    for g, s in zip(GROUPS[arch], scores):
        n = size(W, g)
        keep = np.argsort(-s.numpy(), kind="stable")[:kept(n, rate)]
        m = torch.zeros(n)
        m[torch.as_tensor(keep)] = 1
        for p in g["producers"]:
            masks[p] = m
    return masks


def load_set(folder, arch):
    x_tr, _ = data.read(os.path.join(folder, "train.safetensors"))
    x_te, y_te = data.read(os.path.join(folder, "test.safetensors"))
    x_tr, x_te = torch.as_tensor(x_tr), torch.as_tensor(x_te)
    ctxs = {}
    for task in TASKS:
        W = load_folded(os.path.join(folder, arch, f"{task}.onnx"))
        sd = {k: v.double() for k, v in load_file(os.path.join(folder, arch, f"{task}.safetensors")).items()}
        st = {"oracle": stats(arch, W, x_tr)}
        for src in ("zero", "gauss"):
            st[src] = stats(arch, W, synthetic_inputs(src))
        ctxs[task] = dict(arch=arch, W=W, sd=sd, stats=st, x=x_te, y=torch.as_tensor(y_te[task]))
    return ctxs


def evaluate(arch, ctxs, name, rate):
    """Mean test accuracy over the tasks, each pruned by `name` at `rate`, and the per-task list."""
    accs = []
    for task in TASKS:
        ctx = ctxs[task]
        scores = [SCORES[name](ctx, g) for g in GROUPS[arch]]
        accs.append(accuracy(arch, ctx["W"], ctx["x"], ctx["y"], masks_for(arch, ctx["W"], scores, rate)))
    return float(np.mean(accs)), accs


BASELINES = ("tp-l1", "tp-fpgm", "tp-bn")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", required=True, help="make_tasks.py folders, comma-separated")
    ap.add_argument("--scores", default=",".join(SCORES))
    ap.add_argument("--rates", default=",".join(map(str, RATES)))
    ap.add_argument("--archs", default="vgg,resnet")
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rates = [float(r) for r in args.rates.split(",")]
    names = [n for n in args.scores.split(",") if n not in BASELINES]
    results = {}
    margins = {n: [] for n in BASELINES + tuple(names)}
    means = {n: [] for n in margins}
    for folder in args.tasks.split(","):
        for arch in args.archs.split(","):
            ctxs = load_set(folder, arch)
            res = results.setdefault(folder, {}).setdefault(arch, {})
            for name in BASELINES + tuple(names):
                res[name] = {str(r): evaluate(arch, ctxs, name, r) for r in rates}
            best = [max(res[b][str(r)][0] for b in BASELINES) for r in rates]
            print(f"{os.path.basename(folder)} {arch:6s} {'best TP':22s} " + " ".join(f"{a:6.2f}" for a in best), flush=True)
            for name in margins:
                row = [res[name][str(r)][0] for r in rates]
                margins[name] += [a - b for a, b in zip(row, best)]
                means[name] += row
                if name in BASELINES:
                    continue
                print(f"{os.path.basename(folder)} {arch:6s} {name:22s} " + " ".join(f"{a:6.2f}" for a in row), flush=True)
    print(f"over {len(next(iter(margins.values())))} cells: score, cells >= best TP, mean margin, worst margin, mean accuracy")
    for name, m in margins.items():
        print(f"  {name:22s} {sum(x >= 0 for x in m):3d}  {np.mean(m):+6.2f}  {min(m):+6.2f}  {np.mean(means[name]):6.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
