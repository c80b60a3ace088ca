"""Tests of utils/linear_gaussian.py against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from utils.linear_gaussian import LinearGaussianModel, gaussian_kl_np


@pytest.fixture
def model():
    return LinearGaussianModel.random(data_dim=5, latent_dim=2, sigma=0.6, seed=1)


def test_log_marginal_matches_scipy(model):
    x, _ = model.sample(4, seed=2)
    reference = stats.multivariate_normal(model.b, model.marginal_cov()).logpdf(x)
    np.testing.assert_allclose(model.log_marginal(x), reference, rtol=1e-12)
    np.testing.assert_allclose(model.log_marginal(x[0]), reference[0], rtol=1e-12)


def test_posterior_is_bayes_theorem(model):
    # log p(z|x) = log p(x|z) + log p(z) - log p(x) must be the Gaussian returned
    x, _ = model.sample(1, seed=3)
    m, S = model.posterior(x[0])
    z = np.random.default_rng(0).normal(size=(7, 2))
    bayes = (model.log_likelihood(x[0], z) + stats.multivariate_normal(np.zeros(2)).logpdf(z)
             - model.log_marginal(x[0]))
    np.testing.assert_allclose(stats.multivariate_normal(m, S).logpdf(z), bayes, rtol=1e-10)


def test_elbo_gap_is_the_kl_to_the_posterior(model):
    x = model.sample(1, seed=4)[0][0]
    m_post, S_post = model.posterior(x)
    log_px = model.log_marginal(x)
    assert model.elbo(x, m_post, S_post) == pytest.approx(log_px, abs=1e-10)
    rng = np.random.default_rng(5)
    for _ in range(5):
        m = m_post + rng.normal(size=2)
        a = rng.normal(size=(2, 2))
        V = a @ a.T + 0.1 * np.eye(2)
        gap = log_px - model.elbo(x, m, V)
        assert gap > 0
        assert gap == pytest.approx(gaussian_kl_np(m, V, m_post, S_post), rel=1e-10)


def test_elbo_matches_a_monte_carlo_average(model):
    x = model.sample(1, seed=6)[0][0]
    m, V = np.array([0.3, -0.2]), np.array([[0.5, 0.1], [0.1, 0.3]])
    z = np.random.default_rng(7).multivariate_normal(m, V, size=400_000)
    mc = np.mean(model.log_likelihood(x, z) + stats.multivariate_normal(np.zeros(2)).logpdf(z)
                 - stats.multivariate_normal(m, V).logpdf(z))
    assert model.elbo(x, m, V) == pytest.approx(mc, rel=0.01)


def test_gaussian_kl_np_is_zero_for_identical_gaussians():
    cov = np.array([[2.0, 0.3], [0.3, 1.0]])
    assert gaussian_kl_np([1.0, 2.0], cov, [1.0, 2.0], cov) == pytest.approx(0.0, abs=1e-12)
