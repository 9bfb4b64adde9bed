#!/usr/bin/env python3
"""Speed of a multi-task MFIS job (issue 6): one `pruned prune` of T task models of one
backbone, against the sum of T Torch-Pruning runs (one per task), side by side in one run.

    swift build -c release --product pruned
    python3 Benchmarks/bench_multitask.py [--arch resnet50|resnet] [--tasks 4] [--rate 0.3] [--repeats 1]

Task models: one seeded backbone (BN statistics randomized so BN folding is not an identity),
and T - 1 copies whose every parameter is nudged by 2 % (what fine-tuning for another task does
to a backbone) with heads of other sizes (1000/10, 2, 2, 3, ... classes); exported with the
legacy ONNX exporter (BN folded into the convs) and saved as safetensors for Torch-Pruning.

Ours: `pruned prune t0.onnx ... --rate R --out DIR` as one child process (wall time; the stage
seconds from report.json). Torch-Pruning: for each task and each importance (MagnitudeImportance
p=1, FPGMImportance, BNScaleImportance), a child process that loads the task's weights into the
module, prunes every prunable group by R with MetaPruner (head ignored) and saves the state_dict;
wall time of the process and of its work after `import torch`. Ratios are theirs over ours.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

MAKE_SCRIPT = r"""
import sys, warnings, json
warnings.filterwarnings("ignore")
import torch, torch.nn as nn
from safetensors.torch import save_file
sys.path.insert(0, sys.argv[4])
sys.path.insert(0, sys.argv[5])
arch, tasks, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
from bench_engine_models import ResNet50
from make_torch_models import ResNet
def build(classes):
    if arch == "resnet50":
        return ResNet50(classes), (1, 3, 224, 224)
    m = ResNet()
    m.fc = nn.Linear(64, classes)
    return m, (1, 3, 32, 32)
heads = [1000 if arch == "resnet50" else 10, 2, 2, 3, 5, 4, 6, 7][:tasks]
torch.manual_seed(0)
base, shape = build(heads[0])
with torch.no_grad():
    for m in base.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.uniform_(0.5, 1.5); m.bias.uniform_(-0.1, 0.1)
            m.running_mean.uniform_(-0.1, 0.1); m.running_var.uniform_(0.5, 1.5)
for t, classes in enumerate(heads):
    model, _ = build(classes)
    state = {k: v.clone() for k, v in base.state_dict().items() if not k.startswith("fc.")}
    if t > 0:
        g = torch.Generator().manual_seed(t)
        for k, v in state.items():
            if v.is_floating_point() and "running_var" not in k:
                state[k] = v * (1 + 0.02 * torch.randn(v.shape, generator=g))
    model.load_state_dict(state, strict=False)
    model.eval()
    torch.onnx.export(model, (torch.randn(*shape),), f"{out}/task{t}.onnx", dynamo=False, input_names=["input"],
                      output_names=["logits"], opset_version=17)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, f"{out}/task{t}.safetensors")
print(json.dumps({"heads": heads, "shape": list(shape), "params": sum(p.numel() for p in base.parameters())}))
"""

TP_SCRIPT = r"""
import sys, time, json
t0 = time.perf_counter()
import torch, torch.nn as nn, torch_pruning as tp
from safetensors.torch import load_file, save_file
sys.path.insert(0, sys.argv[6])
sys.path.insert(0, sys.argv[7])
from bench_engine_models import ResNet50
from make_torch_models import ResNet
t_import = time.perf_counter()
arch, weights, out, importance, rate = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
state = load_file(weights)
classes = state["fc.weight"].shape[0]
if arch == "resnet50":
    model, shape = ResNet50(classes), (1, 3, 224, 224)
else:
    model, shape = ResNet(), (1, 3, 32, 32)
    model.fc = nn.Linear(64, classes)
model.load_state_dict(state)
model.eval()
imp = {"l1": tp.importance.MagnitudeImportance(p=1), "fpgm": tp.importance.FPGMImportance(),
       "bnscale": tp.importance.BNScaleImportance()}[importance]
pruner = tp.pruner.MetaPruner(model, torch.randn(*shape), importance=imp, pruning_ratio=rate, ignored_layers=[model.fc])
pruner.step()
save_file({k: v.contiguous() for k, v in model.state_dict().items()}, out)
t_end = time.perf_counter()
print(f"{t_end - t_import:.4f} {sum(p.numel() for p in model.parameters())}")
"""


def child(cmd):
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"{cmd[0]} {cmd[1] if len(cmd) > 1 else ''} failed: {p.stderr}")
    return wall, p.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pruned", default=".build/release/pruned")
    ap.add_argument("--arch", choices=["resnet50", "resnet"], default="resnet50")
    ap.add_argument("--tasks", type=int, default=4)
    ap.add_argument("--rate", type=float, default=0.3)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--extra", default="", help="more arguments for pruned prune, e.g. '--generations 50'")
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    scripts = os.path.join(os.path.dirname(here), "scripts")
    work = tempfile.mkdtemp(prefix="bench-multitask-")
    make = os.path.join(work, "make.py")
    open(make, "w").write(MAKE_SCRIPT)
    info = json.loads(child([sys.executable, make, args.arch, str(args.tasks), work, here, scripts])[1])
    models = [os.path.join(work, f"task{t}.onnx") for t in range(args.tasks)]
    print(f"{args.tasks} tasks of {args.arch} ({info['params'] / 1e6:.2f} M parameters each, heads {info['heads']}), rate {args.rate}")

    ours = []
    for r in range(args.repeats):
        out = os.path.join(work, f"out{r}")
        wall, _ = child([args.pruned, "prune", *models, "--rate", str(args.rate), "--out", out, *args.extra.split()])
        ours.append(wall)
    report = json.load(open(os.path.join(work, "out0", "report.json")))
    stages = ", ".join(f"{k} {v:.2f}" for k, v in sorted(report["seconds"].items()) if k != "total")
    storage = report["mfis"]["storage"]
    print(f"ours: `pruned prune` of all {args.tasks} tasks: wall {min(ours):.2f} s (best of {args.repeats}); stages: {stages}")
    print(f"      params {storage['original']} -> {storage['beforeSharing']} pruned apart, {storage['afterSharing']} in the bundle "
          f"({100 * storage['afterSharing'] / storage['beforeSharing']:.1f} %); {report['mfis']['evaluations']} evaluations")

    script = os.path.join(work, "tp.py")
    open(script, "w").write(TP_SCRIPT)
    for importance in ["l1", "fpgm", "bnscale"]:
        walls, works, params = [], [], []
        for t in range(args.tasks):
            wall, line = child([sys.executable, script, args.arch, models[t].replace(".onnx", ".safetensors"),
                                os.path.join(work, f"tp-{importance}-{t}.safetensors"), importance, str(args.rate), here, scripts])
            work_s, p = line.split()
            walls.append(wall)
            works.append(float(work_s))
            params.append(int(p))
        print(f"torch-pruning {importance:8s}: {args.tasks} runs, wall {sum(walls):6.2f} s (work after import {sum(works):6.2f} s), "
              f"params after {sum(params)}; ratio theirs/ours: wall {sum(walls) / min(ours):5.2f}x, work only {sum(works) / min(ours):5.2f}x")


if __name__ == "__main__":
    main()
