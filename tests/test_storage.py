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


def _utils_imports() -> dict[str, set[str]]:
    """Every module of utils/ and the utils modules it imports, at module level or inside a
    function (a lazy import closes a circle as surely as an eager one)."""
    import ast

    root = Path(__file__).resolve().parents[1]
    graph: dict[str, set[str]] = {}
    for path in (root / "utils").rglob("*.py"):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        package = name if is_package else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                edges |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                edges.add(base)
                edges |= {f"{base}.{a.name}" for a in node.names}
        graph[name] = edges
    return {m: {e for e in edges if e in graph and e != m} for m, edges in graph.items()}


def test_the_package_has_no_import_circle():
    graph = _utils_imports()
    assert "utils.storage" in graph and "utils.chapters.ch02_autoencoder" in graph
    assert graph["utils.storage"] == set(), "utils.storage must import nothing from utils"
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for other in sorted(graph[module]):
            if other == "utils":
                continue  # the package itself (utils/__init__ imports only utils.config)
            if state.get(other) == 1:
                circle = path[path.index(other):] + [other]
                raise AssertionError(f"import circle: {' -> '.join(circle)}")
            if other not in state:
                visit(other)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)


def test_data_physics_and_training_write_through_storage():
    """One atomic write and one cache format: no other module opens a temporary file or
    calls np.save / np.savez itself."""
    root = Path(__file__).resolve().parents[1] / "utils"
    offenders = []
    for path in root.rglob("*.py"):
        if path.name == "storage.py":
            continue
        text = path.read_text()
        for needle in ("tempfile.mkstemp", "np.savez", "np.save(", "os.replace("):
            if needle in text:
                offenders.append(f"{path.relative_to(root.parent)}: {needle}")
    assert not offenders, offenders


def test_the_array_cache_returns_only_what_was_made_with_the_same_parameters(tmp_path):
    import numpy as np

    from utils.storage import load_arrays, read_meta, save_arrays

    path = save_arrays(tmp_path / "x.npz", {"a": np.arange(3)}, {"seed": 1, "n": 3})
    arrays, meta = load_arrays(path, {"n": 3, "seed": 1})
    assert meta == {"seed": 1, "n": 3} and arrays["a"].tolist() == [0, 1, 2]
    assert read_meta(path) == meta
    assert load_arrays(path, {"seed": 2, "n": 3}) is None  # other parameters: regenerate
    assert load_arrays(path, {"n": 3}) is not None  # the caller checks the keys it gives
    assert load_arrays(path, {"n": 3, "epochs": 2}) is None  # a key the file lacks
    assert load_arrays(tmp_path / "missing.npz") is None
    (tmp_path / "cut.npz").write_bytes(path.read_bytes()[:40])  # an interrupted copy
    assert load_arrays(tmp_path / "cut.npz") is None
    assert not list(tmp_path.glob("*.partial"))


def test_course_files_follow_course_home(monkeypatch, tmp_path):
    from utils.storage import checkpoint_dir, course_file

    root = Path(__file__).resolve().parents[1]
    monkeypatch.delenv("COURSE_HOME", raising=False)
    monkeypatch.delenv("COURSE_CHECKPOINT_DIR", raising=False)
    assert checkpoint_dir() == root / "notebooks" / "checkpoints"
    monkeypatch.setenv("COURSE_HOME", str(tmp_path))
    assert course_file("notebooks/data/slm_models.npz") == tmp_path / "notebooks/data/slm_models.npz"
    assert checkpoint_dir() == tmp_path / "notebooks" / "checkpoints"
