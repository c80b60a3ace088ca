"""Stellar photometry from the Sloan Digital Sky Survey (chapter 7).

Two sources, both read into the same validated table:

* the **shared sample** ``sdss/sdss_dr14_skyserver_sample.csv`` in ``$COURSE_DATA_DIR``:
  10,000 spectroscopic objects of DR14 (stars, galaxies and quasars) with their ugriz
  magnitudes, redshift and spectroscopic class;
* the **full star sample** of the lecture (255,000 spectroscopic stars of DR18), fetched
  by :func:`query_skyserver` from SkyServer's public SQL search service by a reader with
  internet access, and cached with a checksum of what was received.

:func:`load_sdss` uses the full sample when it is cached (``source="auto"``) and the
shared one otherwise, and records which in ``table.attrs["source"]``. These functions
are re-exported by :mod:`utils.data`.
"""

from __future__ import annotations

import http.client
import io
import os
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from utils.storage import (
    DATA_DIR_ENV,
    CorruptDataError,
    DataError,
    DataNotFoundError,
    cache_dir,
    data_dir,
    sha256_bytes,
    write_atomic,
)

#: Effective wavelengths of the five SDSS filters in nanometres (the lecture's table).
SDSS_FILTERS = {"u": 354.3, "g": 477.0, "r": 623.1, "i": 762.5, "z": 913.4}
BANDS = tuple(SDSS_FILTERS)
COLOURS = ("u-g", "g-r", "r-i", "i-z")
CLASSES = ("STAR", "GALAXY", "QSO")

SHARED_SAMPLE = "sdss/sdss_dr14_skyserver_sample.csv"
SHARED_SAMPLE_SHA256 = "5633126254d4ec5a4bfc81081f2f427596c5139ea27d36fd7ad26a6487f9fddd"

SKYSERVER_SQL_URL = "https://skyserver.sdss.org/dr18/SkyServerWS/SearchTools/SqlSearch"

#: The lecture's query for 255,000 spectroscopic stars (DR18), with ``p.objid`` added so
#: that every row can be named.
LECTURE_STAR_QUERY = """SELECT TOP 255000
  p.objid, p.ra, p.dec, s.z as redshift, p.u, p.g, p.r, p.i, p.z
FROM PhotoObj AS p
  JOIN SpecObj AS s ON s.bestobjid = p.objid
WHERE
  p.u BETWEEN 0 AND 30
  AND p.g BETWEEN 0 AND 30
  AND p.r BETWEEN 0 AND 30
  AND p.i BETWEEN 0 AND 30
  AND p.z BETWEEN 0 AND 30
  AND s.class = 'STAR'"""

_DTYPES = {"objid": "int64", "ra": "float64", "dec": "float64", "u": "float64",
           "g": "float64", "r": "float64", "i": "float64", "z": "float64",
           "redshift": "float64", "class": "string"}
REQUIRED_COLUMNS = tuple(_DTYPES)


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------


def _rows(table: pd.DataFrame, mask: np.ndarray, limit: int = 8) -> str:
    """Name the first bad rows: data line numbers of the file (header = line 1), objid."""
    bad = np.flatnonzero(mask)
    names = []
    for index in bad[:limit]:
        objid = table["objid"].iloc[index] if "objid" in table else "?"
        names.append(f"line {index + 2} (objid {objid})")
    more = f" and {len(bad) - limit} more" if len(bad) > limit else ""
    return ", ".join(names) + more


def validate_sdss(table: pd.DataFrame, source: str) -> pd.DataFrame:
    """Check columns, types, missing values, magnitude ranges and classes; return a typed
    copy with columns in :data:`REQUIRED_COLUMNS` order plus any others after them.

    Raises:
        CorruptDataError: naming the file, the problem, the bad rows and the fix.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise CorruptDataError(
            f"{source}: missing column(s) {', '.join(missing)}; found "
            f"{', '.join(map(str, table.columns))}. Use a SkyServer export with columns "
            f"{', '.join(REQUIRED_COLUMNS)}."
        )
    nan_rows = table[list(REQUIRED_COLUMNS)].isna().any(axis=1).to_numpy()
    if nan_rows.any():
        raise CorruptDataError(
            f"{source}: {nan_rows.sum()} row(s) with missing values: {_rows(table, nan_rows)}. "
            "Remove or complete those rows."
        )
    numeric = [c for c in REQUIRED_COLUMNS if c != "class"]
    out = table.copy()
    for column in numeric:
        converted = pd.to_numeric(out[column], errors="coerce")
        bad = converted.isna().to_numpy()
        if bad.any():
            raise CorruptDataError(
                f"{source}: column {column!r} is not numeric in {_rows(table, bad)}."
            )
        out[column] = converted.astype(_DTYPES[column])
    for band in BANDS:
        bad = ~out[band].between(0.0, 30.0).to_numpy()
        if bad.any():
            raise CorruptDataError(
                f"{source}: magnitude {band} outside 0..30 in {_rows(out, bad)} (e.g. "
                f"{out[band].to_numpy()[bad][0]:g}). SkyServer marks failed photometry with "
                "-9999; select rows with p.{band} BETWEEN 0 AND 30 as the lecture's query does."
            )
    out["class"] = out["class"].astype("string").str.strip().str.upper()
    bad = ~out["class"].isin(CLASSES).to_numpy()
    if bad.any():
        raise CorruptDataError(
            f"{source}: unknown class {out['class'].to_numpy()[bad][0]!r} in "
            f"{_rows(out, bad)}; expected one of {', '.join(CLASSES)}."
        )
    out["class"] = pd.Categorical(out["class"], categories=list(CLASSES))
    others = [c for c in out.columns if c not in REQUIRED_COLUMNS]
    return out[list(REQUIRED_COLUMNS) + others].reset_index(drop=True)


def add_colours(table: pd.DataFrame) -> pd.DataFrame:
    """Add the colour indices u-g, g-r, r-i, i-z (differences of magnitudes) in place."""
    for colour in COLOURS:
        a, b = colour.split("-")
        table[colour] = table[a] - table[b]
    return table


# --------------------------------------------------------------------------------------
# SkyServer SQL search service
# --------------------------------------------------------------------------------------


def _query_cache_path(sql: str) -> Path:
    key = sha256_bytes(" ".join(sql.split()).encode())[:16]
    return cache_dir() / "sdss" / f"skyserver-{key}.csv"


def _parse_skyserver_csv(body: bytes, url: str) -> pd.DataFrame:
    text = body.decode("utf-8", errors="replace")
    stripped = text.lstrip()
    if not stripped:
        raise DataError(f"{url}: the service returned an empty answer.")
    if stripped.startswith("<") or "error" in stripped[:200].lower():
        snippet = " ".join(stripped.replace("<", " <").split())[:300]
        raise DataError(
            f"{url}: the service returned an error page instead of CSV: {snippet!r}. "
            "Check the SQL (SkyServer's SQL search page shows the same message)."
        )
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    try:
        return pd.read_csv(io.StringIO("\n".join(lines)))
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataError(f"{url}: the answer is not valid CSV ({err}).") from err


def _read_cached(path: Path) -> bytes:
    body = path.read_bytes()
    digest_file = path.with_suffix(".sha256")
    expected = digest_file.read_text().split()[0] if digest_file.is_file() else None
    if expected != sha256_bytes(body):
        raise CorruptDataError(
            f"The cached SkyServer answer {path} does not match its checksum "
            f"({digest_file.name}); delete both files and run the query again "
            "(query_skyserver(..., refresh=True))."
        )
    return body


def query_skyserver(
    sql: str,
    url: str = SKYSERVER_SQL_URL,
    timeout: float = 300.0,
    refresh: bool = False,
    cache: bool = True,
) -> pd.DataFrame:
    """Run ``sql`` on SkyServer's SQL search service and return the answer as a table.

    Sends ``GET url?cmd=<sql>&format=csv``. The answer is parsed (SkyServer puts a
    ``#Table1`` line before the CSV header) and, if it is valid CSV, cached in the user
    cache as ``sdss/skyserver-<hash of the SQL>.csv`` with a ``.sha256`` file holding the
    checksum of the bytes received. Later calls with the same SQL read the cache and
    verify the checksum; ``refresh=True`` queries again. An error page, a timeout or an
    unreadable answer raises :class:`~utils.storage.DataError` and caches nothing.
    """
    path = _query_cache_path(sql)
    if cache and not refresh and path.is_file():
        return _parse_skyserver_csv(_read_cached(path), str(path))
    full_url = url + "?" + urllib.parse.urlencode({"cmd": sql, "format": "csv"})
    try:
        with urllib.request.urlopen(full_url, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as err:
        detail = err.read()[:300].decode("utf-8", errors="replace")
        raise DataError(
            f"{url}: HTTP {err.code} {err.reason}: {' '.join(detail.split())!r}. Check the "
            "SQL and that the service is up."
        ) from err
    except (socket.timeout, TimeoutError) as err:
        raise DataError(
            f"{url}: no answer within {timeout:g} s. SkyServer can be slow for large "
            "queries: retry later or pass a longer timeout."
        ) from err
    except http.client.HTTPException as err:
        raise DataError(f"{url}: the answer was cut off ({type(err).__name__}); retry.") from err
    except urllib.error.URLError as err:
        reason = err.reason
        if isinstance(reason, (socket.timeout, TimeoutError)):
            raise DataError(
                f"{url}: no answer within {timeout:g} s; retry later or pass a longer timeout."
            ) from err
        raise DataNotFoundError(
            f"{url}: cannot reach the service ({reason}). Without internet the course "
            f"uses the shared sample in $COURSE_DATA_DIR/{SHARED_SAMPLE}."
        ) from err
    table = _parse_skyserver_csv(body, url)  # raises before anything is cached
    if cache:
        write_atomic(path, body)
        write_atomic(path.with_suffix(".sha256"),
                      f"{sha256_bytes(body)}  {path.name}\n".encode())
        write_atomic(path.with_suffix(".sql"), sql.encode())
    return table


# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------


def shared_sample_path(path: str | os.PathLike | None = None) -> Path:
    """The CSV that :func:`load_sdss` reads (``path``, else the shared sample in
    ``$COURSE_DATA_DIR``); raises :class:`DataNotFoundError`, saying how to provide it,
    when it is not there."""
    if path is None:
        shared = data_dir()
        if shared is None:
            raise DataNotFoundError(
                f"The SDSS sample is not found: set {DATA_DIR_ENV} to the folder that holds "
                f"{SHARED_SAMPLE} (in CI: ../shared/data) or pass path=."
            )
        path = shared / SHARED_SAMPLE
    csv = Path(path)
    if not csv.is_file():
        raise DataNotFoundError(
            f"{csv} does not exist. Point {DATA_DIR_ENV} at the course's data folder "
            "(see ../shared/data/README.md) or pass path=."
        )
    return csv


def full_sample_cached() -> bool:
    """Whether the lecture's 255,000-star query result is in the user cache."""
    return _query_cache_path(LECTURE_STAR_QUERY).is_file()


def load_sdss(path: str | os.PathLike | None = None, source: str = "auto") -> pd.DataFrame:
    """Load SDSS photometry as a validated table (pandas DataFrame).

    Columns: objid (int64), ra, dec [deg], u, g, r, i, z [mag], redshift (float64) and
    class (categorical: STAR, GALAXY, QSO), one row per object. The magnitudes are
    SkyServer's ``PhotoObj.u ... z``, which are the model magnitudes (``modelMag``): SDSS
    asinh magnitudes ("luptitudes"), *not* corrected for Galactic extinction, and close to
    but not exactly on the AB system (u_AB = u - 0.04, z_AB = z + 0.02 by SDSS's own
    estimate). Neither file carries extinction, PSF magnitudes, errors or flags.

    Args:
        path: a CSV file to read instead of the shared sample (no checksum check, only
            validation).
        source: ``"auto"``: the full star sample if it is cached, else the shared sample;
            ``"shared"``: always the shared sample; ``"full"``: the full star sample,
            querying SkyServer if it is not cached (needs internet).

    ``table.attrs["source"]`` says which sample was read.
    """
    if source not in ("auto", "shared", "full"):
        raise ValueError(f"source must be 'auto', 'shared' or 'full', not {source!r}")
    if path is None and (source == "full" or (source == "auto" and full_sample_cached())):
        raw = query_skyserver(LECTURE_STAR_QUERY)
        raw["class"] = "STAR"
        table = validate_sdss(raw, "SkyServer DR18 star query")
        table.attrs["source"] = f"full DR18 star sample from SkyServer ({len(table):,} stars)"
        return table
    csv = shared_sample_path(path)
    body = csv.read_bytes()
    if path is None and sha256_bytes(body) != SHARED_SAMPLE_SHA256:
        raise CorruptDataError(
            f"{csv} does not have the published sha256 ({SHARED_SAMPLE_SHA256[:12]}...); "
            "restore the original file from the course's data folder."
        )
    try:
        raw = pd.read_csv(io.BytesIO(body))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise CorruptDataError(f"{csv} is not a readable CSV file ({err}).") from err
    table = validate_sdss(raw, str(csv))
    counts = table["class"].value_counts()
    table.attrs["source"] = (
        f"shared DR14 sample {csv.name} ({counts['STAR']:,} stars, {counts['GALAXY']:,} "
        f"galaxies, {counts['QSO']:,} quasars)"
    )
    return table


# --------------------------------------------------------------------------------------
# Network inputs
# --------------------------------------------------------------------------------------


@dataclass
class StarInputs:
    """Standardised features of the stars, split into train/validation/test.

    ``features`` names the columns: :data:`BANDS` (the five ugriz magnitudes, the
    lecture's input) or :data:`COLOURS` (the four neighbouring-band colours, which do not
    change with distance or brightness). ``x_*`` are float32 tensors (N, F) of
    (value - mean) / std with the training split's ``mean`` and ``std`` (numpy arrays in
    magnitudes); ``tables`` holds the rows of each split (with all columns, colours
    included) in the same order.
    """

    x_train: torch.Tensor
    x_val: torch.Tensor
    x_test: torch.Tensor
    mean: np.ndarray
    std: np.ndarray
    tables: dict[str, pd.DataFrame]
    features: tuple[str, ...] = BANDS

    def standardize(self, table: pd.DataFrame) -> torch.Tensor:
        """The network input for any table with ugriz columns, with the stars' scaling."""
        values = _feature_values(table, self.features)
        return torch.from_numpy(((values - self.mean) / self.std).astype(np.float32))

    def magnitudes(self, x: torch.Tensor) -> np.ndarray:
        """Undo the standardisation: (N, F) network values -> magnitudes (or colours, in
        magnitudes, for colour inputs)."""
        return x.detach().cpu().numpy().astype(np.float64) * self.std + self.mean


#: The network inputs :func:`star_inputs` can build.
FEATURES = {"magnitudes": BANDS, "colours": COLOURS}


def _feature_values(table: pd.DataFrame, features: tuple[str, ...]) -> np.ndarray:
    if features == COLOURS:
        mags = table[list(BANDS)].to_numpy(dtype=np.float64)
        return mags[:, :-1] - mags[:, 1:]
    return table[list(features)].to_numpy(dtype=np.float64)


def failed_photometry(table: pd.DataFrame, max_colour: float = 4.0) -> np.ndarray:
    """Rows where a colour of neighbouring bands (u-g, g-r, r-i, i-z) exceeds
    ``max_colour`` magnitudes in size: one band's measurement failed (e.g. i = 28 for a
    star of magnitude 14 in the other four). No star has such colours; a boolean (N,)."""
    values = table[list(BANDS)].to_numpy(dtype=np.float64)
    return (np.abs(np.diff(values, axis=1)) > max_colour).any(axis=1)


def star_inputs(
    table: pd.DataFrame, fractions=(0.6, 0.2, 0.2), seed: int = 0, max_colour: float | None = 4.0,
    features: str = "magnitudes",
) -> StarInputs:
    """Split the stars of ``table`` at random (``seed``) and standardise their magnitudes
    (``features="magnitudes"``) or their colours u-g, g-r, r-i, i-z (``"colours"``).

    Stars with failed photometry (:func:`failed_photometry` with ``max_colour``; 4 of the
    4,152 stars of the shared sample) are left out first, unless ``max_colour`` is None.
    The split depends on ``seed`` only, so magnitude and colour inputs of the same seed
    hold the same stars.
    """
    if features not in FEATURES:
        raise ValueError(f"features must be one of {sorted(FEATURES)}, got {features!r}")
    columns = FEATURES[features]
    stars = table[table["class"] == "STAR"]
    if max_colour is not None:
        stars = stars[~failed_photometry(stars, max_colour)]
    stars = stars.reset_index(drop=True)
    order = np.random.default_rng(seed).permutation(len(stars))
    n_train = int(round(fractions[0] * len(stars)))
    n_val = int(round(fractions[1] * len(stars)))
    parts = {"train": order[:n_train], "val": order[n_train:n_train + n_val],
             "test": order[n_train + n_val:]}
    tables = {k: add_colours(stars.iloc[v].reset_index(drop=True)) for k, v in parts.items()}
    values = _feature_values(tables["train"], columns)
    mean, std = values.mean(axis=0), values.std(axis=0)
    inputs = StarInputs(torch.empty(0), torch.empty(0), torch.empty(0), mean, std, tables, columns)
    inputs.x_train, inputs.x_val, inputs.x_test = (inputs.standardize(tables[k]) for k in parts)
    return inputs
