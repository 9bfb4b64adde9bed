#!/usr/bin/env python3
"""Does compensating the mean of the dropped channels help setting (a)? Each score's selection with
each consumer's bias taking over the removed channels' mean activation: none, the data's means
(`oracle`), or a data-free level per tap recovered from the consumers' folded biases (`levels`).

    python3 scripts/mfis_quality/criterion_compensation.py --tasks DIR[,DIR...] --scores consumer,tp-l1
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from config import RATES, TASKS  # noqa: E402
from criterion_scores import SCORES  # noqa: E402
from criterion_study import load_set, masks_for  # noqa: E402
from folded_nets import GROUPS, accuracy, size  # noqa: E402

# ---------------------------------------------------------------- mean compensation (study only)

SPATIAL = {"vgg": {"a0": 8, "p1": 4, "a2": 4, "p3": 2}, "resnet": {"r0": 8, "r1": 8, "r2": 8, "r3": 8, "r4": 8,
                                                               "r5": 4, "r6": 4, "r7": 4, "r8": 4, "r9": 2}}


def tap_fraction(k, hw, stride):
    """Per kernel tap (one axis), the fraction of output positions where it lands inside the input."""
    p, outs = k // 2, range(0, hw, stride)
    return np.array([sum(0 <= o - p + t < hw for o in outs) for t in range(k)]) / len(outs)


def kernel_dc(arch, name, w, tap):
    """Per (out, in) channel pair, the consumer's response to a constant input channel, averaged
    over output positions (zero padding counted)."""
    if w.dim() == 2:
        return w.reshape(w.shape[0], -1 if tap != "gap" else w.shape[1], 1).sum(2) if tap == "gap" else None
    k = w.shape[-1]
    stride = 2 if name.endswith(("layer2.0.conv1", "layer3.0.conv1", "downsample.0")) else 1
    f = tap_fraction(k, SPATIAL[arch][tap], stride)
    return (w.double() * torch.as_tensor(np.outer(f, f))).sum((2, 3))


def compensated(arch, W, masks, means):
    """W with each consumer's bias taking over the mean of the channels the masks remove."""
    out = dict(W)
    for g in GROUPS[arch]:
        m = masks[g["producers"][0]].double()
        for c, kind, tap in g["consumers"]:
            w, b = out[c]
            removed = (1 - m) * means[tap]
            if kind == "conv":
                dc = kernel_dc(arch, c, w, tap)
            elif kind == "flat4":
                dc = w.double().reshape(w.shape[0], m.numel(), -1).sum(2)
            else:
                dc = w.double()
            out[c] = (w, b + (dc @ removed).to(b.dtype))
    return out


def tap_levels(arch, W):
    """Data-free: per tap, the common mean of its channels, from the consumers' folded biases
    (b' = β − Σ W'·E[x] with β taken as 0), least squares over the consumer's output channels."""
    levels = {}
    for g in GROUPS[arch]:
        for c, kind, tap in g["consumers"]:
            if kind != "conv" or tap in levels:
                continue
            w, b = W[c]
            dc = kernel_dc(arch, c, w, tap)
            d = dc.sum(1)
            levels[tap] = float(-(d * b.double()).sum() / (d * d).sum())
    return levels


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", required=True)
    ap.add_argument("--scores", default="consumer,tp-l1")
    args = ap.parse_args()
    torch.set_num_threads(1)
    for folder in args.tasks.split(","):
        for arch in ("vgg", "resnet"):
            ctxs = load_set(folder, arch)
            for name in args.scores.split(","):
                for comp in ("none", "oracle", "levels"):
                    row = []
                    for rate in RATES:
                        accs = []
                        for t in TASKS:
                            c = ctxs[t]
                            m = masks_for(arch, c["W"], [SCORES[name](c, g) for g in GROUPS[arch]], rate)
                            W = c["W"]
                            if comp == "oracle":
                                W = compensated(arch, W, m, {k: v["mean"] for k, v in c["stats"]["oracle"].items()})
                            elif comp == "levels":
                                lv = tap_levels(arch, W)
                                means = {tap: torch.full((size(W, g),), lv.get(tap, 0.0), dtype=torch.float64)
                                         for g in GROUPS[arch] for _, _, tap in g["consumers"]}
                                W = compensated(arch, W, m, means)
                            accs.append(accuracy(arch, W, c["x"], c["y"], m))
                        row.append(np.mean(accs))
                    print(os.path.basename(folder), arch, f"{name:12s} {comp:7s}", " ".join(f"{a:6.2f}" for a in row), flush=True)


if __name__ == "__main__":
    main()
