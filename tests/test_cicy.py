"""Geometry of favourable CICYs: intersection numbers, Chern classes, index, symmetries."""

from __future__ import annotations

import itertools
import os

import numpy as np
import pytest

from utils.data import DataNotFoundError
from utils.physics.cicy import (
    CICY_5302,
    QUINTIC,
    configuration_symmetries,
    euler_number,
    line_bundle_index,
    load_cicy_list,
    orbit_representatives,
    second_chern_class,
    triple_intersection_numbers,
    with_dimensions,
)


def test_cicy_5302_intersection_numbers_are_two_for_distinct_indices_and_zero_otherwise():
    d = triple_intersection_numbers(CICY_5302)
    assert d.shape == (6, 6, 6) and d.dtype.kind == "i"
    for r, s, t in itertools.product(range(6), repeat=3):
        assert d[r, s, t] == (2 if len({r, s, t}) == 3 else 0)


def test_cicy_5302_topology():
    assert second_chern_class(CICY_5302).tolist() == [24] * 6
    assert euler_number(CICY_5302) == -48  # = 2 (h11 - h21) = 2 (6 - 30)


def test_quintic_topology_and_index():
    assert triple_intersection_numbers(QUINTIC).tolist() == [[[5]]]
    assert second_chern_class(QUINTIC).tolist() == [50]
    assert euler_number(QUINTIC) == -200
    # O(1) on the quintic: its 5 sections are the ambient coordinates, no higher cohomology
    assert line_bundle_index(QUINTIC, [1]) == 5
    # O(2): the 15 quadrics of P^4 restrict injectively (the quintic equation has degree 5)
    assert line_bundle_index(QUINTIC, [2]) == 15


def test_index_on_5302_matches_the_closed_form_and_serre_duality():
    rng = np.random.default_rng(0)
    assert line_bundle_index(CICY_5302, [0] * 6) == 0
    for k in rng.integers(-5, 6, size=(200, 6)):
        e1 = k.sum()
        e3 = sum(k[r] * k[s] * k[t] for r, s, t in itertools.combinations(range(6), 3))
        ind = line_bundle_index(CICY_5302, k)
        assert ind == 2 * e3 + 2 * e1
        assert line_bundle_index(CICY_5302, -k) == -ind  # Serre duality on a CY threefold


def test_every_favourable_cicy_reproduces_the_listed_c2_and_euler_number():
    """All 7,820 favourable entries of the list: c2 as listed, chi = 2 (h11 - h21)."""
    entries = load_cicy_list("favourable")
    checked = 0
    for number, entry in entries.items():
        if not entry["favour"] or len(entry["matrix"]) != entry["h11"]:
            continue
        config = with_dimensions(entry["matrix"])
        assert second_chern_class(config).tolist() == entry["c2"], number
        assert euler_number(config) == 2 * (entry["h11"] - entry["h21"]), number
        checked += 1
    assert checked == 7820
    assert with_dimensions(entries[5302]["matrix"]) == CICY_5302


def test_configuration_symmetries_form_the_expected_groups():
    group = configuration_symmetries(CICY_5302)
    assert len(group) == 48 and group[0] == tuple(range(6))
    as_set = set(group)
    for g, h in itertools.product(group, repeat=2):
        assert tuple(g[i] for i in h) in as_set  # closed under composition
    assert (1, 0, 2, 3, 4, 5) in as_set and (2, 3, 0, 1, 4, 5) in as_set
    assert (0, 2, 1, 3, 4, 5) not in as_set  # mixes two different pairs of rows
    assert configuration_symmetries(QUINTIC) == [(0,)]


def test_orbit_representatives_are_the_smallest_image_and_label_the_orbits():
    group = np.array(configuration_symmetries(CICY_5302))
    rng = np.random.default_rng(0)
    ks = rng.integers(-40, 41, size=(300, 6))  # wide charges: no packing into one code
    reps = orbit_representatives(ks, group)
    for k, rep in zip(ks, reps):
        images = sorted(tuple(k[list(g)]) for g in group)
        assert tuple(rep) == images[0]
    moved = ks[np.arange(300)[:, None], group[rng.integers(0, 48, 300)]]
    assert np.array_equal(orbit_representatives(moved, group), reps)  # same orbit, same label
    assert orbit_representatives(ks.reshape(3, 100, 6), group).shape == (3, 100, 6)
    with pytest.raises(ValueError, match=r"\(\|G\|, 6\)"):
        orbit_representatives(ks, group[:, :5])


@pytest.mark.parametrize(
    "config, message",
    [
        ([[0, 1, 1], [0, 1, 1]], "dimensions"),
        ([[0, 1, 1], [1, 1, 0]] * 3, "dimensions"),
        ([[5]], "dimension first"),
        ([[4, 4]], "Calabi-Yau condition"),
        ([[1, 2], [1, 2], [1, 2]], "threefold"),
    ],
)
def test_bad_configurations_are_rejected_with_the_reason(config, message):
    with pytest.raises(ValueError, match=message):
        triple_intersection_numbers(config)


def test_index_wants_one_charge_per_factor():
    with pytest.raises(ValueError, match="one charge per ambient factor"):
        line_bundle_index(CICY_5302, [1, 2, 3])


def test_missing_cicy_list_says_where_it_looked_and_how_to_fix_it(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    with pytest.raises(DataNotFoundError, match="COURSE_DATA_DIR"):
        load_cicy_list()
    with pytest.raises(ValueError, match="kind"):
        load_cicy_list("nonsense")
    assert os.environ["COURSE_DATA_DIR"] == str(tmp_path)
