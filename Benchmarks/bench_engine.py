#!/usr/bin/env python3
"""End-to-end engine benchmark (issue 2): parse, analyze, prune at 0.5 and write a
ResNet-50-sized model (about 25.5 M parameters), ours against Torch-Pruning's DepGraph with
MagnitudeImportance (L1) on the same model, side by side in one run.

    swift build -c release --product pruned
    python3 Benchmarks/bench_engine.py [--pruned .build/release/pruned] [--repeats 3]

Ours: `pruned prune resnet50.onnx --rate 0.5 --criteria magnitude --no-sharing --out DIR` (L1
selection, as Torch-Pruning's MagnitudeImportance; MFIS with every criterion is
Benchmarks/bench_multitask.py) as a child process (wall time and
peak RSS from wait4). Torch-Pruning: in a child process, read the same weights from
safetensors into the module, build the dependency graph, prune every prunable group by 50 %
with MagnitudeImportance(p=1), write the pruned state_dict as safetensors (wall time and peak
RSS of that process, minus the RSS of `import torch` alone, reported separately).
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

MAKE_SCRIPT = r"""
import sys, warnings
warnings.filterwarnings("ignore")
import torch
from safetensors.torch import save_file
sys.path.insert(0, sys.argv[3])
from bench_engine_models import resnet50
torch.manual_seed(0)
model = resnet50().eval()
torch.onnx.export(model, (torch.randn(1, 3, 224, 224),), sys.argv[1], dynamo=False, input_names=["input"],
                  output_names=["logits"], opset_version=17)
save_file({k: v.contiguous() for k, v in model.state_dict().items()}, sys.argv[2])
print(sum(p.numel() for p in model.parameters()))
"""

TP_SCRIPT = r"""
import sys, time
t0 = time.perf_counter()
import torch, torch_pruning as tp
from safetensors.torch import load_file, save_file
sys.path.insert(0, sys.argv[3])
from bench_engine_models import resnet50
t_import = time.perf_counter()
model = resnet50().eval()
model.load_state_dict(load_file(sys.argv[1]))
example = torch.randn(1, 3, 224, 224)
pruner = tp.pruner.MetaPruner(model, example, importance=tp.importance.MagnitudeImportance(p=1),
                              pruning_ratio=0.5, ignored_layers=[model.fc])
pruner.step()
save_file({k: v.contiguous() for k, v in model.state_dict().items()}, sys.argv[2])
t_end = time.perf_counter()
print(f"{t_import - t0:.3f} {t_end - t_import:.3f} {sum(p.numel() for p in model.parameters())}")
"""


def child(cmd):
    """Runs cmd; returns (wall seconds, peak RSS in MiB, stdout)."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    out = p.stdout.read()
    err = p.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{cmd[0]} failed: {err}")
    return wall, usage.ru_maxrss / 1024, out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pruned", default=".build/release/pruned")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    # The parent never imports torch: Linux carries a parent's peak RSS into a child's at exec,
    # so the model files are made in a child of their own.
    work = tempfile.mkdtemp(prefix="bench-engine-")
    onnx_path = os.path.join(work, "resnet50.onnx")
    st_path = os.path.join(work, "resnet50.safetensors")
    make = os.path.join(work, "make.py")
    open(make, "w").write(MAKE_SCRIPT)
    params = int(child([sys.executable, make, onnx_path, st_path, here])[2])
    size_mib = os.path.getsize(onnx_path) / 2**20
    print(f"model: ResNet-50, {params / 1e6:.1f} M parameters, ONNX file {size_mib:.0f} MiB")

    ours, theirs, tp_import = [], [], []
    for r in range(args.repeats):
        out = os.path.join(work, f"out{r}")
        ours.append(child([args.pruned, "prune", onnx_path, "--rate", "0.5", "--criteria", "magnitude", "--no-sharing", "--out", out]))
        script = os.path.join(work, "tp.py")
        open(script, "w").write(TP_SCRIPT)
        w, rss, line = child([sys.executable, script, st_path, os.path.join(work, f"tp{r}.safetensors"), here])
        imp, work_s, tp_params = line.split()
        theirs.append((w, rss, float(imp), float(work_s), int(tp_params)))
    base_rss = child([sys.executable, "-c", "import torch, torch_pruning"])[1]

    best = lambda xs, i: min(x[i] for x in xs)
    o_wall, o_rss = best(ours, 0), best(ours, 1)
    t_wall, t_rss, t_work = best(theirs, 0), best(theirs, 1), best(theirs, 3)
    print(f"ours            wall {o_wall:7.2f} s   peak RSS {o_rss:7.0f} MiB ({o_rss / size_mib:.2f}x the model file)")
    print(f"torch-pruning   wall {t_wall:7.2f} s   peak RSS {t_rss:7.0f} MiB  (of which `import torch` {base_rss:.0f} MiB;"
          f" load+analyze+prune+save alone {t_work:.2f} s)")
    ours_params = json.load(open(os.path.join(work, "out0", "report.json")))["models"][0]["after"]["params"]
    print(f"parameters after pruning: ours {ours_params / 1e6:.2f} M, torch-pruning {theirs[0][4] / 1e6:.2f} M")
    print(f"speed-up, end to end (whole processes):     {t_wall / o_wall:.1f}x")
    print(f"speed-up, against torch-pruning's work only: {t_work / o_wall:.1f}x")
    print(f"best of {args.repeats} runs each")


if __name__ == "__main__":
    main()
