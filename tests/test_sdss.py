"""Tests of utils/sdss.py: the shared SDSS sample, validation errors, and the SkyServer
client against a real HTTP server on 127.0.0.1 that answers like the service."""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import threading
import time
import urllib.parse
from pathlib import Path

import pandas as pd
import torch
import pytest

from utils.data import CorruptDataError, DataError, DataNotFoundError, load_sdss, query_skyserver
from utils.sdss import (
    LECTURE_STAR_QUERY,
    REQUIRED_COLUMNS,
    SHARED_SAMPLE,
    add_colours,
    full_sample_cached,
    shared_sample_path,
)

STAR_ROWS = [
    "objid,ra,dec,redshift,u,g,r,i,z",
    "1237648720693755918,183.53,0.0897,-8.96e-06,19.47,17.04,15.95,15.50,15.23",
    "1237648720693756035,183.60,0.1353,-5.49e-05,18.66,17.21,16.68,16.49,16.39",
    "1237648720693756036,183.68,0.1262,0.0001,22.10,20.50,19.90,19.60,19.40",
]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("COURSE_CACHE_DIR", str(folder))
    return folder


# --------------------------------------------------------------------------------------
# The shared sample and validation
# --------------------------------------------------------------------------------------


def test_shared_sample_loads_typed_with_all_classes(cache):
    table = load_sdss()
    assert list(table.columns[: len(REQUIRED_COLUMNS)]) == list(REQUIRED_COLUMNS)
    assert len(table) == 10_000
    assert table["class"].value_counts().to_dict() == {"GALAXY": 4998, "STAR": 4152, "QSO": 850}
    assert str(table["class"].dtype) == "category"
    assert all(table[b].dtype == "float64" for b in "ugriz")
    assert table[list("ugriz")].min().min() >= 0 and table[list("ugriz")].max().max() <= 30
    assert "shared" in table.attrs["source"] and "4,152 stars" in table.attrs["source"]
    assert not full_sample_cached()


def test_add_colours_are_differences_of_magnitudes():
    table = add_colours(pd.DataFrame({b: [20.0, 18.0] for b in "ugriz"} | {"g": [19.0, 17.5]}))
    assert table["u-g"].tolist() == [1.0, 0.5] and table["g-r"].tolist() == [-1.0, -0.5]


def _write_csv(path: Path, mutate) -> Path:
    shared = pd.read_csv(shared_sample_path(), nrows=50)
    mutate(shared)
    shared.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda t: t.__delitem__("g"), "missing column(s) g"),
        (lambda t: t.__setitem__("r", t["r"].where(t.index != 7)), "missing values: line 9"),
        (lambda t: t.loc.__setitem__((3, "u"), -9999.0), "magnitude u outside 0..30 in line 5"),
        (lambda t: t.loc.__setitem__((10, "class"), "PLANET"), "unknown class 'PLANET'"),
        (lambda t: t.__setitem__("z", t["z"].astype(object).where(t.index != 2, "bright")),
         "column 'z' is not numeric in line 4"),
    ],
)
def test_bad_rows_are_named_in_the_error(tmp_path, mutate, message):
    path = _write_csv(tmp_path / "bad.csv", mutate)
    with pytest.raises(CorruptDataError) as err:
        load_sdss(path)
    assert message in str(err.value) and "bad.csv" in str(err.value)


def test_a_modified_shared_sample_fails_its_checksum(tmp_path, monkeypatch):
    data = tmp_path / "data"
    (data / "sdss").mkdir(parents=True)
    original = shared_sample_path()
    text = original.read_text().replace("STAR", "QSO", 1)
    (data / SHARED_SAMPLE).write_text(text)
    monkeypatch.setenv("COURSE_DATA_DIR", str(data))
    with pytest.raises(CorruptDataError, match="sha256"):
        load_sdss(source="shared")
    shutil.rmtree(data / "sdss")
    with pytest.raises(DataNotFoundError, match="does not exist"):
        load_sdss(source="shared")


def test_unknown_source_is_rejected():
    with pytest.raises(ValueError, match="'auto', 'shared' or 'full'"):
        load_sdss(source="everything")


# --------------------------------------------------------------------------------------
# A local stand-in for SkyServer's SqlSearch service
# --------------------------------------------------------------------------------------


class _SkyServer(http.server.BaseHTTPRequestHandler):
    requests: list[dict] = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        parsed = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(parsed.query)
        type(self).requests.append({"path": parsed.path, **{k: v[0] for k, v in query.items()}})
        if parsed.path == "/slow":
            time.sleep(3)
        if parsed.path in ("/csv", "/slow"):
            body, status, kind = ("#Table1\n" + "\n".join(STAR_ROWS) + "\n").encode(), 200, "text/plain"
        elif parsed.path == "/errorpage":  # SkyServer reports SQL errors as an HTML page
            body = b"<html><body><h1>Error</h1><p>Incorrect syntax near 'FORM'.</p></body></html>"
            status, kind = 200, "text/html"
        elif parsed.path == "/servererror":
            body, status, kind = b"Internal Server Error", 500, "text/plain"
        else:
            body, status, kind = b"not found", 404, "text/plain"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            pass


@pytest.fixture(scope="module")
def skyserver():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SkyServer)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _cached(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.rglob("*") if p.is_file()) if cache.exists() else []


def test_query_sends_sql_as_csv_request_and_caches_with_a_checksum(skyserver, cache):
    _SkyServer.requests.clear()
    sql = "SELECT TOP 3 p.objid FROM PhotoObj AS p"
    table = query_skyserver(sql, url=f"{skyserver}/csv")
    assert list(table.columns) == STAR_ROWS[0].split(",") and len(table) == 3
    assert _SkyServer.requests == [{"path": "/csv", "cmd": sql, "format": "csv"}]
    files = _cached(cache)
    assert [f.rsplit(".", 1)[1] for f in files] == ["csv", "sha256", "sql"]
    again = query_skyserver(sql, url=f"{skyserver}/csv")  # served from the cache
    assert len(_SkyServer.requests) == 1
    pd.testing.assert_frame_equal(table, again)
    # a corrupted cache is detected, named, and a refresh repairs it
    csv = next(cache.rglob("*.csv"))
    csv.write_text(csv.read_text().replace("19.47", "99.47"))
    with pytest.raises(CorruptDataError, match="checksum"):
        query_skyserver(sql, url=f"{skyserver}/csv")
    repaired = query_skyserver(sql, url=f"{skyserver}/csv", refresh=True)
    pd.testing.assert_frame_equal(repaired, table)


@pytest.mark.parametrize(
    "path, error, message",
    [
        ("/errorpage", DataError, "Incorrect syntax near 'FORM'"),
        ("/servererror", DataError, "HTTP 500"),
        ("/slow", DataError, "no answer within 0.5 s"),
    ],
)
def test_failed_queries_raise_clear_errors_and_cache_nothing(skyserver, cache, path, error, message):
    with pytest.raises(error, match=message):
        query_skyserver("SELECT 1", url=f"{skyserver}{path}", timeout=0.5)
    assert _cached(cache) == []


def test_unreachable_service_points_to_the_shared_sample(cache):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DataNotFoundError, match="shared sample"):
        query_skyserver("SELECT 1", url=f"http://127.0.0.1:{port}/x", timeout=2)
    assert _cached(cache) == []


def test_auto_source_prefers_the_cached_full_sample(skyserver, cache):
    query_skyserver(LECTURE_STAR_QUERY, url=f"{skyserver}/csv")
    assert full_sample_cached()
    table = load_sdss()
    assert len(table) == 3 and set(table["class"]) == {"STAR"}
    assert table["objid"].iloc[0] == 1237648720693755918
    assert "full DR18 star sample" in table.attrs["source"]
    assert len(load_sdss(source="shared")) == 10_000


# --------------------------------------------------------------------------------------
# Network inputs
# --------------------------------------------------------------------------------------


def test_star_inputs_split_standardise_and_drop_failed_photometry():
    from utils.sdss import failed_photometry, star_inputs

    table = load_sdss(source="shared")
    stars = table[table["class"] == "STAR"]
    assert failed_photometry(stars).sum() == 4
    data = star_inputs(table, seed=0)
    sizes = (len(data.x_train), len(data.x_val), len(data.x_test))
    assert sum(sizes) == 4152 - 4 and sizes[0] == round(0.6 * 4148)
    assert data.x_train.dtype == torch.float32 and data.x_train.shape[1] == 5
    torch.testing.assert_close(data.x_train.mean(0), torch.zeros(5), atol=1e-5, rtol=0)
    torch.testing.assert_close(data.x_train.std(0, unbiased=False), torch.ones(5), atol=1e-5, rtol=0)
    # the round trip back to magnitudes, and no star in two splits
    back = data.magnitudes(data.x_test)
    assert abs(back - data.tables["test"][list("ugriz")].to_numpy()).max() < 1e-4
    ra = [set(t["ra"]) for t in data.tables.values()]
    assert not (ra[0] & ra[1] or ra[0] & ra[2] or ra[1] & ra[2])
    assert len(star_inputs(table, seed=0, max_colour=None).x_train) == round(0.6 * 4152)


def test_colour_inputs_hold_the_same_stars_as_magnitude_inputs_and_no_brightness():
    from utils.sdss import COLOURS, star_inputs

    table = load_sdss(source="shared")
    mags, colours = star_inputs(table, seed=0), star_inputs(table, seed=0, features="colours")
    assert colours.features == COLOURS and colours.x_train.shape[1] == 4
    for split in ("train", "val", "test"):
        assert (mags.tables[split]["ra"] == colours.tables[split]["ra"]).all()
    test = colours.tables["test"]
    expected = test[list("ugri")].to_numpy() - test[list("griz")].to_numpy()
    assert abs(colours.magnitudes(colours.x_test) - expected).max() < 1e-4
    # brightening every star by one magnitude in all bands leaves the input unchanged
    brighter = test.copy()
    brighter[list("ugriz")] -= 1.0
    torch.testing.assert_close(colours.standardize(brighter), colours.x_test, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="features must be one of"):
        star_inputs(table, features="fluxes")
