#!/usr/bin/env python3
"""Setting (a) of `pruned prune` (all four task models in one job, no data) on several
make_tasks.py folders, evaluated in torch on the pruned exports (batched: faster than ours.py's
per-sample onnxruntime runs, same accuracy: criterion_study.forward runs any widths).

    python3 scripts/mfis_quality/pipeline_study.py --tasks DIR[,DIR...] --variant NAME='FLAGS' ... \
        [--pruned BIN] [--rates 0.1,0.3,0.5] [--json OUT]

Prints per folder, arch and variant the mean test accuracy over the tasks at each rate, then per
variant the mean over every (folder, arch, rate) cell and the mean margin against the best
Torch-Pruning importance (criterion_study's reimplementation, which reproduces baselines.py's (a)).
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import criterion_study as cs  # noqa: E402
from config import RATES, TASKS  # noqa: E402


def run_variant(binary, flags, folder, arch, rate, work, single=False):
    """One job with the four task models (or, `single`, one job per model); the output folder."""
    out = tempfile.mkdtemp(prefix="crit-", dir=work)
    paths = [os.path.join(folder, arch, f"{t}.onnx") for t in TASKS]
    for job in ([[p] for p in paths] if single else [paths]):
        cmd = [binary, "prune", *job, "--rate", str(rate), "--seed", "0", "--out", out, *shlex.split(flags)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", required=True)
    ap.add_argument("--variant", action="append", required=True, help="NAME=FLAGS")
    ap.add_argument("--pruned", default=os.path.join(os.path.dirname(__file__), "../../.build/release/pruned"))
    ap.add_argument("--rates", default=",".join(map(str, RATES)))
    ap.add_argument("--archs", default="vgg,resnet")
    ap.add_argument("--work", default=tempfile.gettempdir())
    ap.add_argument("--single", action="store_true", help="prune each task model in a job of its own (T = 1)")
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rates = [float(r) for r in args.rates.split(",")]
    variants = dict(v.split("=", 1) for v in args.variant)
    results, margins, means = {}, {v: [] for v in variants}, {v: [] for v in variants}
    for folder in args.tasks.split(","):
        for arch in args.archs.split(","):
            ctxs = cs.load_set(folder, arch)
            best = [max(cs.evaluate(arch, ctxs, b, r)[0] for b in cs.BASELINES) for r in rates]
            print(f"{os.path.basename(folder)} {arch:6s} {'best TP':14s} " + " ".join(f"{a:6.2f}" for a in best), flush=True)
            for name, flags in variants.items():
                row = []
                for rate in rates:
                    out = run_variant(args.pruned, flags, folder, arch, rate, args.work, args.single)
                    accs = []
                    for t in TASKS:
                        W = cs.load_folded(os.path.join(out, f"{t}.onnx"))
                        accs.append(cs.accuracy(arch, W, ctxs[t]["x"], ctxs[t]["y"]))
                    row.append(float(np.mean(accs)))
                    results.setdefault(folder, {}).setdefault(arch, {}).setdefault(name, {})[str(rate)] = accs
                margins[name] += [a - b for a, b in zip(row, best)]
                means[name] += row
                print(f"{os.path.basename(folder)} {arch:6s} {name:14s} " + " ".join(f"{a:6.2f}" for a in row), flush=True)
    print(f"over {len(next(iter(means.values())))} cells: variant, cells >= best TP, mean margin, mean accuracy")
    for name in variants:
        print(f"  {name:14s} {sum(m >= 0 for m in margins[name]):3d}  {np.mean(margins[name]):+6.2f}  {np.mean(means[name]):6.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
