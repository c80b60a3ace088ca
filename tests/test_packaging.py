"""Tests of the packaging metadata (pyproject.toml, requirements.txt, environment.yml,
CITATION.cff): the pinned lock satisfies the declared ranges, every pinned package
belongs to the core or an extra, and the Python version is stated the same everywhere."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def pins() -> dict[str, str]:
    out = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            requirement = Requirement(line)
            (spec,) = requirement.specifier
            assert spec.operator == "==", f"requirements.txt pins exact versions: {line}"
            out[canonicalize_name(requirement.name)] = spec.version
    return out


def declared() -> list[Requirement]:
    return [Requirement(r) for r in PROJECT["dependencies"]] + [
        Requirement(r) for extra in PROJECT["optional-dependencies"].values() for r in extra]


def test_every_declared_dependency_is_pinned_and_the_pin_satisfies_it():
    locked = pins()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement} is declared in pyproject.toml but not pinned in requirements.txt"
        assert requirement.specifier.contains(locked[name]), \
            f"requirements.txt pins {name}=={locked[name]}, outside pyproject.toml's {requirement}"


def test_every_pinned_package_is_declared_in_the_core_or_an_extra():
    names = {canonicalize_name(r.name) for r in declared()}
    extras = set(PROJECT["optional-dependencies"])
    assert {"student", "book", "grading", "hub", "test"} <= extras
    assert set(pins()) - names == set(), "pinned in requirements.txt but in no extra of pyproject.toml"


def test_the_python_version_is_stated_the_same_everywhere():
    assert PROJECT["requires-python"] == ">=3.11"
    for name in ("README.md", "book/setup.md", "environment.yml", "utils/bundle.py"):
        text = (ROOT / name).read_text()
        assert "3.10" not in text, f"{name} still mentions Python 3.10"
        assert re.search(r"3\.11", text), f"{name} does not state Python 3.11"


def test_binder_builds_from_the_same_lock_with_the_cpu_build_of_torch():
    binder = ROOT / "binder"
    requirements = (binder / "requirements.txt").read_text()
    assert "-r ../requirements.txt" in requirements and "download.pytorch.org/whl/cpu" in requirements
    assert (binder / "runtime.txt").read_text().strip() == "python-3.11"
    post = binder / "postBuild"
    assert post.stat().st_mode & 0o111 and "pip install --no-deps -e ." in post.read_text()


def test_citation_and_conda_environment_are_there_and_consistent():
    citation = (ROOT / "CITATION.cff").read_text()
    assert "cff-version:" in citation and PROJECT["version"] in citation
    environment = (ROOT / "environment.yml").read_text()
    assert "requirements.txt" in environment and "python=3.11" in environment
