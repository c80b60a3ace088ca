"""Benchmark of the chapter-6 scan of standard-like models: what each stage keeps, and time.

    python benchmarks/slm_scan.py              # charge bounds 1 and 2, about 40 seconds
    python benchmarks/slm_scan.py --bounds 1   # seconds

For each charge bound it runs :func:`utils.physics.slm_scan.scan_models` and prints the
candidates left after each stage (single bundles, orbit representatives used as first
bundle, first-half pairs searched, the largest table of second-half pairs, matches of the
meet in the middle that pass conditions 1-4, distinct models after 1-4, models after 1-5,
models after 1-6), the wall time of the whole scan, and the time of one stability linear
program, of the vectorised stability test per candidate and of the cohomology stage.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time

import numpy as np
import scipy

from utils.physics import cohomology
from utils.physics.slm import LECTURE_MODEL, slope_zero_point, spectrum, stability_mask
from utils.physics.slm_scan import scan_models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bounds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"NumPy {np.__version__}, SciPy {scipy.__version__}")
    stages = ["single bundles", "first-bundle representatives", "first-half pairs searched",
              "largest pair table", "matches after 1-4", "models after 1-4", "models after 1-5",
              "models after 1-6"]
    header = (f"{'|k| <=':>6} " + " ".join(f"{s:>28}" for s in stages)
              + f" {'seconds':>8} {'peak GB':>8}")
    print(header)
    print("-" * len(header))
    for bound in sorted(args.bounds):
        result = scan_models(bound, workers=args.workers)
        # the bounds run in increasing order, so the process's peak so far is this bound's
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB -> GB
        print(f"{bound:>6} " + " ".join(f"{result.counts[s]:>28,}" for s in stages)
              + f" {result.seconds:>8.1f} {peak:>8.1f}", flush=True)
    start = time.perf_counter()
    for _ in range(200):
        slope_zero_point(LECTURE_MODEL)
    print(f"one stability linear program (HiGHS): {(time.perf_counter() - start) / 200 * 1e3:.2f} ms")
    models = result.models.astype(np.int64)
    full_rank = np.linalg.matrix_rank(models.astype(float)) == 4
    start = time.perf_counter()
    stability_mask(models[full_rank])
    exact = (time.perf_counter() - start) / max(full_rank.sum(), 1)
    print(f"vectorised exact stability test (charges of rank 4, {full_rank.mean():.0%} of the "
          f"models of the last bound): {exact * 1e6:.0f} us per model; lower rank: the linear "
          "program")
    cohomology._calculator.cache_clear()  # a cold cache: every bundle orbit computed anew
    start = time.perf_counter()
    spectrum(result.models)
    print(f"condition 6 for the {len(result):,} models of the last bound (cold cache): "
          f"{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
