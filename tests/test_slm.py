"""Consistency conditions of line-bundle standard-like models on CICY 5302."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from slm_cases import ANOMALY_ONE_COMPONENT, JOINTLY_UNSTABLE, PAIR_5BAR
from utils.physics.cicy import CICY_5302, configuration_symmetries, line_bundle_index
from utils.physics.slm import (
    CONE_GENERATORS,
    LECTURE_MODEL,
    c2_bundle,
    check_model,
    from_one_hot,
    one_hot,
    index,
    is_model,
    kahler_class_for,
    slope_vector,
    slope_zero_point,
    slopes,
    stability_mask,
)
from utils.physics.cicy import triple_intersection_numbers

LECTURE = LECTURE_MODEL  # the model printed in the lecture


def test_the_lectures_model_passes_every_condition():
    assert check_model(LECTURE) == dict.fromkeys(check_model(LECTURE), True)
    assert index(LECTURE).tolist() == [0, 0, -4, -8, 0]
    assert c2_bundle(LECTURE).tolist() == [22, 20, 24, 22, 18, 14]


def test_vectorised_index_and_c2_agree_with_the_general_cicy_formulas():
    d = triple_intersection_numbers(CICY_5302)
    rng = np.random.default_rng(1)
    V = rng.integers(-5, 6, size=(40, 5, 6))
    for model in V:
        assert [line_bundle_index(CICY_5302, k) for k in model] == index(model).tolist()
        general = -np.einsum("rst,as,at->r", d, model, model) / 2
        assert np.array_equal(c2_bundle(model), general)
    assert c2_bundle(V).shape == (40, 6)


@pytest.mark.parametrize(
    "model, failing",
    [(ANOMALY_ONE_COMPONENT, "anomaly"), (JOINTLY_UNSTABLE, "stability"), (PAIR_5BAR, "pairs")],
)
def test_neighbours_of_the_lecture_model_fail_exactly_one_condition(model, failing):
    result = check_model(model)
    assert [name for name, ok in result.items() if not ok] == [failing]


def test_anomaly_case_exceeds_c2_tx_in_one_component_only():
    assert (c2_bundle(ANOMALY_ONE_COMPONENT) > 24).sum() == 1


def test_joint_instability_is_not_visible_bundle_by_bundle():
    """Each bundle alone can have slope zero; the five cannot at one Kahler class."""
    for k in JOINTLY_UNSTABLE:
        values = CONE_GENERATORS @ k
        assert values.min() < 0 < values.max()
        assert slope_zero_point(k[None, :]) is not None
    assert slope_zero_point(JOINTLY_UNSTABLE) is None


def test_c1_and_index_failures():
    broken = LECTURE.copy()
    broken[0, 0] += 1
    assert not check_model(broken)["c1"]
    positive = np.array([[2, 0, 0, 0, 0, 0], [-2, 0, 0, 0, 0, 0]] + [[0] * 6] * 3)
    assert index(positive).tolist() == [4, -4, 0, 0, 0]
    assert not check_model(positive)["index"]


def test_slope_zero_point_gives_a_kahler_class_where_every_slope_vanishes():
    s = slope_zero_point(LECTURE)
    assert s is not None and np.all(s > 0) and np.all(4 * s < s.sum())
    assert np.allclose(LECTURE @ s, 0, atol=1e-9)
    t = kahler_class_for(s)
    assert np.all(t > 0)
    assert np.allclose(slopes(LECTURE, t), 0, atol=1e-9)


def _stability_cases() -> np.ndarray:
    """Matrices with c1 = 0 of every kind stability_mask must decide: stored models (all
    stable), random ones (mostly unstable), rank 3 and lower, repeated and zero bundles."""
    from utils.physics.slm_scan import load_scan

    rng = np.random.default_rng(7)
    cases = [load_scan().models[::97][:150]]
    for width in (1, 2, 3):
        V = rng.integers(-width, width + 1, size=(400, 5, 6))
        V[:, 4] = -V[:, :4].sum(1)
        cases.append(V)
    low = rng.integers(-2, 3, size=(200, 5, 6))
    low[:, 2] = low[:, 0] + low[:, 1]  # rank at most 3
    low[:, 3] = rng.integers(-1, 2, size=(200, 1)) * low[:, 0]  # often rank 2
    low[:, 4] = -low[:, :4].sum(1)
    cases.append(low)
    repeated = np.repeat(LECTURE[None], 20, axis=0)
    repeated[:10, 4] = repeated[:10, 3]  # two equal bundles, then restore c1 = 0
    repeated[:10, 0] -= repeated[:10].sum(1)[:, :]
    cases.append(repeated)
    cases.append(np.stack([JOINTLY_UNSTABLE, np.zeros((5, 6), int), LECTURE]))
    return np.concatenate(cases).astype(np.int64)


def test_vectorised_stability_decides_exactly_as_the_linear_program():
    V = _stability_cases()
    assert np.all(V.sum(1) == 0)
    mask = stability_mask(V)
    expected = np.array([slope_zero_point(v) is not None for v in V])
    assert np.array_equal(mask, expected)
    rank = np.linalg.matrix_rank(V.astype(float))
    for r in (4, 3):  # both answers occur on the exact path (rank 4) and on the fallback
        assert expected[rank == r].any() and not expected[rank == r].all()
    assert mask[-1] and not mask[-3]  # the lecture's model; the jointly unstable one
    with pytest.raises(ValueError, match="shape"):
        stability_mask(LECTURE)


def test_slope_vectors_of_kahler_classes_fill_the_cone():
    rng = np.random.default_rng(2)
    t = np.exp(rng.uniform(-4, 4, size=(5000, 6)))
    s = slope_vector(t)
    assert np.all(s > 0) and np.all(4 * s < s.sum(-1, keepdims=True))  # inside the cone
    # random interior points of the cone (positive mixtures of its generators) are reached
    for weights in rng.dirichlet(np.full(15, 0.3), size=20):
        target = weights @ CONE_GENERATORS
        t = kahler_class_for(target)
        reached = slope_vector(t)
        assert np.allclose(reached / reached.sum(), target / target.sum(), atol=1e-7)


def test_conditions_are_invariant_under_bundle_order_and_the_configuration_symmetries():
    rng = np.random.default_rng(3)
    for sigma in configuration_symmetries(CICY_5302)[::7]:
        for model in (LECTURE, ANOMALY_ONE_COMPONENT, JOINTLY_UNSTABLE):
            moved = model[rng.permutation(5)][:, list(sigma)]
            assert check_model(moved) == check_model(model)


def test_models_must_be_integer_five_by_six():
    with pytest.raises(ValueError, match="shape \\(5, 6\\)"):
        check_model(LECTURE.T)
    with pytest.raises(ValueError, match="integer"):
        is_model(LECTURE.astype(float))
    assert is_model(LECTURE) and not is_model(JOINTLY_UNSTABLE)
    assert list(itertools.chain(check_model(LECTURE))) == ["c1", "index", "pairs", "anomaly", "stability"]


def test_conditions_table_agrees_with_check_model_and_random_matrices_have_c1_zero():
    from utils.physics.slm import conditions_table, random_charge_matrices

    V = random_charge_matrices(300, max_charge=2, seed=4)
    assert V.shape == (300, 5, 6) and np.all(V.sum(1) == 0) and np.abs(V).max() <= 2
    assert np.array_equal(V, random_charge_matrices(300, max_charge=2, seed=4))
    batch = np.concatenate([V, LECTURE[None], ANOMALY_ONE_COMPONENT[None], PAIR_5BAR[None]])
    table = conditions_table(batch)
    for i, model in enumerate(batch):
        single = check_model(model)
        assert {name: bool(table[name][i]) for name in table} == {
            name: single[name] for name in table}


def test_one_hot_encoding_follows_the_lectures_6_by_5_layout_and_round_trips():
    x = one_hot(LECTURE[None])
    assert x.shape == (1, 30, 11) and x.dtype == np.float32
    assert np.all(x.sum(-1) == 1)
    # row 5 r + a holds k_a^r: the lecture's matrix read row by row
    assert [int(c) - 5 for c in x[0].argmax(-1)] == LECTURE.T.ravel().tolist()
    rng = np.random.default_rng(0)
    V = rng.integers(-5, 6, size=(20, 5, 6))
    assert np.array_equal(from_one_hot(one_hot(V)), V)
    with pytest.raises(ValueError, match="do not fit"):
        one_hot(6 * np.ones((1, 5, 6), dtype=int))


def test_lower_rank_stability_is_decided_with_an_exact_integer_certificate():
    """Models whose charges have rank below 4 (about a quarter of the stored scan) are
    decided by a linear program; its answer is certified in integers either way: a slope
    vector s in the open cone with V s = 0, or Gordan's y >= 0, y != 0 with B^T y = 0."""
    from utils.physics.slm import (
        _CONE_INEQUALITIES, _integer_nullspace, random_charge_matrices, slope_zero_point,
        stability_certificate,
    )
    from utils.physics.slm_scan import load_scan

    models = load_scan().models
    low_rank = [v for v in models if np.linalg.matrix_rank(v) < 4][:200]
    assert len(low_rank) == 200
    random = random_charge_matrices(300, max_charge=2, seed=11)
    verdicts = {True: 0, False: 0}
    for V in [*low_rank, *random]:
        stable, certificate = stability_certificate(V)
        verdicts[stable] += 1
        assert certificate.dtype == np.int64
        if stable:
            assert not np.any(V @ certificate) and np.all(_CONE_INEQUALITIES @ certificate > 0)
        else:
            B = _CONE_INEQUALITIES @ _integer_nullspace(V).T
            assert np.all(certificate >= 0) and certificate.any() and not np.any(B.T @ certificate)
        assert stable == (slope_zero_point(V) is not None)
    assert verdicts[True] >= 200 and verdicts[False] > 100  # both kinds of certificate
    assert stability_mask(np.array(low_rank)).all()


def test_the_quotient_condition_asks_indices_divisible_by_the_group_order():
    from utils.physics.slm import LECTURE_MODEL, quotient_flags

    flags = quotient_flags(LECTURE_MODEL)
    assert flags["quotient_single"] and flags["quotient_pairs"]  # indices 0, 0, -4, -8, 0
    bad = LECTURE_MODEL.copy()
    # a bundle of index -2: k = (1, 0, 0, 0, 0, -2) has e3 = 0, e1 = -1
    assert index(np.array([1, 0, 0, 0, 0, -2])) == -2
    bad[0] = [1, 0, 0, 0, 0, -2]
    assert not quotient_flags(bad)["quotient_single"]
    batch = quotient_flags(np.stack([LECTURE_MODEL, bad]))
    assert batch["quotient_single"].tolist() == [True, False]
