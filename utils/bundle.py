"""The student distribution of the course: everything a student needs, nothing a grader hides.

    python -m utils.grading student-bundle DIR     # or: python -m utils.bundle DIR

copies the lecture notebooks with their committed checkpoints and data files, the released
exercises (``exercises/``, which hold no solutions), the ``utils`` package and the files
that install it (``pyproject.toml``, ``requirements.txt``, README, LICENSE) into DIR, and
writes ``STUDENTS.md`` there. It leaves out ``solutions/`` (every solution and hidden
test), ``tests/`` (which know the answers), the grading and hub configuration, CI and
benchmarks. Before it reports success it checks the copy: no notebook in it carries an
nbgrader solution or hidden-test marker, and no solution block or hidden test of
``solutions/`` appears in any file (:func:`leaked_text`); a bundle that fails is deleted.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from utils.storage import course_home

INCLUDED = ("README.md", "LICENSE", "pyproject.toml", "requirements.txt", "notebooks", "exercises", "utils")
"""What the bundle holds, relative to the repository root (folders copied whole, less
:data:`SKIPPED_PARTS`)."""
SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints", "fast", ".pytest_cache"}
"""Folder names never copied: caches and the fast-mode checkpoints, which are made locally."""
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
_BLOCK = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", re.DOTALL)

STUDENTS_MD = """# Autoencoders and Variational Autoencoders for Physicists: student copy

This folder holds the lecture notebooks (`notebooks/`), the exercises (`exercises/`) and
the course's Python package (`utils/`). Set it up once, in this folder:

    python3 -m venv .venv && .venv/bin/pip install -r requirements.txt -e .
    .venv/bin/jupyter lab

(Python 3.11 or newer. On a machine without a GPU, install the CPU build of PyTorch first
to save about 2 GB: `.venv/bin/pip install torch==2.13.0 --index-url
https://download.pytorch.org/whl/cpu`.) Open an exercise in `exercises/`, work in the
answer cells, and run its visible tests; your instructor's grader adds hidden tests. The
lecture notebooks load the committed networks in `notebooks/checkpoints/` instead of
training them. Data sets are downloaded on first use (see README.md, "Data").
"""


def _files(root: Path) -> list[Path]:
    """The files of :data:`INCLUDED` under ``root``: the ones git tracks when ``root`` is a
    git checkout (so nothing local or ignored travels), otherwise every file."""
    try:
        listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--", *INCLUDED],
                                capture_output=True, check=True).stdout.decode().split("\0")
        files = [root / name for name in listed if name]
    except (OSError, subprocess.CalledProcessError):
        files = [path for name in INCLUDED for path in
                 ([root / name] if (root / name).is_file() else sorted((root / name).rglob("*")))]
    return [f for f in files if f.is_file() and not SKIPPED_PARTS & set(f.relative_to(root).parts)]


def _protected_blocks(solutions: Path) -> list[str]:
    """Every solution block and hidden-test block of the notebooks under ``solutions``,
    whitespace-collapsed, that is long enough to be recognisable (40 characters)."""
    blocks = []
    for notebook in sorted(solutions.rglob("*.ipynb")):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"])
            for _, body in _BLOCK.findall(source):
                text = " ".join(body.split())
                if len(text) >= 40:
                    blocks.append(text)
    return blocks


def leaked_text(bundle: Path, solutions: Path) -> list[str]:
    """What of the instructor's material is in ``bundle``: "<file>: <what>" for each
    notebook that carries an nbgrader marker and each file that contains a solution or
    hidden-test block of ``solutions`` (whitespace ignored). Empty when the bundle is clean."""
    blocks = _protected_blocks(solutions)
    found = []
    for path in sorted(p for p in bundle.rglob("*") if p.is_file()):
        if path.suffix not in {".ipynb", ".py", ".md", ".txt", ".toml", ".json", ".csv", ""}:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        name = path.relative_to(bundle)
        if path.suffix == ".ipynb":
            sources = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"])
            found += [f"{name}: nbgrader marker {m!r}" for m in MARKERS if m in sources]
            text = sources
        flat = " ".join(text.split())
        found += [f"{name}: a solution or hidden test of solutions/ ({block[:50]}...)"
                  for block in blocks if block in flat]
    return found


def make_bundle(target: Path, root: Path | None = None) -> list[Path]:
    """Write the student distribution into ``target`` (which must not exist or be empty)
    and return the files written. Raises ValueError, with what leaked, if the copy holds
    instructor material; the half-made bundle is then removed."""
    root = course_home() if root is None else Path(root)
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise ValueError(f"{target} is not empty: give a new folder for the student bundle")
    written = []
    for source in _files(root):
        destination = target / source.relative_to(root)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)
        written.append(destination)
    (target / "STUDENTS.md").write_text(STUDENTS_MD, encoding="utf-8")
    written.append(target / "STUDENTS.md")
    leaks = leaked_text(target, root / "solutions")
    if leaks:
        shutil.rmtree(target)
        raise ValueError("the student bundle would contain instructor material, so none was written:\n  "
                         + "\n  ".join(leaks))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m utils.grading student-bundle",
        description="Write the student distribution of the course (notebooks, checkpoints, "
                    "exercises, utils; no solutions, hidden tests or grading files) into DIR.")
    parser.add_argument("dir", type=Path, help="a new (or empty) folder for the bundle")
    args = parser.parse_args(argv)
    try:
        written = make_bundle(args.dir)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    size = sum(p.stat().st_size for p in written) / 1e6
    print(f"wrote {len(written)} files ({size:.0f} MB) to {args.dir}; checked: no solution or hidden test in it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
