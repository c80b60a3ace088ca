"""utils/storage.py: the course's folders, found without heavy imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from utils.storage import cache_dir


def test_cache_dir_follows_course_cache_dir_then_xdg_then_home(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("COURSE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "aevae-course"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == Path.home() / ".cache" / "aevae-course"


def test_the_grader_imports_neither_torch_nor_numpy():
    # every student's nbgrader process loads utils.grading: torch would add seconds to each
    code = ("import sys, utils, utils.grading, utils.sandbox, utils.storage; "
            "print(sorted(m for m in ('torch', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
