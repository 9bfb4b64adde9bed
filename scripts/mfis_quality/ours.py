#!/usr/bin/env python3
"""Our side: `pruned prune` on the four task models of each architecture, evaluated in onnxruntime.

    python3 scripts/mfis_quality/ours.py --tasks /tmp/mfis --out /tmp/mfis/results/ours.json \
        [--pruned /work/main/.build/release/pruned] [--seed S]

Per (arch, rate): (a) `pruned prune A B C D --rate R --out DIR`; (b) the same with
`--data train.safetensors --finetune-epochs 0` (BN recalibration only); (c) with
`--finetune-epochs E` and the budget flags of config.py (`--lr --batch-size --weight-decay
--momentum`, each only if the binary has it; the ones missing are recorded). Then `--rate adaptive`.
Settings the binary cannot run are recorded as skipped, with the reason; the mode (multitask,
independent, one-at-a-time: see cli.py) is recorded with every result.

Reads DIR/<task>.onnx (test accuracy in onnxruntime, parameters counted from the file),
DIR/report.json (`models[].task`, `models[].after.params`, `models[].channels`, `seconds`; and when
present `storage`, `chosen`, `front`), and DIR/multitask.safetensors (parameters stored in the bundle).
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from safetensors import safe_open

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli  # noqa: E402
import data  # noqa: E402
from config import ARCHS, FT_EPOCHS, RATES, SEED, TASKS  # noqa: E402

DEFAULT_BINARY = "/work/main/.build/release/pruned"


def accuracy(onnx_path, x, y):
    """Top-1 accuracy in percent; one sample per run (the exports have a static batch of 1)."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(onnx_path, opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    pred = np.array([int(np.argmax(sess.run(None, {name: x[i:i + 1]})[0])) for i in range(len(x))])
    return 100.0 * float(np.mean(pred == y))


def onnx_params(path):
    """Parameters as deployed with BN folded: the floating-point initializers' elements, where a
    BatchNormalization counts one bias per channel (its scale, shift, mean and variance fold into
    the conv) — the count baselines.deployed_params gives for the Torch-Pruning models."""
    floats = {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16, onnx.TensorProto.DOUBLE}
    graph = onnx.load(path).graph
    sizes = {t.name: int(np.prod(t.dims)) for t in graph.initializer if t.data_type in floats}
    total = sum(sizes.values())
    for n in graph.node:
        if n.op_type == "BatchNormalization":  # inputs X, scale, B, mean, var: keep one of the four
            total -= sum(sizes.get(name, 0) for name in n.input[1:5]) - sizes.get(n.input[2], 0)
    return total


def bundle_params(path):
    """Floating-point elements stored in multitask.safetensors (index tensors, if any, not counted)."""
    total = 0
    with safe_open(path, "np") as f:
        for k in f.keys():
            t = f.get_slice(k)
            if t.get_dtype().startswith(("F", "BF")):
                total += int(np.prod(t.get_shape()))
    return total


def reports(out):
    """report.json, or the per-task reports of a one-at-a-time run merged into its shape."""
    path = os.path.join(out, "report.json")
    if os.path.exists(path):
        return json.load(open(path))
    merged = {"models": [], "seconds": {}}
    for task in TASKS:
        p = os.path.join(out, f"report.{task}.json")
        if os.path.exists(p):
            r = json.load(open(p))
            merged["models"] += r.get("models", [])
            for k, v in r.get("seconds", {}).items():
                merged["seconds"][k] = merged["seconds"].get(k, 0) + v
    return merged


def evaluate(out, result, test):
    """Adds per task accuracy and params, and the bundle's storage, to a run's result."""
    x_te, y_te = test
    report = reports(out)
    by_task = {m.get("task", os.path.splitext(m.get("source", ""))[0]): m for m in report.get("models", [])}
    result["tasks"] = {}
    for task in TASKS:
        path = os.path.join(out, f"{task}.onnx")
        if not os.path.exists(path):
            continue
        m = by_task.get(task, {})
        result["tasks"][task] = {"acc": accuracy(path, x_te, y_te[task]), "params": onnx_params(path),
                                 "params_report": m.get("after", {}).get("params"), "channels": m.get("channels")}
    accs = [t["acc"] for t in result["tasks"].values()]
    result["mean_acc"] = float(np.mean(accs)) if len(accs) == len(TASKS) else None
    result["params_sum"] = sum(t["params"] for t in result["tasks"].values())
    result["report_seconds"] = report.get("seconds")
    # `pruned` writes these under `mfis` (a stand-in binary may write them at the top level).
    mfis = report.get("mfis", report)
    for key in ("storage", "chosen", "front"):
        if key in mfis:
            result[key] = mfis[key] if key != "front" else {"solutions": len(mfis[key])}
    bundle = os.path.join(out, "multitask.safetensors")
    if os.path.exists(bundle):
        result["bundle"] = {"params": bundle_params(bundle), "bytes": os.path.getsize(bundle),
                            "index_json": os.path.exists(os.path.join(out, "index.json"))}
    return result


def fresh(out):
    """An empty output folder: a bundle left by an earlier run must not pass for this run's."""
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    return out


def setting(binary, feat, arch, folder, out, rate, which, epochs, test, seed=SEED):
    flags, missing = cli.options(feat, rate, None if which == "a" else os.path.join(folder, "train.safetensors"),
                                 None if which == "a" else (0 if which == "b" else epochs), seed)
    if flags is None:
        return {"skipped": f"the binary has no {', '.join(missing)}"}
    paths = [os.path.join(folder, arch, f"{t}.onnx") for t in TASKS]
    data_file = None if which == "a" else os.path.join(folder, "train.safetensors")
    result = cli.prune(binary, paths, flags, out, data_file)
    if missing:
        result["budget_flags_missing"] = missing
    if result["mode"] == "failed":
        return result
    return evaluate(out, result, test)


def time_job(binary, folder, arch="resnet", rate=0.3, repeats=3):
    """Wall seconds of one 4-task job without data (median of repeats), mode and report seconds."""
    feat = cli.features(binary)
    flags, _ = cli.options(feat, rate)
    paths = [os.path.join(folder, arch, f"{t}.onnx") for t in TASKS]
    walls, last = [], None
    for _ in range(repeats):
        out = tempfile.mkdtemp(prefix="mfis-speed-")
        last = cli.prune(binary, paths, flags, out)
        walls.append(last["seconds"])
        shutil.rmtree(out, ignore_errors=True)
    return {"mode": last["mode"], "seconds": statistics.median(walls), "all": walls, "command": last["commands"][0]}


def run(folder, binary=DEFAULT_BINARY, rates=RATES, archs=ARCHS, epochs=FT_EPOCHS, work=None, log=print,
        seed=SEED, adaptive=True):
    """Every setting at every rate with `--seed seed`; then `--rate adaptive` unless `adaptive` is False."""
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        log(f"ours: no executable at {binary}: our side skipped")
        return {"binary": binary, "error": "no executable", "features": None, "epochs": epochs, "archs": {}}
    feat = cli.features(binary)
    work = work or tempfile.mkdtemp(prefix="mfis-ours-")
    x_te, y_te = data.read(os.path.join(folder, "test.safetensors"))
    test = (x_te, y_te)
    results = {"binary": binary, "features": feat, "epochs": epochs, "seed": seed, "archs": {}}
    for arch in archs:
        originals = {t: os.path.join(folder, arch, f"{t}.onnx") for t in TASKS}
        res = results["archs"][arch] = {"unpruned": {t: accuracy(p, x_te, y_te[t]) for t, p in originals.items()},
                                        "unpruned_params": {t: onnx_params(p) for t, p in originals.items()}}
        for rate in rates:
            res[str(rate)] = {}
            for which in ("a", "b", "c"):
                if which == "c" and epochs == 0:
                    continue
                out = fresh(os.path.join(work, arch, f"{rate}-{which}"))
                r = res[str(rate)][which] = setting(binary, feat, arch, folder, out, rate, which, epochs, test, seed)
                log(f"ours {arch:6s} r={rate:<4} ({which}) {describe(r)}")
        if not adaptive:
            continue
        if feat["adaptive"]:
            out = fresh(os.path.join(work, arch, "adaptive"))
            flags, _ = cli.options(feat, "adaptive", os.path.join(folder, "train.safetensors") if feat["data"] else None,
                                   0 if feat["data"] else None, seed)
            r = cli.prune(binary, [os.path.join(folder, arch, f"{t}.onnx") for t in TASKS], flags, out)
            res["adaptive"] = r if r["mode"] == "failed" else evaluate(out, r, test)
            log(f"ours {arch:6s} adaptive {describe(res['adaptive'])}")
        else:
            res["adaptive"] = {"skipped": "the binary's help does not name --rate adaptive"}
    return results


def describe(r):
    if "skipped" in r:
        return "skipped: " + r["skipped"]
    if r["mode"] == "failed":
        return "FAILED: " + r["error"].splitlines()[-1] if r["error"] else "FAILED"
    accs = " ".join(f"{t} {v['acc']:.2f}" for t, v in r["tasks"].items())
    return f"[{r['mode']}] mean {r['mean_acc']:.2f} ({accs}) params {r['params_sum']} in {r['seconds']:.2f} s"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", required=True, help="the folder make_tasks.py wrote")
    ap.add_argument("--out", required=True, help="JSON file for the results")
    ap.add_argument("--pruned", default=DEFAULT_BINARY)
    ap.add_argument("--rates", default=",".join(map(str, RATES)))
    ap.add_argument("--archs", default=",".join(ARCHS))
    ap.add_argument("--epochs", type=int, default=FT_EPOCHS)
    ap.add_argument("--work", help="folder for the pruned models (default: a temp folder)")
    ap.add_argument("--seed", type=int, default=SEED, help="passed as `pruned prune --seed`")
    args = ap.parse_args()
    results = run(args.tasks, args.pruned, [float(r) for r in args.rates.split(",")], args.archs.split(","),
                  args.epochs, args.work, seed=args.seed)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
