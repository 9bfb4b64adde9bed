#!/usr/bin/env python3
"""Kernel benchmark (issue 4): our SGEMM and conv2d forward against numpy (OpenBLAS) and
PyTorch CPU on the same shapes, side by side in one run, and against this machine's peak.

    swift build -c release --product pruned-bench
    python3 Benchmarks/bench_kernels.py [--bench .build/release/pruned-bench] [--repeats 5]
                                        [--seconds 0.3] [--threads 2,1] [--json results.json]

Each engine runs in its own child process, one after the other, and the order rotates from
one repeat to the next: ours (`pruned-bench gemm|conv --json`, PRUNED_THREADS=t), numpy
(OPENBLAS_NUM_THREADS=t), PyTorch (torch.set_num_threads(t)). A child times each shape for
--seconds after one warm-up call and reports the median call. The tables show, per shape,
the median over the repeats of those medians. Separate processes keep one library's idle
threads (OpenMP spins for a while after each parallel region) from stealing the cores while
the next one is timed; interleaved repeats and medians are for the machine being shared.

Thread counts: 2 (both cores) is the comparison asked for. 1 is the control: when other
processes take a core now and then, a library whose threads wait for each other by spinning
and yielding can lose far more than the stolen time (OpenBLAS took 24 ms instead of 0.1 ms for
128×784×64 on 2 threads beside a load average of 5.7), and the one-thread table shows the kernels
themselves.

GEMM shapes: squares 512, 1024, 2048 and the im2col products of ResNet-18's convolutions at
batch 1, 224×224 input: C (M×N) = W (M × C·kH·kW) · columns (C·kH·kW × oH·oW), M the output
channels, N the output pixels (pruned-bench gemm --help). Conv shapes: batch 64, NCHW float32,
pad = kernel/2 (pruned-bench conv --help).

Peak: cores × clock × FMA lanes × 2. The lanes are 16 floats per AVX-512 FMA unit × 2 units
per core (lscpu flags avx512f + fma; two 512-bit FMA units is what Xeon Scalable parts of
this family have, and what the measured FMA loop confirms: one core's best exceeds what one
unit could give at any clock this CPU reaches). The clock is the nominal one from
/proc/cpuinfo ("cpu MHz"; the model name carries none here); `pruned-bench peak` times an
FMA-only loop and reports the clock it implies.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# Conv passes timed. pruned-bench conv --pass takes the same names. The PyTorch side of
# "forward-backward" is written (worker_conv); conv backward (branch `backprop`) adds the pass
# to pruned-bench conv (ConvBenchmark.Pass), and then it belongs in this list.
CONV_PASSES = ["forward"]


# ----------------------------------------------------------------------------- workers

def time_calls(fn, seconds):
    """Median seconds of one call of fn, timed for `seconds` after one warm-up call."""
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < 3 or time.perf_counter() - start < seconds:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), len(times)


def worker_threads():
    return int(os.environ.get("BENCH_THREADS", "2"))


def worker_gemm(engine, shapes, seconds):
    # Like ours, every engine writes into a C allocated once.
    if engine == "numpy":
        import numpy as np
        mm = lambda a, b, c: np.matmul(a, b, out=c)
        make = lambda r, c, seed: np.random.default_rng(seed).uniform(-1, 1, (r, c)).astype(np.float32)
    else:
        import torch
        torch.set_num_threads(worker_threads())
        mm = lambda a, b, c: torch.mm(a, b, out=c)
        make = lambda r, c, seed: torch.empty(r, c).uniform_(-1, 1, generator=torch.Generator().manual_seed(seed))
    out = []
    for m, n, k in shapes:
        a, b, c = make(m, k, 1), make(k, n, 2), make(m, n, 3)
        median, runs = time_calls(lambda: mm(a, b, c), seconds)
        out.append({"shape": [m, n, k], "seconds_median": median, "runs": runs})
    return out


def worker_conv(engine, shapes, seconds, conv_pass):
    import torch
    torch.set_num_threads(worker_threads())
    out = []
    for n, c, height, width, m, kernel, stride, group in shapes:
        x = torch.randn(n, c, height, width)
        w = torch.randn(m, c // group, kernel, kernel)
        b = torch.randn(m)
        pad = kernel // 2
        if conv_pass == "forward":
            def call():
                with torch.no_grad():
                    torch.nn.functional.conv2d(x, w, b, stride=stride, padding=pad, groups=group)
        else:  # forward-backward: input and weight (and bias) gradients, as training needs
            x.requires_grad_(True)
            w.requires_grad_(True)
            b.requires_grad_(True)

            def call():
                y = torch.nn.functional.conv2d(x, w, b, stride=stride, padding=pad, groups=group)
                y.backward(torch.ones_like(y))
        median, runs = time_calls(call, seconds)
        out.append({"shape": [n, c, height, width, m, kernel, stride, group], "seconds_median": median, "runs": runs})
    return out


def run_worker(kind, engine, shapes, seconds, threads, conv_pass="forward"):
    t = str(threads)
    env = dict(os.environ, OPENBLAS_NUM_THREADS=t, OMP_NUM_THREADS=t, MKL_NUM_THREADS=t, BENCH_THREADS=t)
    args = [sys.executable, os.path.abspath(__file__), "--worker", kind, "--engine", engine,
            "--shapes", json.dumps(shapes), "--seconds", str(seconds), "--conv-pass", conv_pass]
    return json.loads(subprocess.run(args, env=env, check=True, capture_output=True, text=True).stdout)


def run_ours(bench, kind, seconds, threads, conv_pass="forward"):
    args = [bench, kind, "--json", "--seconds", str(seconds)]
    if kind == "conv":
        args += ["--pass", conv_pass]
    env = dict(os.environ, PRUNED_THREADS=str(threads))
    return json.loads(subprocess.run(args, env=env, check=True, capture_output=True, text=True).stdout)


# ----------------------------------------------------------------------------- machine

def machine():
    info = {"model": "?", "cores": os.cpu_count(), "mhz": None, "flags": set()}
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, _, value = line.partition(":")
            key, value = key.strip(), value.strip()
            if key == "model name":
                info["model"] = value
            elif key == "cpu MHz" and info["mhz"] is None:
                info["mhz"] = float(value)
            elif key == "flags":
                info["flags"] = set(value.split())
    lanes = 16 if "avx512f" in info["flags"] else 8 if "avx2" in info["flags"] else 4
    units = 2 if "fma" in info["flags"] else 1
    info["fma_lanes"] = lanes * units
    info["peak_gflops"] = info["cores"] * info["mhz"] / 1e3 * info["fma_lanes"] * 2
    info["flags"] = sorted(f for f in info["flags"] if f in ("avx2", "fma", "avx512f", "avx512bw", "avx512vl"))
    return info


# ----------------------------------------------------------------------------- main

def medians_by_shape(runs):
    """runs: list (per repeat) of lists of {shape, seconds_median} → {shape tuple: median seconds}."""
    by = {}
    for run in runs:
        for r in run:
            by.setdefault(tuple(r["shape"]), []).append(r["seconds_median"])
    return {k: statistics.median(v) for k, v in by.items()}


def run_table(a, kind, threads, peak):
    """Interleaved repeats of every engine on `threads` threads; prints and returns the table."""
    engines = ["ours", "numpy", "torch"] if kind == "gemm" else ["ours", "torch"]
    runs = {e: [] for e in engines}
    names, flops = {}, {}
    for rep in range(a.repeats):
        order = engines[rep % len(engines):] + engines[:rep % len(engines)]
        for e in order:
            if e == "ours":
                ours = run_ours(a.bench, kind, a.seconds, threads, a.conv_pass)
                for r in ours:
                    names[tuple(r["shape"])] = r["name"]
                    flops[tuple(r["shape"])] = r["flops"]
                runs[e].append(ours)
            else:  # repeat 0 starts with ours, which names the shapes
                runs[e].append(run_worker(kind, e, [list(s) for s in names], a.seconds, threads, a.conv_pass))
        print(f"  {kind}, {threads} thread(s): repeat {rep + 1}/{a.repeats} done", file=sys.stderr)
    med = {e: medians_by_shape(runs[e]) for e in engines}
    title = "SGEMM" if kind == "gemm" else f"conv2d {a.conv_pass}, batch 64"
    print(f"\n{title}, {threads} thread{'s' if threads > 1 else ''}: GFLOP/s, median of {a.repeats} interleaved repeats; "
          f"peak {peak:.1f}")
    print(f"{'shape':34s} {'ours':>8s}" + "".join(f" {e:>8s}" for e in engines[1:])
          + "".join(f" {'÷' + e:>8s}" for e in engines[1:]) + f" {'of peak':>8s}")
    rows = []
    for shape, name in names.items():
        g = {e: flops[shape] / med[e][shape] / 1e9 for e in engines}
        row = {"name": name, "shape": list(shape), "gflops": g,
               "ratios": {e: g["ours"] / g[e] for e in engines[1:]}, "fraction_of_peak": g["ours"] / peak}
        rows.append(row)
        print(f"{name:34s} {g['ours']:8.1f}" + "".join(f" {g[e]:8.1f}" for e in engines[1:])
              + "".join(f" {row['ratios'][e]:8.2f}" for e in engines[1:]) + f" {row['fraction_of_peak']:8.0%}")
    return {"threads": threads, "pass": a.conv_pass if kind == "conv" else None, "rows": rows, "raw": runs}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bench", default=os.path.join(HERE, "..", ".build", "release", "pruned-bench"))
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--seconds", type=float, default=0.3, help="timing per shape per engine per repeat")
    p.add_argument("--only", choices=["gemm", "conv", "all"], default="all")
    p.add_argument("--conv-pass", choices=CONV_PASSES, default="forward",
                   help="forward-backward needs conv backward in pruned-bench (branch backprop)")
    p.add_argument("--threads", default="2,1", help="thread counts, one table each (default 2,1)")
    p.add_argument("--json", help="also write every figure to this file")
    p.add_argument("--worker", choices=["gemm", "conv"], help=argparse.SUPPRESS)
    p.add_argument("--engine", choices=["numpy", "torch"], help=argparse.SUPPRESS)
    p.add_argument("--shapes", help=argparse.SUPPRESS)
    a = p.parse_args()

    if a.worker:
        shapes = json.loads(a.shapes)
        if a.worker == "gemm":
            print(json.dumps(worker_gemm(a.engine, shapes, a.seconds)))
        else:
            print(json.dumps(worker_conv(a.engine, shapes, a.seconds, a.conv_pass)))
        return

    m = machine()
    print(f"machine: {m['model']}, {m['cores']} cores, {m['mhz']:.0f} MHz nominal (/proc/cpuinfo), "
          f"{' '.join(m['flags'])}; peak = {m['cores']} × {m['mhz'] / 1e3:.2f} GHz × {m['fma_lanes']} FMA lanes × 2 "
          f"= {m['peak_gflops']:.1f} GFLOP/s")
    report = {"machine": m, "repeats": a.repeats, "seconds": a.seconds, "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    try:
        load = os.getloadavg()
        print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        report["load_at_start"] = load
    except OSError:
        pass

    peak = json.loads(subprocess.run([a.bench, "peak", "--json"], check=True, capture_output=True, text=True).stdout)
    report["fma_loop"] = peak
    for r in peak:
        threads = r["shape"][0]
        print(f"{r['name']}: best {r['gflops_best']:.1f} GFLOP/s (median {r['gflops_median']:.1f}) → "
              f"{r['gflops_best'] / threads / m['fma_lanes'] / 2:.2f} GHz at {m['fma_lanes']} lanes per core")

    kinds = ["gemm", "conv"] if a.only == "all" else [a.only]
    for threads in [int(t) for t in a.threads.split(",")]:
        peak_now = m["peak_gflops"] * threads / m["cores"]
        for kind in kinds:
            report[f"{kind}_{threads}"] = run_table(a, kind, threads, peak_now)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1, default=list)


if __name__ == "__main__":
    main()
