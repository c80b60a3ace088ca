"""Where the course keeps what it reads, downloads, generates and trains, and how it writes.

The bottom of the package: it imports nothing from ``utils`` and nothing heavy at import
time (numpy only inside the array-cache functions), so that the grader and the grading
sandbox (:mod:`utils.sandbox`) can use it cheaply and every other module can build on it
without an import circle (``tests/test_storage.py`` checks both).

Folders
    :func:`course_file` finds a file the course ships (a committed checkpoint, the stored
    scan): ``$COURSE_HOME/<relative path>`` when set, else the repository checkout this
    package sits in. :func:`checkpoint_dir` is ``$COURSE_CHECKPOINT_DIR`` or
    ``notebooks/checkpoints``; :func:`cache_dir` is ``$COURSE_CACHE_DIR`` or
    ``~/.cache/aevae-course``; ``$COURSE_DATA_DIR`` holds the shared real data sets.

Writes
    :func:`write_atomic` (temporary file beside the target, then rename): an interrupted
    write never leaves a partial file under the final name.

One cache format
    Generated arrays (Monte Carlo samples, random comparison sets, the scan of models) are
    one ``.npz`` file each, written by :func:`save_arrays` with a JSON ``meta`` entry that
    records every parameter that made them; :func:`load_arrays` returns them only when the
    stored ``meta`` equals the expected one. Downloaded files are kept as received and
    checked against a sha256 (:func:`sha256_bytes`).

Errors
    :class:`DataError` and its two kinds, re-exported by :mod:`utils.data`.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

DATA_DIR_ENV = "COURSE_DATA_DIR"
CACHE_DIR_ENV = "COURSE_CACHE_DIR"
CHECKPOINT_ENV = "COURSE_CHECKPOINT_DIR"
HOME_ENV = "COURSE_HOME"
APP_NAME = "aevae-course"


class DataError(RuntimeError):
    """A data set could not be loaded; the message says why and how to fix it."""


class DataNotFoundError(DataError, FileNotFoundError):
    """A file of a data set is in none of the places the loader looks."""


class CorruptDataError(DataError):
    """A file exists or was downloaded but its content is not what it should be."""


# --------------------------------------------------------------------------------------
# Folders
# --------------------------------------------------------------------------------------


def course_home() -> Path:
    """The folder that holds the course's shipped files (``notebooks/checkpoints``, ...):
    ``$COURSE_HOME`` or the checkout this package sits in."""
    explicit = os.environ.get(HOME_ENV)
    if explicit:
        return Path(explicit).expanduser()
    return Path(__file__).resolve().parent.parent


def course_file(relative: str) -> Path:
    """``course_home() / relative``, e.g. ``course_file("notebooks/data/slm_models.npz")``."""
    return course_home() / relative


def checkpoint_dir() -> Path:
    """``$COURSE_CHECKPOINT_DIR`` or ``notebooks/checkpoints`` of the course."""
    explicit = os.environ.get(CHECKPOINT_ENV)
    if explicit:
        return Path(explicit).expanduser()
    return course_file("notebooks/checkpoints")


def cache_dir() -> Path:
    """The user cache of the course: ``$COURSE_CACHE_DIR`` or ``~/.cache/aevae-course``."""
    explicit = os.environ.get(CACHE_DIR_ENV)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / APP_NAME


def data_dir() -> Path | None:
    """``$COURSE_DATA_DIR`` (the shared real data sets), or None when it is not set."""
    explicit = os.environ.get(DATA_DIR_ENV)
    return Path(explicit).expanduser() if explicit else None


def display_path(path: str | os.PathLike) -> str:
    """``path`` relative to the working directory when it lies below it, else absolute."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------------------
# Writing and checking
# --------------------------------------------------------------------------------------


def write_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place, so
    an interrupted write never leaves a partial file under the final name. World-readable
    (a cache is for reading). Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def content_key(value) -> str:
    """A 16-hex-digit key of a JSON-serialisable value (sorted keys): a cache file name."""
    return sha256_bytes(json.dumps(value, sort_keys=True).encode())[:16]


# --------------------------------------------------------------------------------------
# The array cache: .npz + JSON meta
# --------------------------------------------------------------------------------------


def save_arrays(path: str | os.PathLike, arrays: dict, meta: dict) -> Path:
    """Write numpy ``arrays`` and their JSON-serialisable ``meta`` to one compressed
    ``.npz``, atomically. ``meta`` should hold every parameter that made the arrays."""
    import numpy as np

    if "meta" in arrays:
        raise ValueError("'meta' is reserved for the parameters; rename that array")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, meta=np.array(json.dumps(meta, sort_keys=True)),
                        **{k: np.asarray(v) for k, v in arrays.items()})
    return write_atomic(path, buffer.getvalue())


def read_meta(path: str | os.PathLike) -> dict:
    """The ``meta`` of a file written by :func:`save_arrays`."""
    import numpy as np

    with np.load(path, allow_pickle=False) as data:
        return json.loads(str(data["meta"]))


def load_arrays(path: str | os.PathLike, meta: dict | None = None) -> tuple[dict, dict] | None:
    """``(arrays, meta)`` of a file written by :func:`save_arrays`, or None when the file
    is missing, unreadable (an interrupted copy, another format) or, if ``meta`` is given,
    was made with other parameters (a key of ``meta`` stored with another value, or not
    stored): the caller regenerates it then."""
    import numpy as np

    path = Path(path)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            stored = json.loads(str(data["meta"]))
            # the file may store more than the caller checks (e.g. results such as an
            # acceptance rate): compare the keys that the caller gives
            wanted = json.loads(json.dumps(meta)) if meta is not None else {}
            if any(stored.get(key) != value for key, value in wanted.items()):
                return None
            return {k: data[k] for k in data.files if k != "meta"}, stored
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
