"""The scan of standard-like models: canonical forms, a brute-force check, the stored scan."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from slm_cases import JOINTLY_UNSTABLE  # passes conditions 1-4, fails 5
from utils.physics.slm import (
    LECTURE_MODEL, check_model, cohomology_condition, conditions_table, index, slope_zero_point,
    spectrum,
)
from utils.physics.slm_scan import (
    SCAN_FILE,
    SYMMETRIES,
    anomaly_weight,
    canonical_form,
    compatibility_matrix,
    counts_by_charge_bound,
    load_scan,
    save_scan,
    scan_models,
    single_bundle_candidates,
    unique_models,
)

LECTURE = LECTURE_MODEL


def _closure(bundles) -> np.ndarray:
    bundles = np.asarray(bundles).reshape(-1, 6)
    return np.unique(bundles[:, SYMMETRIES].reshape(-1, 6), axis=0)


def _brute_force(bundles) -> np.ndarray:
    """Every multiset of five bundles from the list passing conditions 1-5, by enumeration."""
    combos = np.array(list(itertools.combinations_with_replacement(range(len(bundles)), 4)))
    four = bundles[combos]
    fifth = -four.sum(1)
    position = {tuple(k): i for i, k in enumerate(bundles.tolist())}
    where = np.array([position.get(tuple(k), -1) for k in fifth.tolist()])
    keep = where >= combos[:, 3]  # the fifth is in the list and last in sorted order
    V = np.concatenate([four[keep], fifth[keep][:, None]], axis=1)
    table = conditions_table(V)
    V = V[table["c1"] & table["index"] & table["pairs"] & table["anomaly"]]
    return unique_models(V[[slope_zero_point(v) is not None for v in V]])


def test_the_symmetry_group_acts_on_charges_and_has_48_elements():
    assert SYMMETRIES.shape == (48, 6)
    assert len({tuple(g) for g in SYMMETRIES}) == 48


def test_canonical_form_forgets_bundle_order_and_symmetry_but_nothing_else():
    rng = np.random.default_rng(0)
    V = rng.integers(-2, 3, size=(30, 5, 6))
    moved = np.stack([v[rng.permutation(5)][:, SYMMETRIES[rng.integers(48)]] for v in V])
    assert np.array_equal(canonical_form(V), canonical_form(moved))
    # a permutation of the six factors that is not a symmetry changes the model
    cycle = [1, 2, 0, 3, 4, 5]  # mixes the pairs of equal rows: not a symmetry
    assert cycle not in SYMMETRIES.tolist()
    assert not np.array_equal(canonical_form(LECTURE), canonical_form(LECTURE[:, cycle]))
    assert len(unique_models(np.concatenate([V, moved]))) == len(unique_models(V))


def test_canonical_form_ordered_by_index_is_the_same_model_with_bundles_by_families():
    from utils.physics.slm import index

    rng = np.random.default_rng(3)
    V = rng.integers(-3, 4, size=(40, 5, 6))
    moved = np.stack([v[rng.permutation(5)][:, SYMMETRIES[rng.integers(48)]] for v in V])
    by_index = canonical_form(V, order="index")
    assert np.array_equal(by_index, canonical_form(moved, order="index"))
    # the same model: the scan's canonical form of it is unchanged
    assert np.array_equal(canonical_form(by_index), canonical_form(V))
    ind = index(by_index)
    assert (np.diff(ind, axis=1) >= 0).all()  # most families (most negative index) first
    lecture = canonical_form(LECTURE, order="index")
    assert index(lecture).tolist() == [-8, -4, 0, 0, 0]
    assert not np.array_equal(lecture, canonical_form(LECTURE))  # a different representative
    with pytest.raises(ValueError, match="order must be one of"):
        canonical_form(V, order="norm")


def test_single_bundle_candidates_keep_every_bundle_of_the_lecture_model():
    singles = single_bundle_candidates(2)
    codes = {tuple(k) for k in singles.tolist()}
    assert all(tuple(k) in codes for k in LECTURE.tolist())
    assert anomaly_weight(LECTURE).sum() <= 36
    with pytest.raises(ValueError, match="max_charge"):
        single_bundle_candidates(0)


def test_compatibility_matrix_is_the_index_of_the_sum_of_two_bundles():
    # every bundle with charges in [-3, 3] and index in [-12, 0]: the scan's range and more
    grid = np.array(list(itertools.product(range(-3, 4), repeat=6)))
    bundles = grid[(index(grid) >= -12) & (index(grid) <= 0)]
    bundles = bundles[np.random.default_rng(1).permutation(len(bundles))[:1500]]
    pair_index = index(bundles[:, None, :] + bundles[None, :, :])  # (n, n), directly
    compatible = compatibility_matrix(bundles)
    assert np.array_equal(compatible, pair_index <= 0)
    assert compatible.any() and not compatible.all()
    assert (pair_index == 0).any()  # the boundary case, allowed by condition 3


def _small_orbit_bundles(limit: int = 90) -> np.ndarray:
    """The union of the orbits of the stored models' bundles, smallest first, up to limit."""
    models = load_scan(SCAN_FILE).models
    sizes = [len(_closure(m)) for m in models]
    bundles = np.zeros((0, 6), dtype=np.int64)
    for i in np.argsort(sizes, kind="stable"):
        union = np.unique(np.concatenate([bundles, _closure(models[i])]), axis=0)
        if len(union) <= limit:
            bundles = union
    return bundles


@pytest.mark.parametrize("case", ["orbits of small models", "orbits of an unstable one"])
def test_scan_agrees_with_brute_force_on_a_list_of_bundles(case):
    if case == "orbits of small models":
        bundles = _small_orbit_bundles()
    else:
        bundles = _closure(JOINTLY_UNSTABLE)
    assert 60 <= len(bundles) <= 100
    brute = _brute_force(bundles)
    result = scan_models(2, bundles=bundles, workers=1)
    assert np.array_equal(result.models, brute)
    assert np.array_equal(result.spectrum, spectrum(brute).reshape(-1, 4))
    assert result.counts["models after 1-6"] == result.passes_condition_6.sum()
    if case == "orbits of small models":
        assert len(brute) >= 10
    else:
        assert len(brute) == 0
        assert result.counts["models after 1-4"] == 1  # found, then refused by stability


def test_scan_refuses_a_list_that_is_not_closed_under_the_symmetries():
    with pytest.raises(ValueError, match="closed under the 48 symmetries"):
        scan_models(2, bundles=LECTURE[:2])


def test_a_scan_survives_a_round_trip_through_disk(tmp_path):
    result = scan_models(1, workers=1)
    assert len(result) == 0 and result.counts["single bundles"] == 321
    path = save_scan(result, tmp_path / "scan.npz")
    again = load_scan(path)
    assert again.counts == result.counts and again.max_charge == 1
    with pytest.raises(FileNotFoundError, match="python -m utils.physics.slm_scan"):
        load_scan(tmp_path / "missing.npz")
    small = scan_models(2, bundles=_small_orbit_bundles(), workers=1)
    assert len(small) and small.spectrum.shape == (len(small), 4)
    again = load_scan(save_scan(small, tmp_path / "small.npz"))
    assert np.array_equal(again.spectrum, small.spectrum)
    assert np.array_equal(again.n_higgs, small.spectrum[:, 3])
    from utils.physics.slm import FLAGS, model_flags

    assert set(small.flags) == set(FLAGS)  # a fresh scan flags its models, and they persist
    for name, values in model_flags(small.models, small.spectrum).items():
        assert np.array_equal(small.flags[name], values) and np.array_equal(again.flags[name], values)
    bare = scan_models(1, workers=1, cohomology=False)
    assert "models after 1-6" not in bare.counts
    with pytest.raises(ValueError, match="without cohomology"):
        bare.passes_condition_6


def test_the_stored_scan_holds_distinct_consistent_models():
    result = load_scan(SCAN_FILE)
    models = result.models
    assert result.counts["models after 1-5"] == len(models) >= 10_000
    assert np.array_equal(canonical_form(models), models)
    assert len(unique_models(models)) == len(models)
    assert np.abs(models).max() <= result.max_charge
    table = conditions_table(models)
    assert all(table[name].all() for name in table)
    rng = np.random.default_rng(0)
    for V in models[rng.choice(len(models), 200, replace=False)]:
        assert all(check_model(V).values())
    assert any(np.array_equal(m, canonical_form(LECTURE)) for m in models)
    assert sum(counts_by_charge_bound(models).values()) >= len(models)


def test_the_stored_scan_reaches_the_lectures_depth_and_contains_a_fresh_smaller_scan():
    """The stored scan has charges up to 5 (the one-hot depth); its models with charges up
    to 2 are exactly what a fresh scan with that bound finds, so the bound is the only
    difference between the two runs."""
    stored = load_scan(SCAN_FILE)
    assert stored.max_charge == 5 and np.abs(stored.models).max() == 5
    by_bound = counts_by_charge_bound(stored.models)
    assert by_bound[1] == 0 and by_bound[2] < by_bound[3] < by_bound[4] < by_bound[5]
    fresh = scan_models(2, cohomology=False)
    small = stored.models[np.abs(stored.models).max(axis=(1, 2)) <= 2]
    assert np.array_equal(fresh.models, small)
    assert fresh.counts["models after 1-5"] == by_bound[2]


def test_the_stored_spectra_are_physical_and_do_not_depend_on_the_frame():
    result = load_scan(SCAN_FILE)
    s = result.spectrum
    assert s.shape == (len(result), 4) and (s >= 0).all()
    # n_10 - n_10bar = n_5bar - n_5 = 3 |Gamma|: three net families of 10 and of 5bar
    assert (s[:, 0] - s[:, 1] == 12).all() and (s[:, 2] - s[:, 3] == 12).all()
    passes = result.passes_condition_6
    assert result.counts["models after 1-6"] == passes.sum()
    assert 0 < passes.sum() < len(result)  # condition 6 is a real cut
    # a model moved by a symmetry and reordered has the same spectrum
    rng = np.random.default_rng(1)
    pick = rng.choice(len(result), 100, replace=False)
    moved = np.stack([result.models[i][rng.permutation(5)][:, SYMMETRIES[rng.integers(48)]]
                      for i in pick])
    assert np.array_equal(spectrum(moved), s[pick])
    assert np.array_equal(cohomology_condition(moved), passes[pick])


def test_model_index_finds_stored_models_and_nothing_else():
    from utils.physics.slm_scan import model_index

    models = load_scan(SCAN_FILE).models
    pick = np.array([0, 7, len(models) - 1])
    assert model_index(models, models[pick]).tolist() == pick.tolist()
    assert model_index(models, canonical_form(JOINTLY_UNSTABLE)).tolist() == -1
    assert model_index(models, models[pick].reshape(1, 3, 5, 6)).shape == (1, 3)


def test_the_stored_scan_flags_every_model_and_counts_every_variant():
    """Every variant of the count is read off one scan: the stored flags equal the ones
    recomputed from the models and spectra, each added condition only removes models, and
    the lecture's model passes everything but the Higgs pair."""
    from utils.physics.slm import FLAGS, LECTURE_MODEL, model_flags
    from utils.physics.slm_scan import (
        PHYSICAL_VARIANT, VARIANTS, canonical_form, count_table, load_scan, model_index,
        variant_mask,
    )

    scan = load_scan()
    fresh = model_flags(scan.models, scan.spectrum)
    for name in FLAGS:
        assert np.array_equal(fresh[name], scan.flags[name]), name
    table = count_table(scan)
    assert list(table) == list(VARIANTS)
    cumulative = [table[v][scan.max_charge] for v in list(VARIANTS)[:5]]
    assert cumulative == sorted(cumulative, reverse=True) and cumulative[0] == len(scan)
    assert cumulative[-1] < cumulative[0]  # the conditions do cut
    lecture = model_index(scan.models, canonical_form(LECTURE_MODEL))
    inside = {v: bool(variant_mask(scan, v)[lecture]) for v in VARIANTS}
    assert inside["+ no anti-10"] and not inside["+ Higgs pair"] and not inside["1-6 (no Q)"]
    assert inside[PHYSICAL_VARIANT]
    for b in range(1, scan.max_charge + 1):  # the counts grow with the charge bound
        assert all(table[v][b] <= table[v][scan.max_charge] for v in VARIANTS)


def test_the_readme_quotes_the_stored_scan():
    """The README's numbers for the scan come from the stored file, not from memory."""
    from pathlib import Path

    from utils.physics.slm_scan import PHYSICAL_VARIANT, count_table

    readme = " ".join((Path(__file__).resolve().parents[1] / "README.md").read_text().split())
    scan = load_scan(SCAN_FILE)
    assert f"({len(scan):,} models up to bundle order" in readme
    assert f"{count_table(scan)[PHYSICAL_VARIANT][scan.max_charge]:,} pass Q in full" in readme
