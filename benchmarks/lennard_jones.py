"""Benchmark of the chapter-8 Metropolis sampler: configurations per second.

    python benchmarks/lennard_jones.py            # the table below, about a minute
    python benchmarks/lennard_jones.py --quick    # smaller runs

For each gravity strength and number of parallel chains, it times ``sample_configurations``
in the chapter's protocol (restart from random positions, 800 sweeps of step 0.8 per
configuration) and prints configurations per second, Metropolis moves per second and the
acceptance rate, plus the time 10,000 configurations take. NumPy runs the sampler on one
core; run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from utils.physics.lennard_jones import LJSystem, sample_configurations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer sweeps and chains")
    args = parser.parse_args()
    sweeps = 100 if args.quick else 800
    batches = (250, 1000) if args.quick else (250, 1000, 2000, 4000)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"NumPy {np.__version__}; {sweeps} sweeps per configuration, N = 30")
    header = f"{'gamma':>5} {'chains':>6} {'configs/s':>10} {'moves/s':>10} {'acceptance':>10} {'10k configs':>12}"
    print(header)
    print("-" * len(header))
    for gamma in (0.1, 1.0):
        for batch in batches:
            system = LJSystem(gamma=gamma)
            start = time.perf_counter()
            samples = sample_configurations(batch, system, n_sweeps=sweeps, batch=batch, seed=0)
            elapsed = time.perf_counter() - start
            rate = batch / elapsed
            moves = rate * sweeps * system.n_particles
            print(f"{gamma:>5} {batch:>6} {rate:>10.1f} {moves:>10.2e} {samples.acceptance:>10.2f} "
                  f"{10_000 / rate:>10.0f} s")


if __name__ == "__main__":
    main()
