"""Chapter 6's data: scanned models and random matrices of equal norm, labelled and split."""

from __future__ import annotations

import numpy as np
import pytest

from utils.physics.slm import (
    charge_norm, conditions_table, random_matrices_like, slope_zero_point,
)
from utils.physics.slm_data import slm_dataset
from utils.physics.slm_scan import canonical_form, load_scan


def test_random_matrices_like_match_the_norms_and_have_c1_zero():
    models = load_scan().models[:300]
    random = random_matrices_like(models, seed=1)
    assert random.shape == models.shape
    assert np.array_equal(charge_norm(random), charge_norm(models))
    assert not random.sum(1).any() and np.abs(random).max() <= 2
    assert np.array_equal(random, random_matrices_like(models, seed=1))
    assert not np.array_equal(random, random_matrices_like(models, seed=2))


@pytest.mark.parametrize("subset, count", [("all", 13_602), ("K<5", 2_040)])
def test_dataset_has_every_model_once_and_as_many_random_matrices(subset, count):
    data = slm_dataset(subset)
    assert data.is_model.sum() == (~data.is_model).sum() == count
    models, random = data.matrices[data.is_model], data.matrices[~data.is_model]
    assert np.array_equal(np.sort(charge_norm(models)), np.sort(charge_norm(random)))
    if subset == "K<5":
        assert charge_norm(data.matrices).max() < 5
    # both in the canonical form, so the convention cannot tell them apart
    assert np.array_equal(canonical_form(random), random)
    assert np.array_equal(canonical_form(models), models)
    # a few random matrices of small norm pass conditions 1-4; none may be a model
    table = conditions_table(random)
    passing = random[np.all(np.stack(list(table.values())), axis=0)]
    assert all(slope_zero_point(v) is None for v in passing)
    known = {m.tobytes() for m in load_scan().models.astype(np.int64)}
    assert not any(m.tobytes() in known for m in random.astype(np.int64))
    split = np.concatenate([data.train, data.val])
    assert np.array_equal(np.sort(split), np.arange(len(data.matrices)))
    assert abs(len(data.train) - 0.8 * len(split)) <= 1
    x = data.one_hot("val")
    assert x.shape == (len(data.val), 30, 11)
    with pytest.raises(ValueError, match="subset"):
        slm_dataset("K<6")
