from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


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
