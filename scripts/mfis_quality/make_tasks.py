#!/usr/bin/env python3
"""Makes the paper's setting: one backbone per architecture trained on scikit-learn's digits
(10 classes), then copies fine-tuned for parity, digit >= 5 and digit mod 3 on the same inputs
(a new head each, every filter trained on from the backbone's, so filters correspond by index).

    python3 scripts/mfis_quality/make_tasks.py --out /tmp/mfis [--quick] [--seed S]

Writes
  OUT/train.safetensors, OUT/test.safetensors   input (N x 1 x 8 x 8 float32), label.<task>, label (= digit)
  OUT/<arch>/<task>.onnx                        torch.onnx.export's defaults (torch 2.15: the dynamo
                                                exporter, whose optimizer folds BN into the convs: no
                                                BatchNormalization node, `<conv>.weight_bias` initializers)
                                                except external_data=False (one self-contained file);
                                                --bn kept: the legacy exporter, BatchNormalization kept;
                                                static shape 1 x 1 x 8 x 8, input "input", output "logits"
  OUT/<arch>/<task>.safetensors                 the torch state_dict (for the Torch-Pruning baselines)
  OUT/tasks.json                                unpruned test accuracy and params per arch and task
Seeded and deterministic: the same command writes the same weights. --seed S (default config.SEED)
seeds the models' initialization and training shuffles, so other seeds give other sets of task
models; the train/test split is data.py's, the same for every seed.
"""
import argparse
import copy
import json
import os
import sys
import time
import warnings

import numpy as np
import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import models  # noqa: E402
import training  # noqa: E402
from config import (ARCHS, BACKBONE_EPOCHS, BACKBONE_LR, CLASSES, SEED, TASK_EPOCHS,  # noqa: E402
                    TASK_LR, TASKS, task_label)


def export_onnx(model, path, bn):
    """bn="folded": torch.onnx.export's defaults (torch >= 2.9: the dynamo exporter, whose graph
    optimizer folds BN into the conv in eval mode) but external_data=False. bn="kept": the legacy
    TorchScript exporter without constant folding, which keeps the BatchNormalization nodes."""
    model.eval()
    x = torch.zeros(1, 1, data.SIZE, data.SIZE)
    kw = {"external_data": False} if bn == "folded" else {"dynamo": False, "do_constant_folding": False,
                                                           "opset_version": 17}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), path, input_names=["input"], output_names=["logits"], verbose=False, **kw)
    if os.path.exists(path + ".data"):
        raise RuntimeError(f"{path}: the exporter wrote external data")


def make_arch(arch, x_tr, d_tr, x_te, d_te, out, backbone_epochs, task_epochs, bn, seed=SEED):
    os.makedirs(os.path.join(out, arch), exist_ok=True)
    torch.manual_seed(seed)
    backbone = models.make(arch, CLASSES["digit"])
    training.train(backbone, x_tr, d_tr, backbone_epochs, BACKBONE_LR, seed=seed)
    summary = {}
    for i, task in enumerate(TASKS):
        if task == "digit":
            model = backbone
        else:
            model = copy.deepcopy(backbone)
            torch.manual_seed(seed + 1 + i)
            model.head = torch.nn.Linear(model.head.in_features, CLASSES[task])
            training.train(model, x_tr, task_label(task, d_tr), task_epochs, TASK_LR, seed=seed + 1 + i)
        acc = training.accuracy(model, x_te, task_label(task, d_te))
        export_onnx(model, os.path.join(out, arch, f"{task}.onnx"), bn)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()},
                  os.path.join(out, arch, f"{task}.safetensors"))
        summary[task] = {"accuracy": acc, "params": models.params(model)}
        print(f"{arch:6s} {task:6s} test accuracy {acc:6.2f}%  params {models.params(model)}", flush=True)
    return summary


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true", help="few epochs (smoke run; weaker models)")
    ap.add_argument("--bn", choices=["folded", "kept"], default="folded",
                    help="folded: the default exporter (BN folded into the convs); kept: BatchNormalization nodes")
    ap.add_argument("--seed", type=int, default=SEED,
                    help="seed of the models' initialization and training (default config.SEED); not of the split")
    args = ap.parse_args()
    training.setup()
    t0 = time.perf_counter()
    os.makedirs(args.out, exist_ok=True)
    x_tr, d_tr, x_te, d_te = data.load_split()
    data.write(os.path.join(args.out, "train.safetensors"), x_tr, d_tr)
    data.write(os.path.join(args.out, "test.safetensors"), x_te, d_te)
    be, te = (3, 2) if args.quick else (BACKBONE_EPOCHS, TASK_EPOCHS)
    summary = {"train": len(x_tr), "test": len(x_te), "backbone_epochs": be, "task_epochs": te,
               "torch": torch.__version__, "bn": args.bn, "seed": args.seed, "archs": {}}
    for arch in ARCHS:
        summary["archs"][arch] = make_arch(arch, x_tr, d_tr, x_te, d_te, args.out, be, te, args.bn, args.seed)
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    with open(os.path.join(args.out, "tasks.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(f"wrote {args.out} in {summary['seconds']} s")


if __name__ == "__main__":
    main()
