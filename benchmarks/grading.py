"""Time the instructor's grading cycle for a class of generated submissions.

    python benchmarks/grading.py [--assignment ch03_tools] [--students 100] [--cell-timeout 10]
                                 [--jobs 1 2] [--unsandboxed 30]

Builds a scratch course in a temporary directory, releases the assignment, writes a
folder of ``--students`` submissions drawn in turn from the assignment's bank in
``tests/grading_bank.py`` (correct, written differently, partly wrong, passing only the
visible tests, and the accidents and hostile cases of that bank), and runs each step of
the README's cycle with ``python -m utils.grading``: release, collect, autograde,
feedback, export. Autograde runs once per ``--jobs`` value (every student in a
sandbox), and once more with ``--no-sandbox`` on the first ``--unsandboxed`` students,
whose per-student times are compared with their sandboxed times of the ``--jobs 1`` run
(same machine, same run). Prints Markdown tables and checks that every run gave every
student the bank's score. The projection for a large class assumes the per-student cost
of the ``--jobs 1`` run and the parallel efficiency measured here with the most jobs.
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
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2],
                        help="autograde once per value (the first is the baseline)")
    parser.add_argument("--unsandboxed", type=int, default=30,
                        help="students graded again with --no-sandbox for the overhead (0: skip)")
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
        (Path(tmp) / "parked").mkdir()
        expected = {}
        for i in range(args.students):
            sub = bank[i % len(bank)]
            student = f"student{i + 1:03d}"
            write_submission(course, args.assignment, sub, inbox / f"{student}.ipynb")
            expected[student] = sum(sub.expected.values())

        times["collect"] = _run(course, "collect", args.assignment, str(inbox))
        runs = {}
        for jobs in args.jobs:
            runs[f"sandbox, --jobs {jobs}"] = _autograde(course, args.assignment, expected, "--jobs", str(jobs))
        if args.unsandboxed:
            for student in sorted(expected)[args.unsandboxed:]:  # grade only the first N again
                shutil.move(course / "submitted" / student, Path(tmp) / "parked" / student)
            runs["no sandbox, --jobs 1"] = _autograde(
                course, args.assignment, {s: expected[s] for s in sorted(expected)[:args.unsandboxed]},
                "--jobs", "1", "--no-sandbox")
            for student in sorted(expected)[args.unsandboxed:]:
                shutil.move(Path(tmp) / "parked" / student, course / "submitted" / student)
        times["feedback"] = _run(course, "feedback", args.assignment)
        times["export"] = _run(course, "export", args.assignment, str(course / "grades.csv"))

    print(f"Grading cycle for {args.students} submissions of {args.assignment} "
          f"({len(bank)} kinds from tests/grading_bank.py, cell limit {args.cell_timeout} s)")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}\n")
    print("| step | students | seconds | per student (s) |")
    print("|---|---:|---:|---:|")
    for step, seconds in times.items():
        per = "" if step == "release" else f"{seconds / args.students:.2f}"
        print(f"| {step} | {'' if step == 'release' else args.students} | {seconds:.1f} | {per} |")
    for name, run in runs.items():
        n = len(run["per_student"])
        print(f"| autograde ({name}) | {n} | {run['wall']:.1f} | {run['wall'] / n:.2f} |")

    serial = runs[f"sandbox, --jobs {args.jobs[0]}"]
    print("\nper-student autograde time (s), from grading_report.csv:\n")
    print("| run | median | mean | max |")
    print("|---|---:|---:|---:|")
    for name, run in runs.items():
        values = list(run["per_student"].values())
        print(f"| {name} | {statistics.median(values):.2f} | {statistics.mean(values):.2f} | {max(values):.2f} |")
    if args.unsandboxed:
        plain = runs["no sandbox, --jobs 1"]["per_student"]
        boxed = [serial["per_student"][s] for s in plain]
        overhead = statistics.mean(boxed) / statistics.mean(plain.values()) - 1
        print(f"\nsandbox overhead on the same {len(plain)} students, --jobs {args.jobs[0]}: "
              f"{statistics.mean(boxed):.2f} s vs {statistics.mean(plain.values()):.2f} s per student "
              f"({100 * overhead:+.1f} %)")
    if len(args.jobs) > 1:
        most = max(args.jobs)
        speedup = serial["wall"] / runs[f"sandbox, --jobs {most}"]["wall"]
        efficiency = speedup / most * args.jobs[0]
        per = serial["wall"] / args.students
        projected = 300 * per / (16 * efficiency)
        print(f"--jobs {most}: {speedup:.2f}x faster than --jobs {args.jobs[0]} "
              f"(parallel efficiency {100 * efficiency:.0f} %)")
        print(f"projected: 300 students on a 16-core server at {per:.2f} s per student and this "
              f"efficiency: {projected / 60:.1f} min (--jobs 16)")


def _autograde(course: Path, assignment: str, expected: dict[str, float], *options: str) -> dict:
    """Run autograde, check every score, return the wall time and per-student seconds."""
    report = course / "grading_report.csv"
    before = len(report.read_text().splitlines()) if report.exists() else 0
    wall = _run(course, "autograde", assignment, *options)
    _run(course, "export", assignment, str(course / "grades.csv"))
    with open(course / "grades.csv") as handle:
        scores = {row["student"]: float(row["score"]) for row in csv.DictReader(handle)}
    wrong = {s: (scores.get(s), e) for s, e in expected.items() if scores.get(s) != e}
    if wrong:
        raise SystemExit(f"autograde {' '.join(options)}: unexpected scores {wrong}")
    with open(report) as handle:
        rows = list(csv.reader(handle))[before:]
    return {"wall": wall, "per_student": {row[2]: float(row[4]) for row in rows}}


if __name__ == "__main__":
    main()
