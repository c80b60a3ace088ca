"""Chapter 6's data: scanned models and random matrices of equal norm, labelled and split."""

from __future__ import annotations

import numpy as np
import pytest

from utils.physics.slm import (
    charge_norm, conditions_table, random_matrices_like, slope_zero_point,
)
from utils.physics.slm_data import slm_dataset
from utils.physics.slm_scan import canonical_form, load_scan, model_index


def test_random_matrices_like_match_the_norms_and_have_c1_zero():
    models = load_scan().models[:300]
    random = random_matrices_like(models, seed=1)
    assert random.shape == models.shape
    assert np.array_equal(charge_norm(random), charge_norm(models))
    assert not random.sum(1).any() and np.abs(random).max() <= np.abs(models).max() == 5
    assert np.array_equal(random, random_matrices_like(models, seed=1))
    assert not np.array_equal(random, random_matrices_like(models, seed=2))


@pytest.mark.parametrize("subset, count", [("all", 9_710), ("K<5", 859)])
def test_dataset_has_every_model_once_and_as_many_random_matrices(subset, count):
    """The default data set is the physical one (conditions 1-5 and Q in full)."""
    from utils.physics.slm_scan import PHYSICAL_VARIANT, variant_mask

    data = slm_dataset(subset)
    assert data.variant == PHYSICAL_VARIANT
    assert data.is_model.sum() == (~data.is_model).sum() == count
    models, random = data.matrices[data.is_model], data.matrices[~data.is_model]
    assert np.array_equal(np.sort(charge_norm(models)), np.sort(charge_norm(random)))
    if subset == "K<5":
        assert charge_norm(data.matrices).max() < 5
    # both in the same canonical form (bundles by index), so the convention cannot tell
    # them apart
    assert np.array_equal(canonical_form(random, order="index"), random)
    assert np.array_equal(canonical_form(models, order="index"), models)
    # every model of the physical set once
    scan = load_scan()
    expected = variant_mask(scan, PHYSICAL_VARIANT) & (charge_norm(scan.models) < (5 if subset == "K<5" else 99))
    assert np.array_equal(np.sort(model_index(scan.models, canonical_form(models))),
                          np.flatnonzero(expected))
    # a few random matrices of small norm pass conditions 1-4; none may be a model of any
    # variant
    table = conditions_table(random)
    passing = random[np.all(np.stack(list(table.values())), axis=0)]
    assert all(slope_zero_point(v) is None for v in passing)
    assert (model_index(load_scan().models, canonical_form(random)) == -1).all()
    split = np.concatenate([data.train, data.val])
    assert np.array_equal(np.sort(split), np.arange(len(data.matrices)))
    assert abs(len(data.train) - 0.8 * len(split)) <= 1
    x = data.one_hot("val")
    assert x.shape == (len(data.val), 30, 11)
    with pytest.raises(ValueError, match="subset"):
        slm_dataset("K<6")


def test_the_two_orders_write_the_same_matrices_in_two_forms():
    by_index, by_charges = slm_dataset("K<5"), slm_dataset("K<5", order="charges")
    assert np.array_equal(canonical_form(by_index.matrices), by_charges.matrices)
    assert np.array_equal(by_charges.matrices, canonical_form(by_charges.matrices))
    assert (by_index.matrices != by_charges.matrices).any(axis=(1, 2)).mean() > 0.5
    assert np.array_equal(by_index.is_model, by_charges.is_model)
    assert np.array_equal(by_index.train, by_charges.train)
    assert "ordered by index" in by_index.source and "ordered by index" not in by_charges.source
    with pytest.raises(ValueError, match="order must be one of"):
        slm_dataset("K<5", order="norm")


@pytest.mark.parametrize("lam, k2", [(0.15, 48), (-0.05, 60)])
def test_the_tilted_sampler_has_the_uniform_distribution_at_fixed_norm(lam, k2):
    # Conditioned on K^2, matrices drawn with weight exp(-lam K^2) must be distributed like
    # uniform c1 = 0 matrices: compare statistics of both at one K^2. (Without the
    # acceptance step for the fifth bundle its mean |k_5|^2 is off by more than 30 errors.)
    from utils.physics.slm import _tilted_c1_zero_matrices, random_charge_matrices

    plain = random_charge_matrices(400_000, max_charge=2, seed=0)
    plain = plain[(plain**2).sum((1, 2)) == k2]
    rng = np.random.default_rng(0)
    tilted = np.concatenate([_tilted_c1_zero_matrices(400_000, 2, lam, rng) for _ in range(5)])
    tilted = tilted[(tilted**2).sum((1, 2)) == k2]
    assert min(len(plain), len(tilted)) > 2_000
    for statistic in (lambda V: (V[:, 4] ** 2).sum(1),     # the fifth, dependent bundle
                      lambda V: (V == 0).sum((1, 2)),       # sparsity
                      lambda V: (V[:, 0] ** 2).sum(1)):     # a free bundle
        a, b = statistic(plain).astype(float), statistic(tilted).astype(float)
        error = np.sqrt(a.var() / len(a) + b.var() / len(b))
        assert abs(a.mean() - b.mean()) < 4 * error, (a.mean(), b.mean(), error)
