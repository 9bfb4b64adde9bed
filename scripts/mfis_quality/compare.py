#!/usr/bin/env python3
"""Issue 6 acceptance, quality and speed: MFIS (`pruned prune`) against Torch-Pruning on digits tasks.

    python3 scripts/mfis_quality/compare.py [--tasks /tmp/mfis] [--pruned BIN] [--json results.json] [--quick]
                                            [--bn folded|kept] [--baselines FILE]

Makes the task models if the folder has none (make_tasks.py), runs the Torch-Pruning baselines
(baselines.py) and our CLI (ours.py), times a 4-task ResNet job against four Torch-Pruning runs
side by side, prints the tables and the goals, and writes every figure to the JSON file.
--quick: models trained for a few epochs, rate 0.3 only, 1 fine-tuning epoch on both sides
(a smoke run: its figures are not the acceptance figures).
--baselines FILE reuses a saved baselines.py JSON, or the baselines inside a compare JSON (the
Torch-Pruning side takes minutes).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import baselines  # noqa: E402
import ours  # noqa: E402
import tables  # noqa: E402
import training  # noqa: E402
from config import ARCHS, FT_EPOCHS, RATES, TASKS  # noqa: E402


def speed(folder, binary, rate, repeats):
    """Our 4-task ResNet job (no data) against the sum of four Torch-Pruning runs (load, prune, save;
    in this process after a warm-up, so without Python's and torch's start-up), interleaved."""
    training.setup()
    scratch = tempfile.mkdtemp(prefix="mfis-speed-")
    baselines.timed_run("resnet", TASKS[0], "l1", rate, folder, scratch)
    tp = {imp: [] for imp in baselines.IMPORTANCES}
    mine = []
    for _ in range(repeats):
        mine.append(ours.time_job(binary, folder, "resnet", rate, repeats=1))
        for imp in tp:
            tp[imp].append(sum(baselines.timed_run("resnet", t, imp, rate, folder, scratch)[1]["run"] for t in TASKS))
    ours_s = statistics.median(m["seconds"] for m in mine)
    out = {"rate": rate, "repeats": repeats, "ours_seconds": ours_s, "ours_mode": mine[-1]["mode"],
           "ours_command": mine[-1]["command"], "tp_seconds": {k: statistics.median(v) for k, v in tp.items()}}
    out["ratio_ours_over_tp"] = {k: ours_s / v for k, v in out["tp_seconds"].items()}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", default="/tmp/mfis", help="task models folder (made here when missing)")
    ap.add_argument("--pruned", default=ours.DEFAULT_BINARY)
    ap.add_argument("--json", help="figures file (default: TASKS/results/compare[-quick].json)")
    ap.add_argument("--baselines", help="reuse this baselines JSON instead of running Torch-Pruning")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--bn", choices=["folded", "kept"], default="folded",
                    help="how make_tasks.py exports, when it makes the models (see its --bn)")
    ap.add_argument("--repeats", type=int, default=3, help="speed measurement repeats (median)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    rates, epochs = ((0.3,), 1) if args.quick else (RATES, FT_EPOCHS)
    if not os.path.exists(os.path.join(args.tasks, "tasks.json")):
        subprocess.run([sys.executable, os.path.join(HERE, "make_tasks.py"), "--out", args.tasks, "--bn", args.bn]
                       + (["--quick"] if args.quick else []), check=True)
    tasks_json = json.load(open(os.path.join(args.tasks, "tasks.json")))
    if args.baselines:
        bl = json.load(open(args.baselines))
        bl = bl.get("baselines", bl)  # a compare JSON holds the baselines it used
    else:
        bl = baselines.run(args.tasks, rates, ARCHS, epochs)
    if bl["epochs"] != epochs:
        sys.exit(f"the baselines were fine-tuned for {bl['epochs']} epochs, this run uses {epochs}")
    mine = ours.run(args.tasks, args.pruned, rates, ARCHS, epochs,
                    work=os.path.join(args.tasks, "ours-work-quick" if args.quick else "ours-work"))
    sp = speed(args.tasks, args.pruned, 0.3, 1 if args.quick else args.repeats) if mine["features"] else None

    imps = list(baselines.IMPORTANCES)
    figures = {"quick": args.quick, "epochs": epochs, "rates": list(rates), "tasks": tasks_json,
               "features": mine["features"], "accuracy": [], "per_task": {}, "storage": {}, "adaptive": {},
               "speed": sp, "baselines": bl, "ours": mine}
    print()
    for arch in ARCHS:
        lines, acc = tables.accuracy_table(bl, mine, arch, rates, imps)
        figures["accuracy"] += acc
        print("\n".join(lines), end="\n\n")
        lines, figures["per_task"][arch] = tables.per_task_table(bl, mine, tasks_json, arch, 0.3, imps)
        print("\n".join(lines), end="\n\n")
        lines, figures["storage"][arch] = tables.storage_table(bl, mine, arch, rates, tasks_json)
        print("\n".join(lines), end="\n\n")
        lines, figures["adaptive"][arch] = tables.adaptive_lines(mine, arch)
        print("\n".join(lines), end="\n\n")
    if sp is None:
        print(f"speed: not measured ({mine.get('error')}: {args.pruned})")
    else:
        print(f"speed: 4-task ResNet job at rate {sp['rate']} without data, ours {sp['ours_seconds']:.3f} s "
              f"[{sp['ours_mode']}] (process wall time, median of {sp['repeats']})")
        for imp, s in sp["tp_seconds"].items():
            print(f"       Torch-Pruning {imp:8s} 4 runs {s:.3f} s   ratio ours / TP = {sp['ratio_ours_over_tp'][imp]:.3f}")
    figures["goals"] = tables.goals(figures["accuracy"], figures["per_task"],
                                    [s for a in figures["storage"].values() for s in a])
    print("\ngoals:", json.dumps(figures["goals"], indent=1))
    figures["seconds"] = round(time.perf_counter() - t0, 1)
    path = args.json or os.path.join(args.tasks, "results", "compare-quick.json" if args.quick else "compare.json")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(figures, f, indent=1)
    print(f"wrote {path} ({figures['seconds']} s)")


if __name__ == "__main__":
    main()
