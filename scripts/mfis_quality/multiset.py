#!/usr/bin/env python3
"""Issue 6's accuracy goal measured over several seeds and several sets of task models.

    python3 scripts/mfis_quality/multiset.py --tasks /tmp/mfis-q2,/tmp/mfis-set1 --seeds 3 \
        [--pruned BIN] [--json OUT.json] [--rates 0.1,0.3,0.5] [--archs vgg,resnet] [--work DIR] [--fresh]

compare.py measures one run per side per cell; the goal compares ours with the best of three
importances, and a maximum over three single draws is biased upward. Here, per set of task models
(a make_tasks.py folder; `make_tasks.py --seed S` makes more) and seed S = 0 .. N-1:
  ours           ours.run with `pruned prune --seed S`, every setting (the optimizer is seeded);
  Torch-Pruning  baselines.run once per set: (a) and (b) have no randomness, (c) is fine-tuned
                 once per seed S (the shuffle's seed) from the same recalibrated model.
Per cell (arch x rate x setting): each side's mean over the seeds and its sample standard
deviation; "best TP" is the importance with the highest MEAN (max after averaging); ours - best
with its standard error sqrt(sd_ours^2 / n + sd_best^2 / n). Over the sets: the mean over sets of
each side's per-set mean, the best importance of those means, ours - best with the standard
error of the per-set differences (sd / sqrt(sets)), and the set-cells at or above their set's best.

Each side's results are kept in WORK/<set folder name>/ (tp.json, ours-seedS.json, the pruned
models in work-seedS/; WORK is --work, by default DIR/multiseed for each set DIR) and reused when
they cover the request (ours: the same binary, by SHA-256); --fresh runs everything again.
"""
import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import baselines  # noqa: E402
import ours  # noqa: E402
import tables  # noqa: E402
from config import ARCHS, FT_EPOCHS, RATES  # noqa: E402

IMPS = list(baselines.IMPORTANCES)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def covers(res, rates, archs, epochs):
    return res.get("epochs") == epochs and all(str(r) in res["archs"].get(a, {}) for a in archs for r in rates)


def cached(path, fresh, valid):
    if fresh or not os.path.exists(path):
        return None
    res = json.load(open(path))
    return res if valid(res) else None


def save(path, res):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(res, f, indent=1)


def kept_dir(folder, work):
    return os.path.join(work, os.path.basename(os.path.normpath(folder))) if work else os.path.join(folder, "multiseed")


def tp_side(folder, seeds, rates, archs, epochs, fresh, work):
    path = os.path.join(kept_dir(folder, work), "tp.json")
    res = cached(path, fresh, lambda r: covers(r, rates, archs, epochs) and set(seeds) <= set(r.get("seeds", [])))
    if res is None:
        log(f"{folder}: Torch-Pruning, (c) with seeds {seeds}")
        res = baselines.run(folder, rates, archs, epochs, log=log, seeds=seeds)
        save(path, res)
    return {s: baselines.for_seed(res, s) for s in seeds}


def our_side(folder, binary, seed, rates, archs, epochs, fresh, work):
    path = os.path.join(kept_dir(folder, work), f"ours-seed{seed}.json")
    digest = sha256(binary)
    res = cached(path, fresh, lambda r: covers(r, rates, archs, epochs) and r.get("binary_sha256") == digest)
    if res is None:
        log(f"{folder}: ours, --seed {seed}")
        res = ours.run(folder, binary, rates, archs, epochs, work=os.path.join(kept_dir(folder, work), f"work-seed{seed}"),
                       log=log, seed=seed, adaptive=False)
        res["binary_sha256"] = digest
        save(path, res)
    return res


def sd(values):
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def set_cells(tp_by_seed, ours_by_seed, arch, rates):
    """Per rate and setting of one set: both sides per seed, their means and spreads, ours - best."""
    cells = []
    seeds = list(tp_by_seed)
    for rate in rates:
        for which in tables.SETTINGS:
            # (a) and (b) are the same for every seed on Torch-Pruning's side: one draw.
            draws = seeds if which == "c" else seeds[:1]
            tp = {i: [tables.tp_mean(tp_by_seed[s], arch, rate, i, which) for s in draws] for i in IMPS}
            if any(None in v for v in tp.values()):
                continue
            runs = [tables.ours_run(ours_by_seed[s], arch, rate, which) for s in seeds]
            mine = [r["mean_acc"] for r in runs if r]
            tp_mean = {i: float(np.mean(v)) for i, v in tp.items()}
            best = max(IMPS, key=lambda i: tp_mean[i])
            cell = {"arch": arch, "rate": rate, "setting": which, "seeds": seeds, "ours": mine,
                    "ours_failed": len(seeds) - len(mine), "tp": tp, "tp_mean": tp_mean,
                    "tp_sd": {i: sd(v) for i, v in tp.items()}, "best": best, "best_mean": tp_mean[best],
                    # the biased figure: the mean over seeds of the best importance of each seed
                    "best_of_draws": float(np.mean([max(tp[i][k] for i in IMPS) for k in range(len(draws))]))}
            if mine:
                cell.update(ours_mean=float(np.mean(mine)), ours_sd=sd(mine))
                cell["diff"] = cell["ours_mean"] - cell["best_mean"]
                cell["se"] = float(np.sqrt(cell["ours_sd"] ** 2 / len(mine) + cell["tp_sd"][best] ** 2 / len(draws)))
                cell["at_or_above"] = cell["diff"] >= -1e-9
            cells.append(cell)
    return cells


def overall_cells(per_set):
    """Per (arch, rate, setting) over the sets: means of the per-set means, the best importance of
    those, ours - best and the standard error of the per-set differences, set-cells at or above."""
    groups = {}
    for cells in per_set.values():
        for c in cells:
            if "ours_mean" in c:
                groups.setdefault((c["arch"], c["rate"], c["setting"]), []).append(c)
    out = []
    for (arch, rate, which), cs in groups.items():
        tp_mean = {i: float(np.mean([c["tp_mean"][i] for c in cs])) for i in IMPS}
        best = max(IMPS, key=lambda i: tp_mean[i])
        diffs = [c["ours_mean"] - c["tp_mean"][best] for c in cs]
        out.append({"arch": arch, "rate": rate, "setting": which, "sets": len(cs),
                    "ours_mean": float(np.mean([c["ours_mean"] for c in cs])),
                    "ours_sd_sets": sd([c["ours_mean"] for c in cs]),
                    "ours_sd_seeds": float(np.sqrt(np.mean([c["ours_sd"] ** 2 for c in cs]))),
                    "tp_mean": tp_mean, "best": best, "best_mean": tp_mean[best],
                    "mean_of_set_best": float(np.mean([c["best_mean"] for c in cs])),
                    "diff": float(np.mean(diffs)), "se": sd(diffs) / np.sqrt(len(cs)),
                    "set_cells_at_or_above": sum(c["at_or_above"] for c in cs)})
    return out


def verdict(diff, se):
    side = "at/above" if diff >= -1e-9 else "below"
    return side + (" (within 2 se)" if abs(diff) <= 2 * se else "")


def set_table(name, cells, arch):
    rows = [c for c in cells if c["arch"] == arch]
    n = max(len(c["seeds"]) for c in rows)
    lines = [f"{name} {arch}: mean task accuracy (%), 4 tasks, mean over {n} seeds (Torch-Pruning (a) (b): one run)",
             f"  rate  setting                ours ± sd      {'  '.join(f'{i:>8s}' for i in IMPS)}   best TP ± sd"
             f"            ours-best    se  verdict"]
    for c in rows:
        mine = f"{c['ours_mean']:6.2f} ± {c['ours_sd']:4.2f}" if "ours_mean" in c else "   n/a       "
        diff = f"{c['diff']:+8.2f}  {c['se']:4.2f}  {verdict(c['diff'], c['se'])}" if "diff" in c else "     n/a"
        lines.append(f"  {c['rate']:<4}  {tables.SETTINGS[c['setting']]:21s} {mine}  "
                     f"{'  '.join(tables.fmt(c['tp_mean'][i], 8) for i in IMPS)}   {c['best_mean']:6.2f} ± "
                     f"{c['tp_sd'][c['best']]:4.2f} {c['best']:8s}  {diff}"
                     + (f"  ({c['ours_failed']} of ours failed)" if c["ours_failed"] else ""))
    at = sum(c.get("at_or_above", False) for c in rows)
    lines.append(f"  at or above the best importance's mean: {at} of {len(rows)}")
    return lines


def overall_table(cells, arch, n_seeds):
    rows = [c for c in cells if c["arch"] == arch]
    k = max(c["sets"] for c in rows)
    lines = [f"all {k} sets, {arch}: mean over sets of each side's per-set mean (%), {n_seeds} seeds each",
             f"  rate  setting                 ours  sd sets  sd seeds  {'  '.join(f'{i:>8s}' for i in IMPS)}   best TP"
             f"           ours-best  se sets  verdict                 per-set best  set-cells at/above"]
    for c in rows:
        lines.append(f"  {c['rate']:<4}  {tables.SETTINGS[c['setting']]:21s} {c['ours_mean']:6.2f}  {c['ours_sd_sets']:7.2f}"
                     f"  {c['ours_sd_seeds']:8.2f}  {'  '.join(tables.fmt(c['tp_mean'][i], 8) for i in IMPS)}   "
                     f"{c['best_mean']:6.2f} {c['best']:8s}  {c['diff']:+9.2f}  {c['se']:7.2f}  "
                     f"{verdict(c['diff'], c['se']):22s}  {c['mean_of_set_best']:12.2f}  {c['set_cells_at_or_above']} of {c['sets']}")
    at = sum(c["diff"] >= -1e-9 for c in rows)
    lines.append(f"  at or above over the sets: {at} of {len(rows)} cells; set-cells at or above: "
                 f"{sum(c['set_cells_at_or_above'] for c in rows)} of {sum(c['sets'] for c in rows)}")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", required=True, help="make_tasks.py folders, comma-separated")
    ap.add_argument("--seeds", type=int, default=3, help="seeds 0 .. N-1 on both sides")
    ap.add_argument("--pruned", default=ours.DEFAULT_BINARY)
    ap.add_argument("--rates", default=",".join(map(str, RATES)))
    ap.add_argument("--archs", default=",".join(ARCHS))
    ap.add_argument("--epochs", type=int, default=FT_EPOCHS, help="fine-tuning epochs for (c), both sides")
    ap.add_argument("--json", help="figures file (default: FIRST_TASKS/results/multiset.json)")
    ap.add_argument("--work", help="where each set's results are kept (default: DIR/multiseed in each set)")
    ap.add_argument("--fresh", action="store_true", help="run both sides again even where results are kept")
    args = ap.parse_args()
    t0 = time.perf_counter()
    folders = args.tasks.split(",")
    rates, archs, seeds = [float(r) for r in args.rates.split(",")], args.archs.split(","), list(range(args.seeds))
    if args.work and len({os.path.basename(os.path.normpath(f)) for f in folders}) < len(folders):
        sys.exit("--work keeps each set's results under its folder's name: the names must differ")
    for folder in folders:
        if not os.path.exists(os.path.join(folder, "tasks.json")):
            sys.exit(f"{folder}: no tasks.json (make it with make_tasks.py --out {folder} --seed S)")
    figures = {"seeds": seeds, "rates": rates, "archs": archs, "epochs": args.epochs, "binary": args.pruned,
               "binary_sha256": sha256(args.pruned), "sets": {}, "per_set": {}}
    for folder in folders:
        tp_by_seed = tp_side(folder, seeds, rates, archs, args.epochs, args.fresh, args.work)
        ours_by_seed = {s: our_side(folder, args.pruned, s, rates, archs, args.epochs, args.fresh, args.work)
                        for s in seeds}
        figures["sets"][folder] = {"models_seed": json.load(open(os.path.join(folder, "tasks.json"))).get("seed", 0)}
        figures["per_set"][folder] = [c for a in archs for c in set_cells(tp_by_seed, ours_by_seed, a, rates)]
    for folder in folders:
        name = f"{folder} (models seed {figures['sets'][folder]['models_seed']})"
        for arch in archs:
            print("\n".join(set_table(name, figures["per_set"][folder], arch)), end="\n\n")
    figures["overall"] = overall_cells(figures["per_set"])
    if len(folders) > 1:
        for arch in archs:
            print("\n".join(overall_table(figures["overall"], arch, len(seeds))), end="\n\n")
    figures["seconds"] = round(time.perf_counter() - t0, 1)
    path = args.json or os.path.join(folders[0], "results", "multiset.json")
    save(os.path.abspath(path), figures)
    print(f"wrote {path} ({figures['seconds']} s)")


if __name__ == "__main__":
    main()
