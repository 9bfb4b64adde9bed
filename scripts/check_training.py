"""Our training against PyTorch's, from the same initial weights (issue 4, item 6).

A small CNN with BN (scripts/digits_cnn.py) is built in PyTorch and exported with its initial
weights (dynamo exporter, optimize=False: BN stays a node). scikit-learn's digits are split
80/20 (seeded); the training part goes into a data file. Then:

1. our forward of the exported model matches onnxruntime to 1e-4 (`pruned run`);
2. `pruned train` and PyTorch train it with one recipe: SGD with momentum 0.9 and weight decay
   5e-4, cosine schedule stepped per batch, the same epochs and batch size, and the same batch
   order (ours, reimplemented in Python); the test accuracies (onnxruntime on our trained file,
   PyTorch on its own model) must be within 1 point, for every seed and on average.

    swift build -c release --product pruned
    python3 scripts/check_training.py [--seeds 0,1,2] [--epochs 10] [--upsample 1]
"""
import argparse
import copy
import os
import sys
import tempfile

import numpy as np
import torch
from safetensors.numpy import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import digits_cnn as dc  # noqa: E402


def forward_matches_onnxruntime(model_path, x, work):
    inputs = os.path.join(work, "x.safetensors")
    outputs = os.path.join(work, "y.safetensors")
    save_file({"input": x}, inputs)
    dc.pruned("run", model_path, "--input", inputs, "--out", outputs)
    ours = load_file(outputs)["logits"]
    theirs = dc.ort_logits(model_path, x)
    return float(np.abs(ours - theirs).max())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--upsample", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(2)
    size = 8 * args.upsample
    (xtr, ytr), (xte, yte) = dc.digits(args.upsample)
    print(f"digits {size}x{size}: {len(xtr)} train, {len(xte)} test; recipe: {args.epochs} epochs, lr {args.lr} "
          f"(cosine per batch), batch {args.batch_size}, momentum 0.9, weight decay 5e-4")
    failures = []
    ours_acc, torch_acc = [], []
    with tempfile.TemporaryDirectory() as work:
        data = os.path.join(work, "train.safetensors")
        dc.write_data(data, xtr, ytr)
        for seed in map(int, args.seeds.split(",")):
            torch.manual_seed(seed)
            model = dc.SmallCNN(size)
            initial = os.path.join(work, f"init{seed}.onnx")
            dc.export_bn_kept(copy.deepcopy(model), size, initial)
            diff = forward_matches_onnxruntime(initial, xte[:128], work)
            print(f"seed {seed}: forward of the exported model vs onnxruntime: max |diff| {diff:.2e}")
            if diff > 1e-4:
                failures.append(f"seed {seed}: forward differs from onnxruntime by {diff:.2e}")

            trained = os.path.join(work, f"trained{seed}.onnx")
            report = dc.pruned_train(initial, data, trained, args.epochs, args.lr, args.batch_size, seed=seed)
            ours = dc.ort_accuracy(trained, xte, yte)
            # Trained weights run in onnxruntime as exported: check our forward on them too.
            diff_trained = forward_matches_onnxruntime(trained, xte[:128], work)

            reference = copy.deepcopy(model)
            losses, _ = dc.torch_train(reference, xtr, ytr, args.epochs, args.lr, args.batch_size, seed=seed)
            theirs = dc.torch_accuracy(reference, xte, yte)
            ours_acc.append(ours)
            torch_acc.append(theirs)
            our_losses = [e["loss"] for e in report["epochs"]]
            print(f"  train loss per epoch, ours:    {' '.join(f'{v:.4f}' for v in our_losses)}")
            print(f"  train loss per epoch, PyTorch: {' '.join(f'{v:.4f}' for v in losses)}")
            print(f"  test accuracy: ours {100 * ours:.2f}%, PyTorch {100 * theirs:.2f}% "
                  f"(diff {100 * (ours - theirs):+.2f} points); trained model vs onnxruntime {diff_trained:.2e}")
            if abs(ours - theirs) > 0.01:
                failures.append(f"seed {seed}: test accuracies differ by {100 * abs(ours - theirs):.2f} points")
            if diff_trained > 1e-4:
                failures.append(f"seed {seed}: trained model's forward differs from onnxruntime by {diff_trained:.2e}")
    mean_ours, mean_torch = np.mean(ours_acc), np.mean(torch_acc)
    print(f"mean test accuracy: ours {100 * mean_ours:.2f}%, PyTorch {100 * mean_torch:.2f}% "
          f"(diff {100 * (mean_ours - mean_torch):+.2f} points)")
    if abs(mean_ours - mean_torch) > 0.01:
        failures.append("mean test accuracies differ by more than 1 point")
    print("FAIL:\n  " + "\n  ".join(failures) if failures else "OK")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
