"""Pruning with data (issue 4, item 4): what recalibration and fine-tuning give back.

A digits CNN (scripts/digits_cnn.py) is trained in PyTorch, exported with BN kept as nodes
(dynamo, optimize=False) and with BN folded into the convs (legacy exporter, eval mode), and
pruned at --rate with `pruned prune --data` (the training split, labelled, or unlabelled for
distillation) and --finetune-epochs. Printed per export: the held-out accuracies report.json
gives before pruning, after pruning, after recalibration (BN statistics, or the folded-BN
affine correction) and after fine-tuning; and, independently, onnxruntime's accuracy on the
test split (which no step saw) of the original, of the model pruned without data, of the
model pruned with data and no fine-tuning, and of the fine-tuned model written. The data
file is the training split the model learnt from, as a user would send it, so the held-out
figures sit above the test ones.

    swift build -c release --product pruned
    python3 scripts/check_prune_with_data.py [--rate 0.3] [--finetune-epochs 3]
"""
import argparse
import json
import os
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import digits_cnn as dc  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=0.3)
    ap.add_argument("--finetune-epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--train-epochs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(2)
    (xtr, ytr), (xte, yte) = dc.digits()
    torch.manual_seed(args.seed)
    model = dc.SmallCNN(8)
    dc.torch_train(model, xtr, ytr, args.train_epochs, 0.05, 32, seed=args.seed, same_order=False)
    print(f"digits CNN trained in PyTorch ({args.train_epochs} epochs): test accuracy {100 * dc.torch_accuracy(model, xte, yte):.2f}%")
    print(f"prune --rate {args.rate} --data <train split> --finetune-epochs {args.finetune_epochs} --lr {args.lr} "
          f"--batch-size {args.batch_size}; held-out = 10% of the train split; test = {len(xte)} samples (onnxruntime)\n")
    header = f"{'export':<11} {'labels':<13} {'':>10} {'before':>8} {'pruned':>8} {'recalib.':>8} {'tuned':>8}   recalibrated by"
    print(header)
    print("-" * len(header))
    ok = True
    with tempfile.TemporaryDirectory() as work:
        labelled, unlabelled = os.path.join(work, "train.safetensors"), os.path.join(work, "unlabelled.safetensors")
        dc.write_data(labelled, xtr, ytr)
        dc.write_data(unlabelled, xtr)
        for export, kind in [(dc.export_bn_kept, "BN kept"), (dc.export_bn_folded, "BN folded")]:
            path = os.path.join(work, f"{kind.replace(' ', '_')}", "digits.onnx")
            os.makedirs(os.path.dirname(path))
            export(model, 8, path)
            plain, recalibrated = os.path.join(work, f"{kind}-plain"), os.path.join(work, f"{kind}-recalibrated")
            dc.pruned("prune", path, "--rate", args.rate, "--out", plain)
            dc.pruned("prune", path, "--rate", args.rate, "--data", labelled, "--batch-size", args.batch_size, "--out", recalibrated)
            one = kind == "BN folded"  # the legacy export declares batch 1
            test = [dc.ort_accuracy(os.path.join(d, "digits.onnx") if d != path else path, xte, yte, one_by_one=one)
                    for d in (path, plain, recalibrated)]
            for data, labels in [(labelled, "label"), (unlabelled, "distillation")]:
                out = os.path.join(work, f"{kind}-{labels}")
                dc.pruned("prune", path, "--rate", args.rate, "--data", data, "--finetune-epochs", args.finetune_epochs,
                          "--lr", args.lr, "--batch-size", args.batch_size, "--out", out)
                with open(os.path.join(out, "report.json")) as f:
                    report = json.load(f)["models"][0]
                a = report["accuracy"]
                steps = [a["beforePruning"], a["afterPruning"], a["afterRecalibration"], a["afterFineTuning"]]
                how = (f"{len(a['recalibratedBatchNorms'])} BN re-estimated" if a["recalibratedBatchNorms"] else "") + \
                      (f"{len(a['correctedLayers'])} convs corrected" if a["correctedLayers"] else "")
                print(f"{kind:<11} {labels:<13} {'held-out':>10} " + " ".join(f"{100 * s['accuracy']:7.2f}%" for s in steps) + f"   {how}")
                print(f"{'':<11} {'':<13} {'  loss':>10} " + " ".join(f"{s['loss']:8.4f}" for s in steps))
                final = dc.ort_accuracy(os.path.join(out, "digits.onnx"), xte, yte, one_by_one=one)
                print(f"{'':<11} {'':<13} {'test (ort)':>10} " + " ".join(f"{100 * t:7.2f}%" for t in test + [final])
                      + f"   params {report['before']['params']} -> {report['after']['params']}")
                ok &= test[2] > test[1] and final > test[1] and a["afterRecalibration"]["accuracy"] >= a["afterPruning"]["accuracy"]
    print("\nOK" if ok else "\nFAIL: recovery did not improve on pruning alone")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
