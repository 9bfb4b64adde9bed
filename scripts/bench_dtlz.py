#!/usr/bin/env python3
"""NSGA-III on DTLZ: pruned-bench next to pymoo's NSGA3 and next to Deb & Jain 2014.

Runs `pruned-bench dtlz ... --json` and pymoo's NSGA3 (PyPI: pip install pymoo) on the same
problems, reference directions, population sizes, generations and seeds, in one run, seed by
seed in turn (so that both see the same load), and prints IGD best / median / worst against the
targeted points (the reference lines' intersections with the true front, as Deb & Jain measure
it), seconds per run, and the speed ratio, by wall time and by CPU time. Both run on one thread:
pruned-bench without --parallel, pymoo as it comes (numpy's elementwise work is single-threaded).

    swift build -c release --product pruned-bench
    python3 scripts/bench_dtlz.py --seeds 1-20 [--pymoo-seeds 1-10] [--markdown out.md]

Settings (Deb & Jain 2014, section V): SBX eta = 30 with probability 1, polynomial mutation
eta = 20 with probability 1/n; n = M + k - 1 with k = 5 for DTLZ1 and 10 for DTLZ2-4; H Das-Dennis
directions (two layers for M = 8 and 10) and a population of the smallest multiple of 4 >= H.
"Generations" counts variation steps after the initial population: pymoo counts the initial
population as its first generation, so it runs with n_gen = generations + 1 and both do the same
number of evaluations. pymoo runs with its defaults otherwise (binary tournament on constraint
violation, duplicate elimination), which our implementation follows too.

IGD is taken over the non-dominated members of the final population, for both.
"""

import argparse
import json
import statistics
import subprocess
import sys
import time

import numpy as np

# Deb & Jain 2014 (IEEE TEVC 18(4):577-601), Table III, NSGA-III column: best, median, worst IGD
# over 20 runs. Written down from the paper as we remember it: we had no copy of the paper to
# check against when this was written, so treat these as unverified until someone compares them
# with Table III itself.
PUBLISHED_UNVERIFIED = {
    ("dtlz1", 3): (4.880e-4, 1.308e-3, 4.880e-3),
    ("dtlz1", 5): (5.116e-4, 9.799e-4, 1.979e-3),
    ("dtlz1", 8): (2.044e-3, 3.979e-3, 8.721e-3),
    ("dtlz1", 10): (2.215e-3, 3.462e-3, 6.869e-3),
    ("dtlz2", 3): (1.262e-3, 1.357e-3, 2.114e-3),
    ("dtlz2", 5): (4.254e-3, 4.982e-3, 5.862e-3),
    ("dtlz2", 8): (1.371e-2, 1.571e-2, 1.811e-2),
    ("dtlz2", 10): (1.350e-2, 1.528e-2, 1.697e-2),
    ("dtlz3", 3): (9.751e-4, 4.007e-3, 6.665e-3),
    ("dtlz3", 5): (3.086e-3, 5.960e-3, 1.196e-2),
    ("dtlz3", 8): (1.244e-2, 2.375e-2, 9.649e-2),
    ("dtlz3", 10): (8.849e-3, 1.188e-2, 2.082e-2),
    ("dtlz4", 3): (2.915e-4, 5.970e-4, 4.286e-1),
    ("dtlz4", 5): (9.849e-4, 1.255e-3, 1.721e-3),
    ("dtlz4", 8): (5.079e-3, 7.054e-3, 6.051e-1),
    ("dtlz4", 10): (5.694e-3, 6.337e-3, 1.076e-1),
}

# Generations per problem and M (Deb & Jain 2014, Table III).
GENERATIONS = {
    "dtlz1": {3: 400, 5: 600, 8: 750, 10: 1000},
    "dtlz2": {3: 250, 5: 350, 8: 500, 10: 750},
    "dtlz3": {3: 1000, 5: 1000, 8: 1000, 10: 1500},
    "dtlz4": {3: 600, 5: 1000, 8: 1250, 10: 2000},
}

# The benchmark: DTLZ1-4 with three objectives, and DTLZ2 with 5, 8 and 10.
DEFAULT_CASES = "dtlz1:3,dtlz2:3,dtlz3:3,dtlz4:3,dtlz2:5,dtlz2:8,dtlz2:10"


def parse_seeds(text):
    seeds = []
    for part in text.split(","):
        if "-" in part:
            lo, hi = part.split("-")
            seeds.extend(range(int(lo), int(hi) + 1))
        else:
            seeds.append(int(part))
    return seeds


def reference_directions(m):
    from pymoo.util.ref_dirs import get_reference_directions

    if m == 3:
        return get_reference_directions("das-dennis", 3, n_partitions=12)
    if m == 5:
        return get_reference_directions("das-dennis", 5, n_partitions=6)
    if m in (8, 10):
        return get_reference_directions(
            "multi-layer",
            get_reference_directions("das-dennis", m, n_partitions=3, scaling=1.0),
            get_reference_directions("das-dennis", m, n_partitions=2, scaling=0.5),
        )
    raise SystemExit(f"no reference directions for M = {m}")


def targeted_points(problem, directions):
    if problem == "dtlz1":
        return 0.5 * directions / directions.sum(axis=1, keepdims=True)
    return directions / np.linalg.norm(directions, axis=1, keepdims=True)


def igd(front, reference):
    d = np.sqrt(((reference[:, None, :] - front[None, :, :]) ** 2).sum(axis=2))
    return float(d.min(axis=1).mean())


def nondominated(F):
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    return F[NonDominatedSorting().do(F, only_non_dominated_front=True)]


def run_ours(bench, problem, m, seeds):
    cmd = [bench, "dtlz", "--problem", problem, "--objectives", str(m), "--seeds", seeds, "--json"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def summarize(runs):
    """One report from single-seed reports: IGD over all seeds, mean seconds per run."""
    igds = [v for r in runs for v in r["igd"]]
    return dict(runs[0], seeds=[s for r in runs for s in r.get("seeds", [])], igd=igds, igd_best=min(igds), igd_median=statistics.median(igds), igd_worst=max(igds),
                seconds_per_run=statistics.mean(r["seconds_per_run"] for r in runs),
                cpu_seconds_per_run=statistics.mean(r["cpu_seconds_per_run"] for r in runs))


def run_case(bench, problem, m, generations, ours_seeds, pymoo_seeds):
    """Both optimizers seed by seed, alternating, so that both see the same load on a shared
    machine (timing all of one and then all of the other let the load drift between them)."""
    ours, theirs = [], []
    for seed in sorted(set(ours_seeds) | set(pymoo_seeds or [])):
        if seed in ours_seeds:
            ours.append(run_ours(bench, problem, m, str(seed)))
        if pymoo_seeds and seed in pymoo_seeds:
            theirs.append(run_pymoo(problem, m, generations, [seed]))
    return summarize(ours), (summarize(theirs) if theirs else None)


def run_pymoo(problem, m, generations, seeds):
    from pymoo.algorithms.moo.nsga3 import NSGA3
    from pymoo.optimize import minimize
    from pymoo.problems import get_problem

    directions = reference_directions(m)
    population = (len(directions) + 3) // 4 * 4
    k = 5 if problem == "dtlz1" else 10
    dtlz = get_problem(problem, n_var=m + k - 1, n_obj=m)
    reference = targeted_points(problem, directions)
    igds, seconds, cpu = [], [], []
    for seed in seeds:
        algorithm = NSGA3(ref_dirs=directions, pop_size=population)
        start, cpu_start = time.perf_counter(), time.process_time()
        result = minimize(dtlz, algorithm, ("n_gen", generations + 1), seed=seed, verbose=False)
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
        igds.append(igd(nondominated(result.pop.get("F")), reference))
    return {
        "igd": igds,
        "igd_best": min(igds),
        "igd_median": statistics.median(igds),
        "igd_worst": max(igds),
        "seconds_per_run": sum(seconds) / len(seconds),
        "cpu_seconds_per_run": sum(cpu) / len(cpu),
        "population": population,
        "directions": len(directions),
    }


def sci(x):
    return "-" if x is None else f"{x:.3e}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", default=".build/release/pruned-bench", help="the pruned-bench executable")
    parser.add_argument("--seeds", default="1-20", help="seeds for pruned-bench (default 1-20)")
    parser.add_argument("--pymoo-seeds", help="seeds for pymoo (default: the same); fewer saves time")
    parser.add_argument("--cases", default=DEFAULT_CASES, help=f"problem:M list (default {DEFAULT_CASES})")
    parser.add_argument("--skip-pymoo", action="store_true", help="run pruned-bench only")
    parser.add_argument("--markdown", help="also write the table as Markdown to this file")
    parser.add_argument("--json", help="also write every case's results, per-seed IGDs included, as JSON to this file")
    args = parser.parse_args()

    pymoo_seeds = parse_seeds(args.pymoo_seeds or args.seeds)
    ours_seeds = parse_seeds(args.seeds)
    if not args.skip_pymoo:
        import pymoo

        pymoo_version = pymoo.__version__
    else:
        pymoo_version = None

    rows = []
    for case in args.cases.split(","):
        problem, m = case.split(":")
        m = int(m)
        generations = GENERATIONS[problem][m]
        ours, theirs = run_case(args.bench, problem, m, generations, ours_seeds, None if args.skip_pymoo else pymoo_seeds)
        if theirs is not None and theirs["population"] != ours["population"]:
            raise SystemExit(f"population mismatch for {case}: {ours['population']} vs {theirs['population']}")
        published = PUBLISHED_UNVERIFIED.get((problem, m))
        row = {"problem": problem, "m": m, "generations": generations, "population": ours["population"],
               "ours": ours, "pymoo": theirs, "published": published}
        rows.append(row)
        print_row(row, header=len(rows) == 1)
        sys.stdout.flush()

    lines = summary(rows, ours_seeds, pymoo_seeds, pymoo_version, args.skip_pymoo)
    print()
    print("\n".join(lines))
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("\n".join(markdown(rows, ours_seeds, pymoo_seeds, pymoo_version)) + "\n")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"pymoo_version": pymoo_version, "cases": rows}, f, indent=1)


def print_row(row, header):
    if header:
        print(f"{'problem':7} {'M':>2} {'gens':>5} {'pop':>4}  "
              f"{'ours best/median/worst':>32}  {'pymoo best/median/worst':>32}  {'published (unverified)':>32}  "
              f"{'ours s':>8} {'pymoo s':>8} {'ratio':>6} {'cpu ratio':>9}")
    ours, theirs, pub = row["ours"], row["pymoo"], row["published"]

    def triple(best, median, worst):
        return f"{sci(best)} {sci(median)} {sci(worst)}"

    theirs_triple = triple(theirs["igd_best"], theirs["igd_median"], theirs["igd_worst"]) if theirs else "-"
    pub_triple = triple(*pub) if pub else "-"
    ratio = f"{theirs['seconds_per_run'] / ours['seconds_per_run']:.1f}x" if theirs else "-"
    cpu_ratio = f"{theirs['cpu_seconds_per_run'] / ours['cpu_seconds_per_run']:.1f}x" if theirs else "-"
    pymoo_s = f"{theirs['seconds_per_run']:.3f}" if theirs else "-"
    print(f"{row['problem']:7} {row['m']:>2} {row['generations']:>5} {row['population']:>4}  "
          f"{triple(ours['igd_best'], ours['igd_median'], ours['igd_worst']):>32}  {theirs_triple:>32}  {pub_triple:>32}  "
          f"{ours['seconds_per_run']:>8.3f} {pymoo_s:>8} {ratio:>6} {cpu_ratio:>9}")


def summary(rows, ours_seeds, pymoo_seeds, pymoo_version, skipped):
    out = [f"runs: pruned-bench {len(ours_seeds)} seeds"
           + ("" if skipped else f", pymoo {pymoo_version} {len(pymoo_seeds)} seeds")]
    for row in rows:
        ours, theirs, pub = row["ours"], row["pymoo"], row["published"]
        checks = []
        if pub:
            checks.append(f"median/published {ours['igd_median'] / pub[1]:.2f} (goal <= 1.5)")
        if theirs:
            checks.append(f"median/pymoo {ours['igd_median'] / theirs['igd_median']:.2f} (goal <= 1)")
            checks.append(f"speed {theirs['seconds_per_run'] / ours['seconds_per_run']:.1f}x wall, "
                          f"{theirs['cpu_seconds_per_run'] / ours['cpu_seconds_per_run']:.1f}x CPU (goal >= 20)")
        out.append(f"{row['problem']} M={row['m']}: " + ", ".join(checks))
    out.append("published values: Deb & Jain 2014 Table III as remembered, not checked against the paper")
    return out


def markdown(rows, ours_seeds, pymoo_seeds, pymoo_version):
    out = ["| problem | M | gens | pop | ours best | ours median | ours worst | pymoo best | pymoo median | pymoo worst "
           "| published best / median / worst (unverified) | ours s/run | pymoo s/run | speed ratio (wall) "
           "| speed ratio (CPU) |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        ours, theirs, pub = row["ours"], row["pymoo"], row["published"]
        t = theirs or {}
        published = " / ".join(sci(v) for v in pub) if pub else "-"
        if theirs:
            speed = (f"| {t['seconds_per_run']:.3f} | {t['seconds_per_run'] / ours['seconds_per_run']:.1f}x "
                     f"| {t['cpu_seconds_per_run'] / ours['cpu_seconds_per_run']:.1f}x |")
        else:
            speed = "| - | - | - |"
        out.append(
            f"| {row['problem'].upper()} | {row['m']} | {row['generations']} | {row['population']} "
            f"| {sci(ours['igd_best'])} | {sci(ours['igd_median'])} | {sci(ours['igd_worst'])} "
            f"| {sci(t.get('igd_best'))} | {sci(t.get('igd_median'))} | {sci(t.get('igd_worst'))} "
            f"| {published} | {ours['seconds_per_run']:.3f} " + speed
        )
    out.append("")
    out.append(f"pruned-bench: {len(ours_seeds)} seeds; pymoo {pymoo_version}: {len(pymoo_seeds)} seeds.")
    return out


if __name__ == "__main__":
    main()
