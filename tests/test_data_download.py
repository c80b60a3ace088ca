"""The download path of utils.data, tested for real against an HTTP server on 127.0.0.1.

The server serves the real MNIST test files (good), a truncated copy, a valid gzip with
the wrong content, a response cut off before its announced length, and 404s. A closed port
stands in for a server that is down.
"""

import gzip
import http.server
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from utils.data import (
    MNIST,
    CorruptDataError,
    DataNotFoundError,
    download_payload,
    load_mnist,
)

LABELS = MNIST.files["test-labels"]


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        if self.path.startswith("/cutoff/"):
            # Announce the full length, send half, close: the client sees IncompleteRead.
            body = (Path(self.directory) / "good" / Path(self.path).name).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture(scope="module")
def server(tmp_path_factory, mnist_files):
    root = tmp_path_factory.mktemp("www")
    (root / "good").mkdir()
    (root / "truncated").mkdir()
    (root / "wrong").mkdir()
    (root / "empty").mkdir()
    for source in mnist_files.iterdir():
        raw = source.read_bytes()
        (root / "good" / source.name).write_bytes(raw)
        (root / "truncated" / source.name).write_bytes(raw[: len(raw) * 2 // 3])
        payload = bytearray(gzip.decompress(raw))
        payload[-1] ^= 0xFF  # same size, one byte different
        (root / "wrong" / source.name).write_bytes(gzip.compress(bytes(payload)))
    handler = lambda *a, **k: _Handler(*a, directory=str(root), **k)  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def dead_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens here any more


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


def test_good_download_is_verified_and_cached(server, tmp_path):
    path = download_payload((f"{server}/good/",), LABELS, tmp_path)
    assert path == tmp_path / "t10k-labels-idx1-ubyte.gz"
    assert _leftovers(tmp_path) == ["t10k-labels-idx1-ubyte.gz"]


def test_truncated_file_is_rejected_and_not_cached(server, tmp_path):
    with pytest.raises(CorruptDataError, match="truncated"):
        download_payload((f"{server}/truncated/",), LABELS, tmp_path)
    assert _leftovers(tmp_path) == []


def test_connection_cut_before_the_announced_length(server, tmp_path):
    with pytest.raises(CorruptDataError, match="incomplete download"):
        download_payload((f"{server}/cutoff/",), LABELS, tmp_path)
    assert _leftovers(tmp_path) == []


def test_wrong_checksum_is_rejected_and_not_cached(server, tmp_path):
    with pytest.raises(CorruptDataError, match="sha256 of the payload is [0-9a-f]{64}, expected"):
        download_payload((f"{server}/wrong/",), LABELS, tmp_path)
    assert _leftovers(tmp_path) == []


def test_404_is_reported_with_the_url(server, tmp_path):
    with pytest.raises(DataNotFoundError, match="empty/t10k-labels-idx1-ubyte.gz: HTTP 404"):
        download_payload((f"{server}/empty/",), LABELS, tmp_path)
    assert _leftovers(tmp_path) == []


def test_server_down_is_reported(dead_url, tmp_path):
    with pytest.raises(DataNotFoundError, match="127.0.0.1"):
        download_payload((f"{dead_url}/",), LABELS, tmp_path)
    assert _leftovers(tmp_path) == []


def test_next_mirror_is_tried_after_a_failure(server, dead_url, tmp_path):
    mirrors = (f"{dead_url}/", f"{server}/empty/", f"{server}/wrong/", f"{server}/good/")
    path = download_payload(mirrors, LABELS, tmp_path)
    assert path.name == "t10k-labels-idx1-ubyte.gz"


def test_load_mnist_downloads_into_the_cache_then_reuses_it(server, tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    images, labels = load_mnist("test", mirrors=(f"{server}/good/",))
    assert images.shape == (10_000, 28, 28)
    assert np.bincount(labels).tolist()[:3] == [980, 1135, 1032]
    assert _leftovers(tmp_path) == [
        "mnist",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]
    # Second call: found in the cache, no download allowed or needed.
    images2, _ = load_mnist("test", download=False)
    assert np.array_equal(images, images2)


def test_load_mnist_with_a_failing_download_says_where_it_looked(dead_url, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "nodata"))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(DataNotFoundError) as info:
        load_mnist("test", mirrors=(f"{dead_url}/",))
    message = str(info.value)
    assert "t10k-images-idx3-ubyte" in message
    assert str(tmp_path / "nodata" / "mnist") in message
    assert "could not download" in message
    assert _leftovers(tmp_path / "cache") in ([], ["mnist"])
