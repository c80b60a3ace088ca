"""Loaders on the real data (found through COURSE_DATA_DIR, the cache or Debian)."""

import dataclasses
import gzip
import os
import shutil

import numpy as np
import pytest
import torch

from utils.data import (
    FASHION_MNIST,
    MNIST,
    CorruptDataError,
    DataNotFoundError,
    images_to_tensor,
    load_fashion_mnist,
    load_mnist,
    locate,
    read_idx,
)

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_mnist_train_split_is_the_real_data():
    images, labels = load_mnist("train")
    assert images.shape == (60_000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60_000,) and labels.dtype == np.int64
    assert np.bincount(labels).tolist() == MNIST_TRAIN_COUNTS
    assert images.min() == 0 and images.max() == 255


def test_mnist_test_split_is_the_real_data(mnist_test):
    images, labels = mnist_test
    assert images.shape == (10_000, 28, 28)
    assert np.bincount(labels).tolist() == MNIST_TEST_COUNTS


def test_fashion_mnist_is_the_real_data():
    images, labels = load_fashion_mnist("test")
    assert images.shape == (10_000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [1000] * 10  # balanced by construction
    train_images, train_labels = load_fashion_mnist("train")
    assert train_images.shape == (60_000, 28, 28)
    assert np.bincount(train_labels).tolist() == [6000] * 10


def test_images_to_tensor_scales_to_unit_interval(mnist_test):
    images, _ = mnist_test
    x = images_to_tensor(images[:16])
    assert x.shape == (16, 1, 28, 28) and x.dtype == torch.float32
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    assert torch.allclose(x[3, 0] * 255, torch.from_numpy(images[3]).float())


def test_bad_split_is_rejected():
    with pytest.raises(ValueError, match="'train' or 'test'"):
        load_mnist("validation")


def test_explicit_path_is_used_and_nothing_else(tmp_path, mnist_files):
    images, labels = load_mnist("test", path=mnist_files)
    assert len(images) == len(labels) == 10_000
    with pytest.raises(DataNotFoundError, match="t10k-images-idx3-ubyte.*passed as `path`"):
        load_mnist("test", path=tmp_path)


def test_uncompressed_idx_files_are_read_too(tmp_path, mnist_files):
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (tmp_path / name).write_bytes(gzip.decompress((mnist_files / f"{name}.gz").read_bytes()))
    images, labels = load_mnist("test", path=tmp_path)
    assert np.bincount(labels).tolist() == MNIST_TEST_COUNTS


def test_missing_everywhere_names_the_file_and_the_fixes(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(DataNotFoundError) as info:
        locate(MNIST, "train-images", download=False)
    message = str(info.value)
    assert "train-images-idx3-ubyte" in message
    assert str(tmp_path / "data" / "mnist") in message
    assert "COURSE_DATA_DIR" in message and "download" in message


def test_fashion_mnist_error_tells_how_to_install_the_debian_package(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    nowhere = dataclasses.replace(FASHION_MNIST, system_dirs=(str(tmp_path / "none"),))
    with pytest.raises(DataNotFoundError, match="apt-get install dataset-fashion-mnist"):
        locate(nowhere, "test-labels", download=False)


@pytest.mark.skipif(
    not os.path.isdir("/usr/share/datasets/fashion-mnist"),
    reason="Debian's dataset-fashion-mnist is not installed",
)
def test_debian_location_is_searched(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    found = locate(FASHION_MNIST, "test-labels", download=False)
    assert str(found).startswith("/usr/share/datasets/fashion-mnist/")


def test_data_dir_comes_before_the_cache(tmp_path, monkeypatch, mnist_files):
    (tmp_path / "data" / "mnist").mkdir(parents=True)
    (tmp_path / "cache" / "mnist").mkdir(parents=True)
    for folder in ("data", "cache"):
        shutil.copy(mnist_files / "t10k-labels-idx1-ubyte.gz", tmp_path / folder / "mnist")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    assert locate(MNIST, "test-labels").parent == tmp_path / "data" / "mnist"
    monkeypatch.delenv("COURSE_DATA_DIR")
    assert locate(MNIST, "test-labels").parent == tmp_path / "cache" / "mnist"


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"\x00\x00\x09\x03" + b"\x00" * 12, "not an IDX file"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00\x00\x1c\x00\x00\x00\x1c" + b"\x00" * 100, "truncated"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x03\x01\x02\x03", "dimensions"),
    ],
)
def test_read_idx_rejects_bad_files_with_a_clear_error(tmp_path, content, problem):
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(CorruptDataError, match=problem):
        read_idx(path, ndim=3)


def test_read_idx_rejects_a_truncated_gzip(tmp_path, mnist_files):
    raw = (mnist_files / "t10k-labels-idx1-ubyte.gz").read_bytes()
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CorruptDataError, match="cannot be read"):
        read_idx(path)


def test_mismatched_images_and_labels_are_detected(tmp_path, mnist_files):
    shutil.copy(mnist_files / "t10k-images-idx3-ubyte.gz", tmp_path)
    labels = read_idx(mnist_files / "t10k-labels-idx1-ubyte.gz")[:500]
    header = b"\x00\x00\x08\x01" + np.array([500], dtype=">i4").tobytes()
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(header + labels.tobytes())
    with pytest.raises(CorruptDataError, match="10000 images but .* 500 labels"):
        load_mnist("test", path=tmp_path)
