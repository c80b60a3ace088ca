"""Benchmark of the book: how long each lecture notebook takes to execute, fast and full mode.

    python benchmarks/book.py                 # both modes (about 22 minutes on 2 cores)
    python benchmarks/book.py --modes fast    # fast mode only (what CI's book build runs)

Each notebook of ``notebooks/`` is executed from a scratch copy (the committed notebooks
are not touched) with ``COURSE_FAST=1`` (fast mode) or without it (full mode), and the
wall time is printed per chapter with the total. In full mode every network must come
from a committed checkpoint: the script lists any checkpoint file that was written during
the run, which would mean a chapter retrained. Data sets that a chapter generates on its
first run (the chapter-8 Monte Carlo samples, the chapter-6 random comparison) are cached
outside the repository, so a second run of the script is faster where they were cold.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHECKPOINTS = ROOT / "notebooks" / "checkpoints"


def _checkpoint_times() -> dict[Path, float]:
    return {p: p.stat().st_mtime for p in CHECKPOINTS.glob("**/*") if p.is_file()}


def run_notebook(path: Path, fast: bool, timeout: int) -> float:
    """Execute a copy of ``path`` in its own folder's context; returns seconds."""
    env_fast = os.environ.get("COURSE_FAST")
    os.environ.pop("COURSE_FAST", None)
    if fast:
        os.environ["COURSE_FAST"] = "1"
    try:
        with tempfile.TemporaryDirectory() as scratch:
            copy = Path(scratch) / path.name
            shutil.copy(path, copy)
            notebook = nbformat.read(copy, as_version=4)
            client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                    resources={"metadata": {"path": str(path.parent)}})
            start = time.perf_counter()
            client.execute()
            return time.perf_counter() - start
    finally:
        os.environ.pop("COURSE_FAST", None)
        if env_fast is not None:
            os.environ["COURSE_FAST"] = env_fast


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", nargs="+", choices=["fast", "full"], default=["fast", "full"])
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs; "
          f"{len(NOTEBOOKS)} notebooks; COURSE_DATA_DIR={os.environ.get('COURSE_DATA_DIR')}")
    results: dict[str, dict[str, float]] = {}
    written: dict[str, list[str]] = {}
    for mode in args.modes:
        before = _checkpoint_times()
        for path in NOTEBOOKS:
            seconds = run_notebook(path, fast=mode == "fast", timeout=args.timeout)
            results.setdefault(path.stem, {})[mode] = seconds
            print(f"  {mode:>4}  {path.stem:<28} {seconds:8.1f} s", flush=True)
        after = _checkpoint_times()
        written[mode] = sorted(str(p.relative_to(ROOT)) for p, t in after.items()
                               if before.get(p) != t)
    print()
    print("| chapter | " + " | ".join(f"{m} mode (s)" for m in args.modes) + " |")
    print("|---|" + "---|" * len(args.modes))
    for name, row in results.items():
        print(f"| {name} | " + " | ".join(f"{row[m]:.0f}" for m in args.modes) + " |")
    totals = {m: sum(r[m] for r in results.values()) for m in args.modes}
    print("| **total** | " + " | ".join(f"**{totals[m]:.0f}** ({totals[m] / 60:.1f} min)"
                                      for m in args.modes) + " |")
    for mode, files in written.items():
        print(f"\ncheckpoints written in {mode} mode: {', '.join(files) if files else 'none'}")


if __name__ == "__main__":
    main()
