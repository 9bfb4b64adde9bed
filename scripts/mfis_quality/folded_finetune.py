#!/usr/bin/env python3
"""Does fine-tuning lose anything when BN is folded into the convs? (why `pruned` gives folded
BN back for its data stages; README "Pruning with data").

    python3 scripts/mfis_quality/folded_finetune.py --tasks /tmp/mfis-q2 [--arch vgg] [--rate 0.5]

Per task: Torch-Pruning L1 at the rate, BN recalibrated (setting (b)); then the same model
twice, fine-tuned with config.py's budget (setting (c)): as it is (conv + BN), and with every
BN folded into its conv (the BN made the identity). Prints test accuracy of both, and the means.
"""
import argparse
import copy
import os
import sys

import numpy as np
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import baselines  # noqa: E402
import data  # noqa: E402
import training  # noqa: E402
from config import TASKS  # noqa: E402


class Identity(nn.Module):
    def forward(self, x):
        return x


def folded(model):
    """A copy with each conv -> BN pair folded into the conv (eval-mode statistics), the BN removed."""
    m = copy.deepcopy(model)
    modules = list(m.modules())
    pairs = [(a, b) for a, b in zip(modules, modules[1:]) if isinstance(a, nn.Conv2d) and isinstance(b, nn.BatchNorm2d)]
    for conv, bn in pairs:
        scale = (bn.weight / (bn.running_var + bn.eps).sqrt()).detach()
        conv.weight = nn.Parameter((conv.weight * scale.view(-1, 1, 1, 1)).detach())
        conv.bias = nn.Parameter((bn.bias - bn.running_mean * scale).detach())
    for parent in m.modules():
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.BatchNorm2d):
                setattr(parent, name, Identity())
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", required=True, help="the folder make_tasks.py wrote")
    ap.add_argument("--arch", default="vgg")
    ap.add_argument("--rate", type=float, default=0.5)
    args = ap.parse_args()
    training.setup(1)
    x_tr, d_tr = data.read(os.path.join(args.tasks, "train.safetensors"))
    x_te, d_te = data.read(os.path.join(args.tasks, "test.safetensors"))
    results = {"bn": [], "folded": []}
    for t in TASKS:
        model = baselines.prune(baselines.load(args.arch, t, args.tasks), "l1", args.rate)
        training.recalibrate_bn(model, x_tr)
        flat = folded(model)
        for name, m in (("bn", model), ("folded", flat)):
            training.finetune(m, x_tr, d_tr[t], 0)
            results[name].append(training.accuracy(m, x_te, d_te[t]))
        print(f"{t:7s} with BN {results['bn'][-1]:6.2f}  folded {results['folded'][-1]:6.2f}", flush=True)
    print(f"mean    with BN {np.mean(results['bn']):6.2f}  folded {np.mean(results['folded']):6.2f}")


if __name__ == "__main__":
    main()
