"""One training epoch of the digits CNN (scripts/digits_cnn.py), ours against PyTorch's, side by
side in one run (issue 4, item 5: goal ≥ 0.5× PyTorch).

Both train the same exported model from the same initial weights on the same batches (our
order) with the same recipe; PyTorch on two threads (torch.set_num_threads(2)), ours on both
cores. Ours is the epoch's own wall time as `pruned train --report` records it (no process
start, model load or scoring); PyTorch's the same loop timed in Python. Each is run --repeats
times, alternating, and the fastest run of each is compared: ratio = PyTorch seconds / ours.

    swift build -c release --product pruned
    python3 Benchmarks/bench_training.py [--sizes 8,16,32] [--batch-size 32] [--repeats 3]
"""
import argparse
import copy
import os
import sys
import tempfile

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
import digits_cnn as dc  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="8,16,32", help="image sizes: digits 8×8 upsampled by 1, 2, 4")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--torch-threads", type=int, default=2, help="the issue's comparison is 2; 1 shows what contention costs it")
    args = ap.parse_args()
    torch.set_num_threads(args.torch_threads)
    print(f"one epoch, batch {args.batch_size}, SGD momentum 0.9 wd 5e-4, cosine; PyTorch {torch.__version__} on {args.torch_threads} threads; "
          f"best of {args.repeats}")
    print(f"{'image':>7} {'samples':>8} {'ours s':>9} {'PyTorch s':>10} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as work:
        for size in map(int, args.sizes.split(",")):
            (xtr, ytr), _ = dc.digits(size // 8)
            data = os.path.join(work, f"train{size}.safetensors")
            dc.write_data(data, xtr, ytr)
            torch.manual_seed(0)
            model = dc.SmallCNN(size)
            initial = os.path.join(work, f"init{size}.onnx")
            dc.export_bn_kept(copy.deepcopy(model), size, initial)
            ours, theirs = [], []
            for r in range(args.repeats):
                report = dc.pruned_train(initial, data, os.path.join(work, f"t{size}.onnx"), 1, 0.05, args.batch_size)
                ours.append(report["epochs"][0]["seconds"])
                _, seconds = dc.torch_train(copy.deepcopy(model), xtr, ytr, 1, 0.05, args.batch_size)
                theirs.append(seconds[0])
            o, t = min(ours), min(theirs)
            print(f"{size:>4}x{size:<2} {len(xtr):>8} {o:>9.3f} {t:>10.3f} {t / o:>7.2f}")


if __name__ == "__main__":
    main()
