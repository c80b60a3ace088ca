"""Time the instructor's grading cycle for a class of generated submissions.

    python benchmarks/grading.py [--assignment ch03_tools] [--students 100] [--cell-timeout 10]

Builds a scratch course in a temporary directory, releases the assignment, writes a
folder of ``--students`` submissions drawn in turn from the assignment's bank in
``tests/grading_bank.py`` (correct, written differently, partly wrong, passing only the
visible tests, and the accidents and hostile cases of that bank), and runs each step of
the README's cycle with ``python -m utils.grading``: release, collect, autograde,
feedback, export. Prints a Markdown table of wall-clock seconds per step and the
per-student autograde times, and checks that every student got the bank's score.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from grading_bank import BANK, write_submission  # noqa: E402


def _run(course: Path, *args: str) -> float:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "utils.grading", *args, "--course", str(course)],
                            env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"step {args[0]} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="ch03_tools", choices=sorted(BANK))
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--cell-timeout", type=int, default=10,
                        help="nbgrader's per-cell limit in s (the course default is 120)")
    args = parser.parse_args()
    bank = BANK[args.assignment]

    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp) / "course"
        course.mkdir()
        config = (REPO / "nbgrader_config.py").read_text()
        (course / "nbgrader_config.py").write_text(config + f"\nc.Execute.timeout = {args.cell_timeout}\n")
        shutil.copytree(REPO / "solutions", course / "solutions")
        times = {"release": _run(course, "release", args.assignment)}
        for other in {s.other_assignment for s in bank if s.other_assignment}:
            _run(course, "release", other)

        # a folder of submissions as they arrive: inbox/<student>.ipynb
        inbox = Path(tmp) / "inbox"
        inbox.mkdir()
        expected = {}
        for i in range(args.students):
            sub = bank[i % len(bank)]
            student = f"student{i + 1:03d}"
            write_submission(course, args.assignment, sub, inbox / f"{student}.ipynb")
            expected[student] = sum(sub.expected.values())

        times["collect"] = _run(course, "collect", args.assignment, str(inbox))
        times["autograde"] = _run(course, "autograde", args.assignment)
        times["feedback"] = _run(course, "feedback", args.assignment)
        times["export"] = _run(course, "export", args.assignment, str(course / "grades.csv"))

        with open(course / "grades.csv") as handle:
            scores = {row["student"]: float(row["score"]) for row in csv.DictReader(handle)}
        wrong = {s: (scores.get(s), e) for s, e in expected.items() if scores.get(s) != e}
        with open(course / "grading_report.csv") as handle:
            per_student = [float(row[4]) for row in csv.reader(handle)]

    print(f"Grading cycle for {args.students} submissions of {args.assignment} "
          f"({len(bank)} kinds from tests/grading_bank.py, cell limit {args.cell_timeout} s)")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}\n")
    print("| step | seconds | per student (s) |")
    print("|---|---:|---:|")
    for step, seconds in times.items():
        per = "" if step == "release" else f"{seconds / args.students:.2f}"
        print(f"| {step} | {seconds:.1f} | {per} |")
    print(f"| **total** | **{sum(times.values()):.1f}** | |")
    print(f"\nautograde per student: median {statistics.median(per_student):.1f} s, "
          f"max {max(per_student):.1f} s")
    print(f"scores as the bank expects: {len(expected) - len(wrong)} of {len(expected)}")
    if wrong:
        raise SystemExit(f"unexpected scores: {wrong}")


if __name__ == "__main__":
    main()
