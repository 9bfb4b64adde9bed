#!/usr/bin/env python3
"""Check a multi-task job's outputs with numpy and onnxruntime (issue 6).

    swift build -c release --product pruned
    python3 scripts/check_multitask_bundle.py [--pruned .build/release/pruned] [--tasks 3] [--rate 0.3]

Makes T task models of one backbone with torch (the ResNet of make_torch_models.py, then
copies with every weight nudged by 1 % and heads of other sizes), runs
`pruned prune t0.onnx ... --format both --out DIR`, and checks:
  - every task rebuilt from multitask.safetensors + index.json with the README's numpy recipe
    equals DIR/<task>.safetensors tensor for tensor;
  - the bundle stores as many parameters as report.json says;
  - every DIR/<task>.onnx loads and runs in onnxruntime with the right output shape.
Prints one line per check and exits non-zero on any failure.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort
from safetensors.numpy import load_file

MAKE = r"""
import sys, torch, torch.nn as nn
sys.path.insert(0, sys.argv[3])
from make_torch_models import ResNet, randomize_bn
out, tasks = sys.argv[1], int(sys.argv[2])
torch.manual_seed(0)
base = ResNet()
randomize_bn(base, torch.Generator().manual_seed(0))
for t, classes in enumerate([10, 2, 3, 5][:tasks]):
    m = ResNet(); m.fc = nn.Linear(64, classes)
    state = {k: v.clone() for k, v in base.state_dict().items() if not k.startswith("fc.")}
    if t:
        g = torch.Generator().manual_seed(t)
        for k, v in state.items():
            if v.is_floating_point() and "running_var" not in k:
                state[k] = v * (1 + 0.01 * torch.randn(v.shape, generator=g))
    m.load_state_dict(state, strict=False); m.eval()
    torch.onnx.export(m, (torch.randn(1, 3, 32, 32),), f"{out}/task{t}.onnx", dynamo=False, input_names=["input"],
                      output_names=["logits"], opset_version=17)
"""


def rebuild(bundle, index, task):
    """The README's recipe: a task's tensors from the bundle."""
    out = {}
    for name in index["taskTensors"][task]:
        entry = index["tensors"].get(name)
        if entry is None or task not in entry["rows"]:
            out[name] = bundle[f"{task}/{name}"]
            continue
        shared = bundle[entry["shared"]]
        for c in entry["columns"][task]:
            shared = np.take(shared, c["indices"], axis=c["axis"])
        own = bundle.get(f"{task}/{name}")
        stacked = shared if own is None else np.concatenate([shared, own], axis=entry["rowAxis"])
        w = np.take(stacked, entry["rows"][task], axis=entry["rowAxis"])
        if task in (entry.get("gains") or {}):                 # the task's BN gain per row
            shape = [1] * w.ndim
            shape[entry["rowAxis"]] = -1
            w = (w.astype(np.float32) * bundle[entry["gains"][task]].reshape(shape)).astype(w.dtype)
        out[name] = w
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pruned", default=".build/release/pruned")
    ap.add_argument("--tasks", type=int, default=3)
    ap.add_argument("--rate", type=float, default=0.3)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="pruned-multitask-")
    scripts = os.path.dirname(os.path.abspath(__file__))
    make = os.path.join(work, "make.py")
    open(make, "w").write(MAKE)
    subprocess.run([sys.executable, make, work, str(args.tasks), scripts], check=True, capture_output=True)
    names = [f"task{t}" for t in range(args.tasks)]
    out = os.path.join(work, "out")
    p = subprocess.run([args.pruned, "prune", *[os.path.join(work, f"{n}.onnx") for n in names], "--rate", str(args.rate),
                        "--format", "both", "--out", out], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"pruned prune failed: {p.stderr}")
    print(p.stdout.strip())
    bundle = load_file(os.path.join(out, "multitask.safetensors"))
    index = json.load(open(os.path.join(out, "index.json")))
    failures = 0

    def check(ok, what):
        nonlocal failures
        failures += 0 if ok else 1
        print(f"{'ok  ' if ok else 'FAIL'}  {what}")

    for n in names:
        task = load_file(os.path.join(out, f"{n}.safetensors"))
        rebuilt = rebuild(bundle, index, n)
        same = set(rebuilt) == set(task) and all(np.array_equal(rebuilt[k], task[k]) for k in task)
        check(same, f"{n}: rebuilt from the bundle with numpy equals {n}.safetensors ({len(task)} tensors)")
        sess = ort.InferenceSession(os.path.join(out, f"{n}.onnx"), providers=["CPUExecutionProvider"])
        y = sess.run(None, {"input": np.random.default_rng(0).standard_normal((1, 3, 32, 32)).astype(np.float32)})[0]
        check(y.shape[0] == 1 and np.isfinite(y).all(), f"{n}.onnx runs in onnxruntime, output {y.shape}")
    shared = sum(g["sharedSlots"] for g in index["groups"])
    report = json.load(open(os.path.join(out, "report.json")))
    s = report["mfis"]["storage"]
    check(s["afterSharing"] == sum(v.size for v in bundle.values() if v.dtype.kind == "f"),
          f"bundle stores {s['afterSharing']} parameters as reported ({shared} shared filters; {s['beforeSharing']} apart)")
    print(f"{failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
