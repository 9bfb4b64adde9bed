#!/usr/bin/env python3
"""Convolution forward and backward (issue 4's shapes, batch 64) and one training step of the
example models: ours (`pruned-bench backward`) against PyTorch CPU, side by side in one run.

    swift build -c release --product pruned-bench
    python3 Benchmarks/bench_backward.py [--bench .build/release/pruned-bench] [--repeats 3]

Both sides: best of --repeats; PyTorch with as many threads as this machine's cores.
"Backward" is the input and weight gradients of one conv (PyTorch: the backward call of a
recorded forward, so its time is fwd+bwd minus fwd). Training step rows are ours only
(PyTorch's equivalent model lives with the training benchmark).
"""
import argparse
import json
import os
import subprocess
import time

import torch

SHAPES = [  # name, C, H=W, M, kernel, group — the same list as BackwardBenchmark.convs
    ("3x3 64->64 @32", 64, 32, 64, 3, 1),
    ("3x3 128->128 @16", 128, 16, 128, 3, 1),
    ("3x3 depthwise 128 @16", 128, 16, 128, 3, 128),
    ("1x1 128->256 @16", 128, 16, 256, 1, 1),
]


def best(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def torch_conv(batch, c, size, m, k, group, repeats):
    x = torch.randn(batch, c, size, size, requires_grad=True)
    w = torch.randn(m, c // group, k, k, requires_grad=True)

    def forward():
        return torch.nn.functional.conv2d(x, w, padding=k // 2, groups=group)

    dy = torch.randn_like(forward())

    def forward_only():
        with torch.no_grad():
            forward()

    def forward_backward():
        x.grad = w.grad = None
        forward().backward(dy)

    f = best(forward_only, repeats)
    return f, best(forward_backward, repeats) - f


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bench", default=".build/release/pruned-bench")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count())
    ours = json.loads(subprocess.run([args.bench, "backward", "--json", "--batch", str(args.batch), "--repeats", str(args.repeats)],
                                     check=True, capture_output=True, text=True).stdout)
    rows = {r["name"]: r for r in ours["results"]}
    print(f"batch {args.batch}, best of {args.repeats}, {os.cpu_count()} cores; ratio = PyTorch time / ours (>1: ours faster)")
    print(f"{'':24} {'ours fwd':>9} {'torch fwd':>9} {'ratio':>6}   {'ours bwd':>9} {'torch bwd':>9} {'ratio':>6}   {'fwd+bwd ratio':>13}")
    for name, c, size, m, k, group in SHAPES:
        tf, tb = torch_conv(args.batch, c, size, m, k, group, args.repeats)
        of, ob = rows[name]["forward_ms"] / 1e3, rows[name]["backward_ms"] / 1e3
        print(f"{name:24} {of*1e3:8.1f}ms {tf*1e3:8.1f}ms {tf/of:6.2f}   {ob*1e3:8.1f}ms {tb*1e3:8.1f}ms {tb/ob:6.2f}   {(tf+tb)/(of+ob):13.2f}")
    for r in ours["results"]:
        if r["name"].startswith("train step"):
            print(f"{r['name']:24} forward {r['forward_ms']:.1f} ms, backward {r['backward_ms']:.1f} ms (ours)")


if __name__ == "__main__":
    main()
