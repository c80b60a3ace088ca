"""Real data sets of the course, found locally or downloaded and verified.

Where a loader looks, in this order (the course's data policy):

1. the ``path`` argument, if given (a folder holding the files; nothing else is tried);
2. ``$COURSE_DATA_DIR/<data set>/`` (CI sets ``COURSE_DATA_DIR=../shared/data``);
3. the user cache, ``$COURSE_CACHE_DIR`` or ``~/.cache/aevae-course/<data set>/``;
4. folders that Debian packages install (``/usr/share/datasets/fashion-mnist``);
5. a download from the canonical public source into the user cache. The sha256 of the
   uncompressed payload is checked before the file is moved into place, so a truncated or
   corrupt download is never cached.

IDX files (LeCun's format for MNIST) may be gzip-compressed (``.gz``) or plain. Their
magic number, dimensions and length are checked on every read.
"""

from __future__ import annotations

import gzip
import http.client
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from utils.storage import (  # noqa: F401 (re-exported: the data API in one place)
    APP_NAME,
    CACHE_DIR_ENV,
    DATA_DIR_ENV,
    CorruptDataError,
    DataError,
    DataNotFoundError,
    cache_dir,
    data_dir,
    sha256_bytes,
    write_atomic,
)

DOWNLOAD_TIMEOUT_S = 60


@dataclass(frozen=True)
class PayloadFile:
    """One file of a data set: its name and the size and sha256 of its payload.

    ``size`` and ``sha256`` describe the *uncompressed* bytes, so that a recompressed copy
    of the same data verifies too.
    """

    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class IdxDataset:
    key: str
    title: str
    mirrors: tuple[str, ...]
    files: dict[str, PayloadFile]
    system_dirs: tuple[str, ...] = ()
    install_hint: str = ""


MNIST = IdxDataset(
    key="mnist",
    title="MNIST",
    mirrors=(
        "https://yann.lecun.com/exdb/mnist/",
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
    ),
    files={
        "train-images": PayloadFile(
            "train-images-idx3-ubyte",
            47040016,
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        ),
        "train-labels": PayloadFile(
            "train-labels-idx1-ubyte",
            60008,
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        ),
        "test-images": PayloadFile(
            "t10k-images-idx3-ubyte",
            7840016,
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        ),
        "test-labels": PayloadFile(
            "t10k-labels-idx1-ubyte",
            10008,
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        ),
    },
)

FASHION_MNIST = IdxDataset(
    key="fashion-mnist",
    title="Fashion-MNIST",
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    files={
        "train-images": PayloadFile(
            "train-images-idx3-ubyte",
            47040016,
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        ),
        "train-labels": PayloadFile(
            "train-labels-idx1-ubyte",
            60008,
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        ),
        "test-images": PayloadFile(
            "t10k-images-idx3-ubyte",
            7840016,
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        ),
        "test-labels": PayloadFile(
            "t10k-labels-idx1-ubyte",
            10008,
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        ),
    },
    system_dirs=("/usr/share/datasets/fashion-mnist",),
    install_hint="on Debian or Ubuntu: sudo apt-get install dataset-fashion-mnist",
)

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


# --------------------------------------------------------------------------------------
# Where files are looked for
# --------------------------------------------------------------------------------------


def _search_dirs(dataset: IdxDataset) -> list[Path]:
    dirs = []
    shared = data_dir()
    if shared is not None:
        dirs.append(shared / dataset.key)
    dirs.append(cache_dir() / dataset.key)
    dirs.extend(Path(d) for d in dataset.system_dirs)
    return dirs


def _existing(folder: Path, name: str) -> Path | None:
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


def locate(
    dataset: IdxDataset,
    part: str,
    path: str | os.PathLike | None = None,
    download: bool = True,
    mirrors: tuple[str, ...] | None = None,
) -> Path:
    """Return the path of one file of ``dataset`` (e.g. ``part="train-images"``).

    Follows the search order of the module docstring; downloads into the cache as the last
    resort when ``download`` is true. ``mirrors`` replaces the data set's base URLs.

    Raises:
        DataNotFoundError: the file is nowhere and could not be downloaded.
        CorruptDataError: every download that arrived failed its checksum.
    """
    spec = dataset.files[part]
    if path is not None:
        folder = Path(path).expanduser()
        found = _existing(folder, spec.name)
        if found is None:
            raise DataNotFoundError(
                f"{dataset.title}: {spec.name}(.gz) is not in {folder}, the folder passed "
                f"as `path`. Put the file there or call the loader without `path` to use "
                f"${DATA_DIR_ENV}, the cache or a download."
            )
        return found
    searched = _search_dirs(dataset)
    for folder in searched:
        found = _existing(folder, spec.name)
        if found is not None:
            return found
    reasons: list[str] = []
    if download:
        try:
            return download_payload(
                mirrors if mirrors is not None else dataset.mirrors,
                spec,
                cache_dir() / dataset.key,
            )
        except CorruptDataError:
            raise
        except DataError as err:
            reasons.append(str(err))
    else:
        reasons.append("downloading was switched off (download=False)")
    where = "\n".join(f"  - {d}" for d in searched)
    hint = f"\n  - {dataset.install_hint}" if dataset.install_hint else ""
    raise DataNotFoundError(
        f"{dataset.title}: cannot find {spec.name}.gz (or the uncompressed {spec.name}).\n"
        f"Looked in:\n{where}\n"
        f"and could not download it: {'; '.join(reasons)}\n"
        f"Ways to provide it:\n"
        f"  - set {DATA_DIR_ENV} to a folder that holds {dataset.key}/{spec.name}.gz"
        f"{hint}\n"
        f"  - copy the file into {cache_dir() / dataset.key}\n"
        f"  - connect to the internet and call the loader again (it downloads and checks "
        f"the file)."
    )


# --------------------------------------------------------------------------------------
# Downloading with verification
# --------------------------------------------------------------------------------------


def _payload(raw: bytes, compressed: bool, source: str) -> bytes:
    if not compressed:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, gzip.BadGzipFile) as err:
        raise CorruptDataError(
            f"{source} is not a complete gzip file ({err}); the download was truncated or "
            "damaged."
        ) from err


def verify_payload(payload: bytes, spec: PayloadFile, source: str) -> None:
    """Raise :class:`CorruptDataError` unless ``payload`` has the size and sha256 of spec."""
    if len(payload) != spec.size:
        raise CorruptDataError(
            f"{source}: payload has {len(payload)} bytes, expected {spec.size} "
            "(truncated or a different file)."
        )
    digest = sha256_bytes(payload)
    if digest != spec.sha256:
        raise CorruptDataError(
            f"{source}: sha256 of the payload is {digest}, expected {spec.sha256} "
            "(corrupt or a different file)."
        )


def download_payload(mirrors: tuple[str, ...], spec: PayloadFile, dest_dir: Path) -> Path:
    """Download ``<mirror><name>.gz``, verify its payload, and move it into ``dest_dir``.

    Mirrors are tried in order. The file is written to a temporary name in ``dest_dir`` and
    renamed only after verification, so an interrupted, truncated or corrupt download
    leaves nothing behind.

    Returns the path of the verified ``.gz`` file.

    Raises:
        CorruptDataError: a mirror answered but no answer verified.
        DataNotFoundError: no mirror answered (HTTP errors, no network).
    """
    if not mirrors:
        raise DataNotFoundError("no download source is configured")
    errors: list[str] = []
    corrupt = False
    for base in mirrors:
        url = base.rstrip("/") + f"/{spec.name}.gz"
        try:
            print(f"Downloading {url}")
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
                raw = response.read()
            verify_payload(_payload(raw, True, url), spec, url)
        except CorruptDataError as err:
            corrupt = True
            errors.append(str(err))
            continue
        except urllib.error.HTTPError as err:
            errors.append(f"{url}: HTTP {err.code} {err.reason}")
            continue
        except http.client.HTTPException as err:  # e.g. IncompleteRead: cut off mid-file
            corrupt = True
            errors.append(f"{url}: incomplete download ({type(err).__name__})")
            continue
        except (urllib.error.URLError, OSError, ValueError) as err:  # refused, timeout
            errors.append(f"{url}: {getattr(err, 'reason', err)}")
            continue
        final = dest_dir / f"{spec.name}.gz"
        write_atomic(final, raw)
        return final
    message = "; ".join(errors)
    if corrupt:
        raise CorruptDataError(
            f"Could not get a valid copy of {spec.name}: {message}. Nothing was cached; "
            "try again later or provide the file yourself (see utils.data)."
        )
    raise DataNotFoundError(message)


# --------------------------------------------------------------------------------------
# IDX parsing
# --------------------------------------------------------------------------------------


def read_idx(path: str | os.PathLike, ndim: int | None = None) -> np.ndarray:
    """Read an IDX file of unsigned bytes (plain or ``.gz``) into a uint8 array.

    The header is ``0x00 0x00 0x08 ndim`` followed by ``ndim`` big-endian int32 sizes.

    Raises:
        CorruptDataError: wrong magic number, wrong number of dimensions, or a length
            that disagrees with the header.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
    except (EOFError, OSError, gzip.BadGzipFile) as err:
        raise CorruptDataError(
            f"{path} cannot be read ({err}). Delete it and let the loader fetch it again."
        ) from err
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise CorruptDataError(
            f"{path} is not an IDX file of unsigned bytes (magic number "
            f"{data[:4].hex() or 'missing'}, expected 000008xx). Delete it and let the "
            "loader fetch it again."
        )
    file_ndim = data[3]
    if ndim is not None and file_ndim != ndim:
        raise CorruptDataError(f"{path} has {file_ndim} dimensions, expected {ndim}.")
    header = 4 + 4 * file_ndim
    dims = tuple(int(d) for d in np.frombuffer(data[4:header], dtype=">i4"))
    expected = header + int(np.prod(dims))
    if len(data) != expected:
        raise CorruptDataError(
            f"{path} holds {len(data)} bytes but its header {dims} says {expected}; the "
            "file is truncated or damaged. Delete it and let the loader fetch it again."
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims).copy()


def _load_idx_pair(
    dataset: IdxDataset,
    split: str,
    path: str | os.PathLike | None,
    download: bool,
    mirrors: tuple[str, ...] | None,
) -> tuple[np.ndarray, np.ndarray]:
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    image_file = locate(dataset, f"{split}-images", path, download, mirrors)
    label_file = locate(dataset, f"{split}-labels", path, download, mirrors)
    images = read_idx(image_file, ndim=3)
    labels = read_idx(label_file, ndim=1).astype(np.int64)
    if images.shape[1:] != (28, 28):
        raise CorruptDataError(f"{image_file}: images are {images.shape[1:]}, not 28x28.")
    if len(images) != len(labels):
        raise CorruptDataError(
            f"{image_file} has {len(images)} images but {label_file} has {len(labels)} "
            "labels; one of them is from another data set or split."
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise CorruptDataError(f"{label_file}: labels outside 0..9.")
    return images, labels


def load_mnist(
    split: str = "train",
    path: str | os.PathLike | None = None,
    download: bool = True,
    mirrors: tuple[str, ...] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST handwritten digits (LeCun, Cortes & Burges).

    Args:
        split: ``"train"`` (60,000 images) or ``"test"`` (10,000 images).
        path: folder holding the IDX files; if given, nothing else is tried.
        download: allow a download into the user cache as the last resort.
        mirrors: base URLs to download from instead of the canonical ones.

    Returns:
        ``(images, labels)``: uint8 array (N, 28, 28) of grey values 0..255 (0 = white
        background, 255 = ink) and int64 array (N,) of digits 0..9.
    """
    return _load_idx_pair(MNIST, split, path, download, mirrors)


def load_fashion_mnist(
    split: str = "train",
    path: str | os.PathLike | None = None,
    download: bool = True,
    mirrors: tuple[str, ...] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST (Xiao, Rasul & Vollgraf 2017), same format as :func:`load_mnist`.

    Labels 0..9 name the classes in :data:`FASHION_MNIST_CLASSES`.
    """
    return _load_idx_pair(FASHION_MNIST, split, path, download, mirrors)


def images_to_tensor(
    images: np.ndarray, device: torch.device | str | None = None
) -> torch.Tensor:
    """uint8 images (N, 28, 28) -> float32 tensor (N, 1, 28, 28) scaled to [0, 1]."""
    if images.ndim != 3:
        raise ValueError(f"expected images of shape (N, H, W), got {images.shape}")
    tensor = torch.from_numpy(np.ascontiguousarray(images)).to(torch.float32).div_(255.0)
    tensor = tensor.unsqueeze(1)
    return tensor.to(device) if device is not None else tensor


IMAGE_DATA_SETS = {"mnist": load_mnist, "fashion-mnist": load_fashion_mnist}


def image_tensors(
    name: str, n_train: int | None = None, n_test: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``n_train`` training and ``n_test`` test images (None: all) of
    ``name`` ("mnist" or "fashion-mnist") as float tensors (N, 1, 28, 28) in [0, 1]."""
    if name not in IMAGE_DATA_SETS:
        raise ValueError(f"image data set must be one of {sorted(IMAGE_DATA_SETS)}, not {name!r}")
    load = IMAGE_DATA_SETS[name]
    return (images_to_tensor(load("train")[0][:n_train]),
            images_to_tensor(load("test")[0][:n_test]))


# SDSS photometry lives in its own module; these names are part of utils.data's interface.
from utils.sdss import load_sdss, query_skyserver  # noqa: E402,F401  (re-export)
