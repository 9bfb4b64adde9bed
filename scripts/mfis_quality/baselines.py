#!/usr/bin/env python3
"""Torch-Pruning baselines: each task model pruned on its own, per architecture, rate and importance.

    python3 scripts/mfis_quality/baselines.py --tasks /tmp/mfis --out /tmp/mfis/results/baselines.json [--seeds 0,1,2]

Importances: MagnitudeImportance(p=1) (L1), FPGMImportance, BNScaleImportance, each with
MetaPruner (= BasePruner), global_pruning=False, the head ignored (its input side is pruned with
the last group, its output side kept). The pruning ratio is r, except that every conv is given
the ratio that keeps max(1, round((1 - r) N)) channels — the count `pruned prune --rate r` keeps —
because Torch-Pruning keeps int((1 - r) N): without this the two sides would differ by a channel
per group at r = 0.1 and 0.3, and the comparison would not be at equal parameters.

Per (arch, rate, importance, task): test accuracy (a) right after pruning, (b) after BN
recalibration on the training split, (c) after fine-tuning with the shared budget (config.py)
starting from (b), its shuffle seeded with config.SEED (with --seeds S1,S2,...: once per seed from
the same (b) model, `acc_c_seeds` {seed: accuracy}, `acc_c` the first seed's; (a) and (b) have no
randomness); parameters (torch count, and "deployed" = BN folded into the conv bias, the
count of an exported ONNX, which is what `pruned` reports); output width of every layer; and
seconds per pruning run (DepGraph build + step; and the whole run: state_dict load, prune,
save to safetensors), timed after one untimed warm-up run.
"""
import argparse
import copy
import json
import os
import sys
import tempfile
import time

import torch
import torch.nn as nn
import torch_pruning as tp
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import models  # noqa: E402
import training  # noqa: E402
from config import ARCHS, CLASSES, FT_EPOCHS, FT_LR, RATES, SEED, TASKS  # noqa: E402

IMPORTANCES = {
    "l1": lambda: tp.importance.MagnitudeImportance(p=1),
    "fpgm": lambda: tp.importance.FPGMImportance(),
    "bn_scale": lambda: tp.importance.BNScaleImportance(),
}


def kept_channels(n, rate):
    """What `pruned prune --rate` keeps of a group of n: max(1, round((1 - rate) n)), halves up."""
    return max(1, int((1 - rate) * n + 0.5))


def ratio_dict(model, rate):
    """Per conv, the ratio with which Torch-Pruning's int(N (1 - ratio)) equals kept_channels."""
    return {m: 1 - (kept_channels(m.out_channels, rate) + 0.5) / m.out_channels
            for m in model.modules() if isinstance(m, nn.Conv2d)}


def load(arch, task, folder):
    model = models.make(arch, CLASSES[task])
    model.load_state_dict(load_file(os.path.join(folder, arch, f"{task}.safetensors")))
    return model.eval()


def prune(model, importance, rate):
    example = torch.zeros(1, 1, data.SIZE, data.SIZE)
    pruner = tp.pruner.MetaPruner(model, example, importance=IMPORTANCES[importance](), global_pruning=False,
                                  pruning_ratio=rate, pruning_ratio_dict=ratio_dict(model, rate),
                                  ignored_layers=[model.head])
    pruner.step()
    return model.eval()


def widths(model):
    """Output width of every conv and linear layer by module name (as report.json's `channels`)."""
    return {name: (m.out_channels if isinstance(m, nn.Conv2d) else m.out_features)
            for name, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))}


def deployed_params(model):
    """Parameters once BN is folded into the conv (as exported ONNX has them): each BN's scale and
    shift become one bias per channel."""
    bn = sum(m.num_features for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    return models.params(model) - bn


def timed_run(arch, task, importance, rate, folder, scratch):
    """One Torch-Pruning run as a user would do it: load, prune, save. Returns (model, seconds)."""
    t0 = time.perf_counter()
    model = load(arch, task, folder)
    t1 = time.perf_counter()
    prune(model, importance, rate)
    t2 = time.perf_counter()
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(scratch, "pruned.safetensors"))
    t3 = time.perf_counter()
    return model, {"prune": t2 - t1, "run": t3 - t0}


def for_seed(results, seed):
    """A copy of run()'s results whose `acc_c` is the fine-tuning with that seed (from `acc_c_seeds`;
    rows without fine-tuning stay without)."""
    out = copy.deepcopy(results)
    for per_rate in out["archs"].values():
        for per_imp in per_rate.values():
            for per_task in per_imp.values():
                for row in per_task.values():
                    if "acc_c_seeds" in row:
                        row["acc_c"] = row["acc_c_seeds"][str(seed)]
    return out


def run(folder, rates=RATES, archs=ARCHS, epochs=FT_EPOCHS, lr=FT_LR, log=print, seeds=None):
    """seeds: one fine-tuning (c) per seed, each from the same recalibrated model; given, it adds
    `seeds` to the results and `acc_c_seeds` to every row (`acc_c` is the first seed's). Not given:
    config.SEED, and the results as before."""
    training.setup()
    x_tr, y_tr = data.read(os.path.join(folder, "train.safetensors"))
    x_te, y_te = data.read(os.path.join(folder, "test.safetensors"))
    scratch = tempfile.mkdtemp(prefix="mfis-tp-")
    timed_run(archs[0], TASKS[0], "l1", rates[0], folder, scratch)  # warm-up: lazy imports, first trace
    results = {"epochs": epochs, "lr": lr, "torch_pruning": tp.__version__, "archs": {}}
    if seeds is not None:
        results["seeds"] = list(seeds)
    for arch in archs:
        per_rate = results["archs"][arch] = {}
        for rate in rates:
            per_imp = per_rate[str(rate)] = {}
            for imp in IMPORTANCES:
                per_task = per_imp[imp] = {}
                for task in TASKS:
                    model, seconds = timed_run(arch, task, imp, rate, folder, scratch)
                    row = {"params": models.params(model), "params_deployed": deployed_params(model),
                           "channels": widths(model), "seconds": seconds,
                           "acc_a": training.accuracy(model, x_te, y_te[task])}
                    training.recalibrate_bn(model, x_tr)
                    row["acc_b"] = training.accuracy(model, x_te, y_te[task])
                    if epochs > 0:
                        by_seed = {}
                        for seed in seeds or [SEED]:
                            tuned = copy.deepcopy(model)
                            training.train(tuned, x_tr, y_tr[task], epochs, lr, seed=seed)
                            by_seed[str(seed)] = training.accuracy(tuned, x_te, y_te[task])
                        row["acc_c"] = next(iter(by_seed.values()))
                        if seeds is not None:
                            row["acc_c_seeds"] = by_seed
                    per_task[task] = row
                    log(f"tp  {arch:6s} r={rate:<4} {imp:8s} {task:6s} params {row['params_deployed']:6d}  "
                        f"acc (a) {row['acc_a']:6.2f} (b) {row['acc_b']:6.2f} (c) {row.get('acc_c', float('nan')):6.2f}  "
                        f"{seconds['prune']:.3f} s")
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", required=True, help="the folder make_tasks.py wrote")
    ap.add_argument("--out", required=True, help="JSON file for the results")
    ap.add_argument("--rates", default=",".join(map(str, RATES)))
    ap.add_argument("--archs", default=",".join(ARCHS))
    ap.add_argument("--epochs", type=int, default=FT_EPOCHS, help="fine-tuning epochs for (c); 0 skips (c)")
    ap.add_argument("--seeds", help="fine-tuning shuffle seeds for (c), comma-separated (default: config.SEED, "
                    "without acc_c_seeds)")
    args = ap.parse_args()
    results = run(args.tasks, [float(r) for r in args.rates.split(",")], args.archs.split(","), args.epochs,
                  seeds=[int(s) for s in args.seeds.split(",")] if args.seeds else None)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
