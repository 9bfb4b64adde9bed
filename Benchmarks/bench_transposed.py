#!/usr/bin/env python3
"""SGEMM with a transposed B (the weight-gradient products of conv backward) against the same
product untransposed, for one or more builds of `pruned-bench` side by side in one run: the
cost of packing a transposed operand, before and after a change.

    swift build -c release --product pruned-bench
    cp .build/release/pruned-bench /tmp/bench-before      # at the commit before the change
    python3 Benchmarks/bench_transposed.py --bench /tmp/bench-before --bench .build/release/pruned-bench

Each repeat runs every build twice (`gemm --trans-b`, then plain) in child processes, the builds
in an order that rotates between repeats; a figure is the median over repeats of a child's
median GFLOP/s. Only flags every `pruned-bench gemm` has are used (--shape, --trans-b,
--json), so an older build can be compared. PRUNED_THREADS defaults to 1 here: the comparison
is of the kernels, not of how the second core is shared.

--backward R then runs `pruned-bench backward --repeats 3 --json` R times per build, builds
alternating, and prints each case's best time (conv backward holds the weight-gradient
products); --pin CPU runs it under `taskset -c CPU` (conv backward uses every core it sees,
whatever PRUNED_THREADS says).
"""
import argparse
import json
import os
import statistics
import subprocess

# `pruned-bench gemm --shapes weightgrad`: dW (M×N) = dY (M×K) · colᵀ, M = filters,
# N = input channels × kernel area, K = output pixels of one image.
SHAPES = [
    ("dW 3x3 64-64 @32", 64, 576, 1024),
    ("dW 3x3 128-128 @16", 128, 1152, 256),
    ("dW 1x1 128-256 @16", 256, 128, 256),
    ("dW 3x3 16-16 @8", 16, 144, 64),
    ("dW 3x3 11-11 @8", 11, 99, 64),
    ("dW 3x3 32-32 @4", 32, 288, 16),
    ("dW 3x3 64-64 @2", 64, 576, 4),
]


def measure(bench, transposed, seconds, env):
    args = [bench, "gemm", "--shapes", "", "--seconds", str(seconds), "--json"]
    for _, m, n, k in SHAPES:
        args += ["--shape", f"{m}x{n}x{k}"]
    if transposed:
        args.append("--trans-b")
    out = subprocess.run(args, check=True, capture_output=True, text=True, env=env).stdout
    return [r["gflops_median"] for r in json.loads(out)]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bench", action="append", required=True, help="a pruned-bench binary (repeatable)")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--seconds", type=float, default=0.2)
    p.add_argument("--threads", default=os.environ.get("PRUNED_THREADS", "1"))
    p.add_argument("--backward", type=int, default=0, metavar="R", help="also time conv backward, R runs per build")
    p.add_argument("--pin", help="run conv backward under taskset -c PIN")
    a = p.parse_args()
    env = dict(os.environ, PRUNED_THREADS=a.threads)
    runs = {(b, t): [] for b in a.bench for t in (True, False)}
    for r in range(a.repeats):
        order = a.bench[r % len(a.bench):] + a.bench[:r % len(a.bench)]
        for b in order:
            for t in (True, False):
                runs[(b, t)].append(measure(b, t, a.seconds, env))
    med = {key: [statistics.median(v[i] for v in vals) for i in range(len(SHAPES))] for key, vals in runs.items()}

    print(f"GFLOP/s, median of {a.repeats} repeats, PRUNED_THREADS={a.threads}; ratio = A·Bᵀ ÷ A·B")
    header = "| shape (M×N×K) |"
    rule = "|---|"
    for i, _ in enumerate(a.bench):
        header += f" [{i}] A·Bᵀ | [{i}] A·B | [{i}] ratio |"
        rule += "---|---|---|"
    if len(a.bench) > 1:
        header += f" A·Bᵀ [{len(a.bench) - 1}] ÷ [0] |"
        rule += "---|"
    print(header)
    print(rule)
    for i, (name, m, n, k) in enumerate(SHAPES):
        line = f"| {name} ({m}×{n}×{k}) |"
        for b in a.bench:
            t, u = med[(b, True)][i], med[(b, False)][i]
            line += f" {t:.1f} | {u:.1f} | {t / u:.2f} |"
        if len(a.bench) > 1:
            line += f" {med[(a.bench[-1], True)][i] / med[(a.bench[0], True)][i]:.2f} |"
        print(line)
    for i, b in enumerate(a.bench):
        print(f"[{i}] {b}")
    if a.backward:
        backward(a, env)


def backward(a, env):
    runs = {b: [] for b in a.bench}
    for r in range(a.backward):
        order = a.bench[r % len(a.bench):] + a.bench[:r % len(a.bench)]
        for b in order:
            args = ([*("taskset", "-c", a.pin)] if a.pin else []) + [b, "backward", "--repeats", "3", "--json"]
            out = subprocess.run(args, check=True, capture_output=True, text=True, env=env).stdout
            runs[b].append(json.loads(out)["results"])
    names = [r["name"] for r in runs[a.bench[0]][0]]
    print(f"\npruned-bench backward, best of {a.backward} runs × 3 repeats, ms" + (f", taskset -c {a.pin}" if a.pin else ""))
    print("| case |" + "".join(f" [{i}] forward | [{i}] backward |" for i, _ in enumerate(a.bench))
          + (f" backward [0] ÷ [{len(a.bench) - 1}] |" if len(a.bench) > 1 else ""))
    print("|---|" + "---|---|" * len(a.bench) + ("---|" if len(a.bench) > 1 else ""))
    for i, name in enumerate(names):
        best = {b: (min(x[i]["forward_ms"] for x in runs[b]), min(x[i]["backward_ms"] for x in runs[b])) for b in a.bench}
        line = f"| {name} |" + "".join(f" {best[b][0]:.1f} | {best[b][1]:.1f} |" for b in a.bench)
        if len(a.bench) > 1:
            line += f" {best[a.bench[0]][1] / best[a.bench[-1]][1]:.2f} |"
        print(line)


if __name__ == "__main__":
    main()
