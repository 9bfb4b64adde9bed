#!/usr/bin/env python3
"""Best of K with a storage margin: which candidate to keep after recalibration, setting (b).

    python3 scripts/mfis_quality/candidates_study.py --tasks /tmp/mfis-q2 [--pruned BIN] [--candidates 16]
                                                     [--json OUT.json]

Per architecture and rate: one `pruned prune` of the four task models with `--data train.safetensors
--holdout 0 --finetune-epochs 0 --candidates K --accuracy-margin 0`, plus the hidden
`--audit-candidates test.safetensors`, which scores every candidate (after its recalibration) on the
test set too, never for the choice. Prints each candidate's stored size (fraction of the four
originals), loss and accuracy on the scored (training) samples and on the test set, then what each
rule would have kept: the first K' candidates of the list (the default count takes a prefix of it),
the lowest loss or the smallest store within a margin of its accuracy — with the mean test accuracy
over the six cells and how many cells reach the best Torch-Pruning importance (TP_B, the (b) figures
of results/compare-folded.json).
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from config import ARCHS, RATES, TASKS  # noqa: E402

DEFAULT_BINARY = "/work/main/.build/release/pruned"
MARGINS = (0, 0.25, 0.5, 0.75, 1.0)
PREFIXES = (4, 6, 8, 12)


def tp_best_b(path):
    """Best Torch-Pruning mean accuracy per (arch, rate) in setting (b), from a compare JSON."""
    return {(f["arch"], float(f["rate"])): f["tp_best"] for f in json.load(open(path))["accuracy"] if f["setting"] == "b"}


def run(binary, folder, arch, rate, k, out):
    cmd = [binary, "prune", *[os.path.join(folder, arch, f"{t}.onnx") for t in TASKS], "--rate", str(rate),
           "--data", os.path.join(folder, "train.safetensors"), "--holdout", "0", "--finetune-epochs", "0",
           "--candidates", str(k), "--accuracy-margin", "0",
           "--audit-candidates", os.path.join(folder, "test.safetensors"), "--out", out]
    subprocess.run(cmd, check=True, capture_output=True)
    report = json.load(open(os.path.join(out, "report.json")))
    return [{"size": c["objectives"][-1], "loss": c["heldOutLoss"], "train": 100 * c["meanAccuracy"],
             "test": 100 * c["auditAccuracy"], "reasons": c["reasons"]} for c in report["mfis"]["candidates"]]


def pick(rows, margin):
    """The rule of CandidateChoice.pick: the lowest loss, or the smallest store within `margin` points."""
    lowest = min(rows, key=lambda r: r["loss"])
    near = [r for r in rows if r["train"] >= lowest["train"] - margin - 1e-9]
    return lowest if margin == 0 else min(near, key=lambda r: (r["size"], r["loss"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", default="/tmp/mfis")
    ap.add_argument("--pruned", default=DEFAULT_BINARY)
    ap.add_argument("--candidates", type=int, default=16)
    ap.add_argument("--baselines", default=os.path.join(HERE, "results", "compare-folded.json"))
    ap.add_argument("--json")
    args = ap.parse_args()
    best = tp_best_b(args.baselines)
    cells = {}
    for arch in ARCHS:
        for rate in RATES:
            rows = run(args.pruned, args.tasks, arch, rate, args.candidates, os.path.join(args.tasks, "study", f"{arch}-{rate}"))
            cells[f"{arch} {rate}"] = rows
            print(f"{arch} rate {rate}: {len(rows)} candidates (size, loss, scored accuracy, test accuracy), best TP (b) {best[(arch, rate)]:.2f}")
            for r in sorted(rows, key=lambda r: r["size"]):
                print(f"   size {r['size']:.3f}  loss {r['loss']:.4f}  scored {r['train']:6.2f}  test {r['test']:6.2f}  {r['reasons'][0]}")
    print("\nrule: first K candidates, margin (points); mean test accuracy over the 6 cells, cells >= best TP,"
          " then per cell test accuracy / stored size")
    names = list(cells)
    for k in PREFIXES:
        for m in MARGINS:
            kept = [pick(cells[n][:k], m) for n in names]
            wins = sum(c["test"] >= best[(n.split()[0], float(n.split()[1]))] - 1e-9 for n, c in zip(names, kept))
            mean = sum(c["test"] for c in kept) / len(kept)
            detail = "  ".join(f"{c['test']:.2f}/{c['size']:.2f}" for c in kept)
            print(f"  K {k:2}  margin {m:<4}  mean {mean:.2f}  wins {wins}  {detail}")
    if args.json:
        json.dump({"candidates": args.candidates, "cells": cells}, open(args.json, "w"), indent=1)


if __name__ == "__main__":
    main()
