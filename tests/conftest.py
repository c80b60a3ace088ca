from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def html(tmp_path_factory) -> Path:
    """The book, built once per session exactly as the README does (warnings are errors)
    into a scratch folder: returns its ``_build/html``."""
    out = tmp_path_factory.mktemp("book")
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    result = subprocess.run(
        ["jupyter-book", "build", str(REPO), "--path-output", str(out),
         "-W", "-n", "--keep-going"],
        env=env, capture_output=True, text=True, timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    assert "build succeeded" in result.stdout
    assert "warning" not in result.stdout.lower().split("build succeeded")[-1]
    return out / "_build" / "html"


@pytest.fixture(scope="session")
def mnist_test():
    """The real MNIST test split (10,000 images), found through the data policy."""
    from utils.data import load_mnist

    return load_mnist("test")


@pytest.fixture(scope="session")
def mnist_files(tmp_path_factory) -> Path:
    """A folder with copies of the real MNIST test-split files, to serve over HTTP."""
    from utils.data import MNIST, locate

    folder = tmp_path_factory.mktemp("mnist-files")
    for part in ("test-images", "test-labels"):
        source = locate(MNIST, part)
        if source.suffix != ".gz":
            pytest.skip("the local MNIST copy is not gzip-compressed")
        shutil.copy(source, folder / source.name)
    return folder


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium from Debian's ``chromium`` package, driven by Playwright (never a
    downloaded browser). Skips without it, unless ``COURSE_REQUIRE_BROWSER=1`` (set by
    ``.ci/run``) makes that a failure."""
    from utils.book_pdf import CHROMIUM_FLAGS, find_chromium

    executable = find_chromium()
    if not executable:
        message = "Chromium is not installed: sudo apt-get install chromium"
        if os.environ.get("COURSE_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def free_port():
    """A function that returns a free TCP port of 127.0.0.1, for servers the tests start."""
    def pick() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]
    return pick
