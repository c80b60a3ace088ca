"""Line-bundle cohomology on CICY threefolds (the pyCICY wrapper) and condition 6."""

from __future__ import annotations

import itertools
import logging

import numpy as np
import pytest

from utils.physics.cicy import (
    CICY_5302, QUINTIC, line_bundle_index, load_cicy_list, with_dimensions,
)
from utils.physics.cohomology import LineBundleCohomology, cohomology_table, line_bundle_cohomology
from utils.physics.slm import LECTURE_MODEL, cohomology_condition, index, spectrum

LECTURE = LECTURE_MODEL


@pytest.fixture(scope="module")
def h5302():
    return LineBundleCohomology(CICY_5302)


def test_known_values_on_the_quintic_and_on_5302():
    # Quintic: h^0(O(d)) counts degree-d quintic-free polynomials in 5 variables, Serre
    # duality gives h^3(O(-d)) = h^0(O(d)); the trivial bundle has h^0 = h^3 = 1.
    assert line_bundle_cohomology(QUINTIC, [0]).tolist() == [1, 0, 0, 1]
    assert line_bundle_cohomology(QUINTIC, [1]).tolist() == [5, 0, 0, 0]
    assert line_bundle_cohomology(QUINTIC, [2]).tolist() == [15, 0, 0, 0]
    assert line_bundle_cohomology(QUINTIC, [-2]).tolist() == [0, 0, 0, 15]
    assert line_bundle_cohomology(QUINTIC, [5]).tolist() == [126 - 1, 0, 0, 0]
    # 5302: O(e_r) is pulled back from one P^1 (two sections, x_0 and x_1), nothing else.
    for r in range(6):
        assert line_bundle_cohomology(CICY_5302, np.eye(6, dtype=int)[r]).tolist() == [2, 0, 0, 0]
    assert line_bundle_cohomology(CICY_5302, [0] * 6).tolist() == [1, 0, 0, 1]


def test_hodge_numbers_from_the_same_machinery_match_the_cicy_list(h5302):
    entries = load_cicy_list("favourable")
    entry = next(e for e in entries.values()
                 if sorted(map(tuple, with_dimensions(e["matrix"]))) == sorted(map(tuple, CICY_5302)))
    assert h5302.hodge_numbers() == (entry["h11"], entry["h21"]) == (6, 30)
    assert LineBundleCohomology(QUINTIC).hodge_numbers() == (1, 101)


def test_alternating_sum_is_the_index_for_every_small_bundle(h5302):
    ks = np.array(list(itertools.product(range(-1, 2), repeat=6)))
    h = h5302.table(ks)
    assert (h >= 0).all()
    assert np.array_equal(h[:, 0] - h[:, 1] + h[:, 2] - h[:, 3], index(ks))
    for k in ks[::97]:
        assert h5302(k) @ [1, -1, 1, -1] == line_bundle_index(CICY_5302, k)


def test_bundles_that_need_the_maps_obey_serre_duality_and_the_symmetries(h5302):
    # h^1 and h^2 both non-zero: the Leray tableau alone cannot decide these, pyCICY has to
    # compute ranks of polynomial maps. Recompute without the orbit cache on a different
    # image under a symmetry, and on the dual bundle: h^q(L) = h^{3-q}(L*).
    rng = np.random.default_rng(0)
    ks = np.array(list(itertools.product(range(-2, 3), repeat=6)))
    ks = ks[(np.abs(ks).sum(1) <= 6) & (index(ks) == 0)]
    h = h5302.table(ks)
    needs_maps = ks[(h[:, 1] > 0) & (h[:, 2] > 0)]
    assert len(needs_maps) >= 20
    for k in needs_maps[rng.choice(len(needs_maps), 20, replace=False)]:
        expected = h5302(k)
        g = h5302.symmetries[rng.integers(1, len(h5302.symmetries))]
        assert h5302._compute(k[g]).tolist() == expected.tolist(), k
        assert h5302._compute(-k)[::-1].tolist() == expected.tolist(), k


def test_table_keeps_the_batch_shape_and_bad_input_is_named(h5302):
    ks = np.array([[[0, 0, 1, -1, 1, -1], [0, 0, 0, 0, 2, -4]],
                   [[0, 0, 0, 0, -4, 2], [1, 0, 0, 0, 0, 0]]])
    h = cohomology_table(CICY_5302, ks)
    assert h.shape == (2, 2, 4)
    assert h[0, 1].tolist() == h[1, 0].tolist()  # the same orbit (swap of two equal rows)
    with pytest.raises(ValueError, match="6 entries"):
        h5302([1, 2, 3])
    with pytest.raises(ValueError, match="integers"):
        h5302([0.5, 0, 0, 0, 0, 0])
    with pytest.raises(ValueError, match="threefold"):
        LineBundleCohomology([[1, 2]])  # a pair of points, not a threefold


def test_importing_pycicy_leaves_logging_and_numpy_alone():
    import pyCICY.pyCICY  # noqa: F401  (already imported through the wrapper)

    assert not hasattr(np, "int")
    assert all(type(h).__module__ != "pyCICY.pyCICY" for h in logging.getLogger().handlers)


def test_the_lecture_model_spectrum_has_three_net_families():
    s = spectrum(LECTURE)
    n10, n10bar, n5bar, n5 = s.tolist()
    assert n10 - n10bar == 12 and n5bar - n5 == 12  # 3 |Gamma| before the quotient
    assert cohomology_condition(spectra=s) == (n10bar == 0 and n5 >= 1)


def test_slope_zero_bundles_of_models_have_no_sections(h5302):
    # A non-trivial line bundle of slope zero at some Kahler class has h^0 = h^3 = 0: the
    # vanishing theorem that makes condition 6 a statement about h^1 and h^2 only.
    from utils.physics.slm_scan import load_scan

    models = load_scan().models[::50]
    a, b = np.triu_indices(5, 1)
    bundles = np.concatenate([models.reshape(-1, 6),
                              (models[:, a] + models[:, b]).reshape(-1, 6)])
    bundles = bundles[np.any(bundles != 0, axis=1)]
    h = h5302.table(bundles)
    assert (h[:, 0] == 0).all() and (h[:, 3] == 0).all()
