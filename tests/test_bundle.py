"""Tests of utils/bundle.py: the student distribution holds what a student needs and none
of the instructor's solutions, hidden tests or grading files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from utils.bundle import leaked_text, make_bundle

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    target = tmp_path_factory.mktemp("bundle") / "course"
    make_bundle(target, ROOT)
    return target


def test_the_bundle_holds_the_notebooks_exercises_checkpoints_and_package(bundle):
    lectures = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert sorted(p.name for p in (bundle / "notebooks").glob("*.ipynb")) == lectures
    exercises = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "exercises").rglob("*.ipynb"))
    assert sorted(p.relative_to(bundle).as_posix() for p in (bundle / "exercises").rglob("*.ipynb")) == exercises
    assert (bundle / "notebooks" / "checkpoints" / "lj_vae_z16_beta1_converged.pt").is_file()
    assert not (bundle / "notebooks" / "checkpoints" / "fast").exists()
    for name in ("pyproject.toml", "requirements.txt", "README.md", "LICENSE", "STUDENTS.md"):
        assert (bundle / name).is_file(), name
    # the package imports from the bundle alone, and finds the bundle's checkpoints
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "COURSE_HOME", "COURSE_CHECKPOINT_DIR"}}
    run = subprocess.run([sys.executable, "-c", "import utils.storage as s, utils.chapters.ch08_lj; "
                          "print(s.checkpoint_dir())"], cwd=bundle, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert Path(run.stdout.strip()).resolve() == (bundle / "notebooks" / "checkpoints").resolve()


def test_the_bundle_has_no_solutions_hidden_tests_or_grading_files(bundle):
    for name in ("solutions", "tests", "hub", "nbgrader_config.py", ".ci", "benchmarks", "conftest.py"):
        assert not (bundle / name).exists(), name
    assert leaked_text(bundle, ROOT / "solutions") == []
    texts = [p.read_text(errors="replace") for p in bundle.rglob("*.ipynb")]
    assert texts and not any("BEGIN HIDDEN TESTS" in t or "BEGIN SOLUTION" in t for t in texts)


def test_the_leak_check_finds_a_solution_copied_into_a_bundle(tmp_path):
    """The check can fail: a solution notebook, or one solution block pasted into a module,
    is found, and make_bundle refuses such a course and leaves nothing behind."""
    solution = next((ROOT / "solutions").rglob("*.ipynb"))
    fake = tmp_path / "fake"
    (fake / "exercises").mkdir(parents=True)
    shutil.copy(solution, fake / "exercises" / solution.name)
    leaks = leaked_text(fake, ROOT / "solutions")
    assert any("nbgrader marker" in leak for leak in leaks)
    assert any("a solution or hidden test" in leak for leak in leaks)

    cells = json.loads(solution.read_text())["cells"]
    block = next("".join(c["source"]).split("### BEGIN SOLUTION\n")[1].split("### END SOLUTION")[0]
                 for c in cells if "### BEGIN SOLUTION" in "".join(c["source"])
                 and len("".join(c["source"]).split("### BEGIN SOLUTION\n")[1].split("### END SOLUTION")[0]) > 60)
    pasted = tmp_path / "pasted"
    (pasted / "utils").mkdir(parents=True)
    (pasted / "utils" / "helpers.py").write_text("def f():\n" + block)
    assert leaked_text(pasted, ROOT / "solutions")

    course = tmp_path / "course"
    shutil.copytree(ROOT / "utils", course / "utils", ignore=shutil.ignore_patterns("__pycache__"))
    (course / "utils" / "helpers.py").write_text("def f():\n" + block)
    shutil.copytree(ROOT / "solutions", course / "solutions")
    target = tmp_path / "out"
    with pytest.raises(ValueError, match="instructor material"):
        make_bundle(target, course)
    assert not target.exists()


def test_the_grading_cli_writes_the_bundle_and_refuses_a_full_folder(tmp_path):
    from utils.grading import main

    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(ValueError, match="not empty"):
        make_bundle(tmp_path / "full", ROOT)
    assert main(["student-bundle", str(tmp_path / "full")]) == 1
    assert main(["student-bundle", str(tmp_path / "new")]) == 0
    assert (tmp_path / "new" / "STUDENTS.md").is_file()
