"""The comparison tables and the acceptance goals of issue 6, from baselines.py's and ours.py's results."""
import numpy as np

from config import TASKS

SETTINGS = {"a": "(a) no data", "b": "(b) BN recalibration", "c": "(c) fine-tuning"}


def tp_mean(bl, arch, rate, imp, which):
    rows = bl["archs"][arch][str(rate)][imp]
    accs = [rows[t].get(f"acc_{which}") for t in TASKS]
    return None if None in accs else float(np.mean(accs))


def tp_params(bl, arch, rate, imp="l1"):
    return sum(bl["archs"][arch][str(rate)][imp][t]["params_deployed"] for t in TASKS)


def ours_run(ours, arch, rate, which):
    r = (ours or {}).get("archs", {}).get(arch, {}).get(str(rate), {}).get(which)
    return r if r and r.get("mean_acc") is not None else None


def fmt(v, width=7):
    return f"{v:{width}.2f}" if v is not None else " " * (width - 3) + "n/a"


def accuracy_table(bl, ours, arch, rates, imps):
    """Mean task accuracy per rate and setting: ours (its mode), each importance, ours - best."""
    lines = [f"{arch}: mean task accuracy (%), 4 tasks, at equal parameters",
             f"  rate  setting                  ours  {'  '.join(f'{i:>8s}' for i in imps)}  ours-best  params ours / TP   mode"]
    figures = []
    for rate in rates:
        for which, label in SETTINGS.items():
            tps = [tp_mean(bl, arch, rate, i, which) for i in imps]
            if all(t is None for t in tps):
                continue
            best = max(t for t in tps if t is not None)
            r = ours_run(ours, arch, rate, which)
            mine = r["mean_acc"] if r else None
            why = r["mode"] if r else (_skip(ours, arch, rate, which))
            mp = r["params_sum"] if r else None
            lines.append(f"  {rate:<4}  {label:21s} {fmt(mine)}  {'  '.join(fmt(t, 8) for t in tps)}  "
                         f"{fmt(None if mine is None else mine - best, 9)}  {mp or 'n/a':>6} / {tp_params(bl, arch, rate):<6}  {why}")
            figures.append({"arch": arch, "rate": rate, "setting": which, "ours": mine, "ours_mode": why,
                            "tp": dict(zip(imps, tps)), "tp_best": best, "ours_params": mp,
                            "tp_params": tp_params(bl, arch, rate)})
    return lines, figures


def _skip(ours, arch, rate, which):
    r = (ours or {}).get("archs", {}).get(arch, {}).get(str(rate), {}).get(which) or {}
    return "skipped: " + r["skipped"] if "skipped" in r else ("failed" if r else "not run")


def per_task_table(bl, ours, tasks_json, arch, rate, imps):
    """After (c) at the rate: each task against its unpruned accuracy (torch, and the ONNX in onnxruntime)."""
    r = ours_run(ours, arch, rate, "c")
    unpruned_ort = (ours or {}).get("archs", {}).get(arch, {}).get("unpruned", {})
    lines = [f"{arch}: per task after (c) fine-tuning at rate {rate} (%)",
             f"  task    unpruned (torch / onnx)    ours  delta  {'  '.join(f'{i:>8s}' for i in imps)}"]
    figures = {}
    for t in TASKS:
        base = tasks_json["archs"][arch][t]["accuracy"]
        mine = r["tasks"][t]["acc"] if r and t in r["tasks"] else None
        tps = [bl["archs"][arch][str(rate)][i][t].get("acc_c") for i in imps]
        lines.append(f"  {t:6s}  {base:7.2f} / {fmt(unpruned_ort.get(t))}          {fmt(mine)} "
                     f"{fmt(None if mine is None else mine - base, 6)}  {'  '.join(fmt(v, 8) for v in tps)}")
        figures[t] = {"unpruned": base, "unpruned_onnx": unpruned_ort.get(t), "ours": mine, "tp": dict(zip(imps, tps))}
    return lines, figures


def matched_independent(bl, ours, tasks_json, arch, which, accuracy):
    """The fewest parameters of 4 independently pruned models (Torch-Pruning, any rate and
    importance of this setting, or the unpruned models) whose mean accuracy is at least
    `accuracy`: what the independent route needs to match ours."""
    points = [(sum(ours["archs"][arch]["unpruned_params"].values()),
               float(np.mean([tasks_json["archs"][arch][t]["accuracy"] for t in TASKS])), "unpruned")]
    for rate in bl["archs"][arch]:
        for imp in ("l1", "fpgm", "bn_scale"):
            acc = tp_mean(bl, arch, rate, imp, which)
            if acc is not None:
                points.append((sum(bl["archs"][arch][rate][imp][t]["params_deployed"] for t in TASKS), acc, f"{imp} at {rate}"))
    eligible = [p for p in points if p[1] >= accuracy]
    return min(eligible) if eligible else None


def storage_table(bl, ours, arch, rates, tasks_json=None):
    lines = [f"{arch}: storage of the multi-task bundle against the 4 independently pruned models (params)"]
    figures = []
    for rate in rates:
        for which in SETTINGS:
            r = ours_run(ours, arch, rate, which)
            if not r:
                continue
            indep = tp_params(bl, arch, rate)
            if "bundle" not in r:
                lines.append(f"  {rate:<4} {which}: no multitask.safetensors (mode {r['mode']})")
                continue
            b = r["bundle"]["params"]
            best = max(v for v in (tp_mean(bl, arch, rate, i, which) for i in ("l1", "fpgm", "bn_scale")) if v is not None)
            lines.append(f"  {rate:<4} {which}: bundle {b} / TP independent {indep} = {b / indep:.3f}   "
                         f"(ours sum of task models {r['params_sum']}); mean acc ours {r['mean_acc']:.2f} vs best TP {best:.2f}")
            figure = {"rate": rate, "setting": which, "bundle": b, "independent": indep, "ratio": b / indep,
                      "ours_mean": r["mean_acc"], "tp_best_mean": best, "storage_report": r.get("storage")}
            matched = matched_independent(bl, ours, tasks_json, arch, which, r["mean_acc"]) if tasks_json else None
            if matched:
                figure["matched"] = {"independent": matched[0], "mean_acc": matched[1], "what": matched[2], "ratio": b / matched[0]}
                lines.append(f"        at equal accuracy: the fewest independent params reaching {r['mean_acc']:.2f}: "
                             f"{matched[0]} ({matched[2]}, {matched[1]:.2f}) -> bundle / that = {b / matched[0]:.3f}")
            figures.append(figure)
    return lines, figures


def adaptive_lines(ours, arch):
    r = (ours or {}).get("archs", {}).get(arch, {}).get("adaptive", {})
    if "skipped" in r or r.get("mode") == "failed" or not r:
        return [f"{arch}: --rate adaptive: {r.get('skipped') or r.get('error', 'not run')[-200:]}"], r
    before = sum(ours["archs"][arch]["unpruned_params"].values())
    fig = {"mean_acc": r["mean_acc"], "params_sum": r["params_sum"], "params_unpruned": before, "mode": r["mode"],
           "bundle": r.get("bundle"), "chosen": r.get("chosen"), "front": r.get("front")}
    return [f"{arch}: --rate adaptive knee: mean acc {r['mean_acc']:.2f}, task params {r['params_sum']} "
            f"({100 * r['params_sum'] / before:.1f}% of the unpruned ONNX models), bundle "
            f"{(r.get('bundle') or {}).get('params', 'n/a')}, mode {r['mode']}, chosen {r.get('chosen', 'n/a')}"], fig


def goals(acc_figs, task_figs, storage_figs):
    """The acceptance goals of issue 6: True / False, or None where our side did not run."""
    g1 = [f["ours"] >= f["tp_best"] for f in acc_figs if f["ours"] is not None]
    g1_all = len(g1) == len(acc_figs)
    deltas = [v["ours"] - v["unpruned"] for figs in task_figs.values() for v in figs.values() if v["ours"] is not None]
    g3 = [f["ratio"] <= 0.6 and f["ours_mean"] >= f["tp_best_mean"] for f in storage_figs]
    g3m = [f["matched"]["ratio"] <= 0.6 for f in storage_figs if "matched" in f]
    return {
        "ours_at_least_best_tp_everywhere": (all(g1) if g1_all else None) if g1 else None,
        "ours_at_least_best_tp_where_run": f"{sum(g1)}/{len(g1)} of {len(acc_figs)}",
        "every_task_within_1pt_after_c_at_0.3": (min(deltas) >= -1.0) if deltas and len(deltas) == 4 * len(task_figs) else None,
        "bundle_at_most_60pct_at_equal_acc": (all(g3) if g3 else None),
        # The same, against the fewest independent params (any rate tried) at least as accurate as ours.
        "bundle_at_most_60pct_of_matched_independent": (all(g3m) if g3m else None),
    }
