from __future__ import annotations

import contextlib
import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def html() -> Path:
    """The book as the README's build command makes it: returns ``_build/html``.

    The fixture runs that command again, in the repository, once per session. Jupyter
    Book's execution cache and Sphinx's incremental build reuse what the README's command
    just made (CI runs it right before the tests), so no notebook is executed a second
    time and the check takes seconds; pages whose sources changed since are re-executed
    and rebuilt, with warnings as errors. Run alone, the tests build the book once, here,
    and later runs reuse it. (nbval executes the notebooks separately, with the current
    ``utils``: the one place where they run a second time.)"""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    result = subprocess.run(
        ["jupyter-book", "build", str(REPO), "-W", "-n", "--keep-going"],
        env=env, capture_output=True, text=True, timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    assert "build succeeded" in result.stdout
    assert "warning" not in result.stdout.lower().split("build succeeded")[-1]
    return REPO / "_build" / "html"


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
def serve_bytes():
    """A context manager that serves ``body`` to every GET on a real HTTP server on
    127.0.0.1 and yields its URL: what student code in the grading sandbox must not reach."""
    @contextlib.contextmanager
    def serve(body: bytes, content_type: str = "application/octet-stream"):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{server.server_port}/"
        finally:
            server.shutdown()
            server.server_close()
    return serve


@pytest.fixture(scope="session")
def free_port():
    """A function that returns a free TCP port of 127.0.0.1, for servers the tests start."""
    def pick() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]
    return pick


def _skip_without_data():
    """Turn a missing data set into a skip that names it (the loader's message says which
    file and how to provide it), so the quick loop runs on a machine without the shared
    data. ``COURSE_REQUIRE_DATA=1`` (set by ``.ci/run``) keeps it a failure."""
    from utils.data import DataNotFoundError

    try:
        return (yield)
    except DataNotFoundError as error:
        if os.environ.get("COURSE_REQUIRE_DATA") == "1":
            raise
        pytest.skip(f"data set not available here: {error}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    return (yield from _skip_without_data())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    return (yield from _skip_without_data())
