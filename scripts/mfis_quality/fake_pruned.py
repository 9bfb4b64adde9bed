#!/usr/bin/env python3
"""A stand-in for the multi-task `pruned` CLI, to exercise ours.py's full-feature paths before the
real binary has them. NOT a pruner of its own and its figures mean nothing:

    python3 scripts/mfis_quality/compare.py --quick --tasks /tmp/mfis-quick \
        --pruned scripts/mfis_quality/fake_pruned.py

It offers the flags the script expects (`--data --finetune-epochs --lr --batch-size
--weight-decay --momentum --seed`, `--rate adaptive`), runs the real binary ($PRUNED_REAL, default
/work/main/.build/release/pruned) on each model (adaptive = 0.3; data and budget ignored), and adds
what a multi-task run writes: multitask.safetensors (here every task's tensors side by side, i.e.
no sharing), index.json, and report.json keys `storage`, `chosen`, `front`.
With FAKE_PRUNED_SINGLE=1 it refuses several models (exit 64), like a single-model binary.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper
from safetensors.numpy import save_file

REAL = os.environ.get("PRUNED_REAL", "/work/main/.build/release/pruned")
HELP = """OVERVIEW: (fake) multi-task pruning with filter index sharing.
USAGE: pruned prune <models> ... --rate <rate|adaptive> --out <out> [--data <data>] [--finetune-epochs <e>]
  [--lr <lr>] [--batch-size <b>] [--weight-decay <wd>] [--momentum <m>] [--seed <s>]
"""


def main():
    if sys.argv[1:2] != ["prune"]:
        sys.exit(64)
    if "--help" in sys.argv or "-h" in sys.argv:
        print(HELP)
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="+")
    for flag in ("--rate", "--out", "--data", "--finetune-epochs", "--lr", "--batch-size", "--weight-decay",
                 "--momentum", "--seed"):
        ap.add_argument(flag)
    args = ap.parse_args(sys.argv[2:])
    if os.environ.get("FAKE_PRUNED_SINGLE") and len(args.models) > 1:
        print("Error: one model at a time", file=sys.stderr)
        sys.exit(64)
    rate = "0.3" if args.rate == "adaptive" else args.rate
    p = subprocess.run([REAL, "prune", *args.models, "--rate", rate, "--out", args.out], capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        sys.exit(p.returncode)
    report_path = os.path.join(args.out, "report.json")
    report = json.load(open(report_path))
    bundle = {}
    for m in report["models"]:
        g = onnx.load(os.path.join(args.out, m["outputs"][0]))
        for t in g.graph.initializer:
            a = numpy_helper.to_array(t)
            if a.dtype == np.float32:
                bundle[f"{m['task']}.{t.name}"] = np.ascontiguousarray(a)
    save_file(bundle, os.path.join(args.out, "multitask.safetensors"))
    json.dump({"fake": True}, open(os.path.join(args.out, "index.json"), "w"))
    stored = int(sum(a.size for a in bundle.values()))
    report["storage"] = {"before": sum(m["before"]["params"] for m in report["models"]), "after": stored,
                         "independent": sum(m["after"]["params"] for m in report["models"])}
    report["chosen"] = {"rule": "knee" if args.rate == "adaptive" else "nearest-ideal", "fake": True}
    report["front"] = [[0.0, 0.0, 0.0]]
    json.dump(report, open(report_path, "w"), indent=1)


if __name__ == "__main__":
    main()
