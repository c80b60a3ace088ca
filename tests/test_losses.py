"""Tests of utils/losses.py: the KL divergence, the VAE loss and likelihood estimates,
each checked against an independent Monte Carlo estimate or an exact answer."""

from __future__ import annotations

import math

import pytest
import torch
from torch import distributions as D
from torch import nn

from utils.linear_gaussian import LinearGaussianModel
from utils.losses import (
    bernoulli_nll,
    categorical_nll,
    gaussian_kl,
    gaussian_log_prob,
    gaussian_nll,
    importance_sampled_nll,
    kl_divergence,
    negative_elbo,
    reconstruction_nll,
    vae_loss,
)
from utils.models import ConvVAE


def _random_gaussians(n=4, d=3, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(n, d, generator=g, dtype=dtype)
    logvar = 0.8 * torch.randn(n, d, generator=g, dtype=dtype)
    return mu, logvar


def test_kl_divergence_matches_monte_carlo_to_one_percent():
    mu, logvar = _random_gaussians()
    q = D.Normal(mu, torch.exp(0.5 * logvar))
    p = D.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    z = q.sample((400_000,))  # (S, N, d)
    mc = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean(0)
    exact = kl_divergence(mu, logvar)
    assert exact.shape == (4,)
    torch.testing.assert_close(exact, mc, rtol=0.01, atol=0.0)


def test_kl_divergence_is_zero_at_the_prior_and_positive_elsewhere():
    zeros = torch.zeros(5, 2)
    assert torch.equal(kl_divergence(zeros, zeros), torch.zeros(5))
    mu, logvar = _random_gaussians(n=100, d=2, dtype=torch.float32)
    assert (kl_divergence(mu, logvar) > 0).all()


def test_kl_divergence_keeps_float64():
    mu, logvar = _random_gaussians()
    assert kl_divergence(mu, logvar).dtype == torch.float64


def test_gaussian_kl_agrees_with_the_diagonal_formula_and_torch_distributions():
    mu, logvar = _random_gaussians(n=3, d=4)
    cov_q = torch.diag_embed(logvar.exp())
    eye = torch.eye(4, dtype=torch.float64).expand(3, 4, 4)
    torch.testing.assert_close(gaussian_kl(mu, cov_q, torch.zeros_like(mu), eye),
                               kl_divergence(mu, logvar))
    g = torch.Generator().manual_seed(3)
    a = torch.randn(3, 4, 4, generator=g, dtype=torch.float64)
    cov_p = a @ a.mT + 0.5 * torch.eye(4, dtype=torch.float64)
    mean_p = torch.randn(3, 4, generator=g, dtype=torch.float64)
    reference = D.kl_divergence(D.MultivariateNormal(mu, cov_q),
                                D.MultivariateNormal(mean_p, cov_p))
    torch.testing.assert_close(gaussian_kl(mu, cov_q, mean_p, cov_p), reference)


def test_gaussian_kl_rejects_a_matrix_that_is_not_positive_definite():
    bad = torch.tensor([[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(torch.linalg.LinAlgError):
        gaussian_kl(torch.zeros(2), bad, torch.zeros(2), torch.eye(2))


def test_bernoulli_and_gaussian_nll_match_torch_distributions():
    g = torch.Generator().manual_seed(0)
    probs = torch.rand(6, 1, 4, 4, generator=g).clamp(0.01, 0.99)
    x = torch.bernoulli(torch.full((6, 1, 4, 4), 0.5), generator=g)
    reference = -D.Bernoulli(probs=probs).log_prob(x).sum((1, 2, 3))
    torch.testing.assert_close(bernoulli_nll(probs, x), reference)
    mean = torch.randn(6, 1, 4, 4, generator=g)
    reference = -D.Normal(mean, 0.3).log_prob(x).sum((1, 2, 3))
    torch.testing.assert_close(gaussian_nll(mean, x, 0.3), reference)
    with pytest.raises(ValueError, match="bernoulli"):
        reconstruction_nll(probs, x, "poisson")


def test_categorical_nll_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(5, 30, 11, generator=g)
    classes = torch.randint(0, 11, (5, 30), generator=g)
    x = torch.nn.functional.one_hot(classes, 11).float()
    reference = -D.Categorical(logits=logits).log_prob(classes).sum(1)
    torch.testing.assert_close(categorical_nll(logits, x), reference)
    torch.testing.assert_close(reconstruction_nll(logits, x, "categorical"), reference)


def test_gaussian_log_prob_matches_torch_distributions():
    mu, logvar = _random_gaussians()
    z = torch.randn_like(mu)
    reference = D.Normal(mu, torch.exp(0.5 * logvar)).log_prob(z).sum(-1)
    torch.testing.assert_close(gaussian_log_prob(z, mu, logvar), reference)


class _TinyVAE(nn.Module):
    """A small dense VAE on 16 binary 'pixels' for fast Monte Carlo checks."""

    def __init__(self, latent_dim=2):
        super().__init__()
        torch.manual_seed(0)
        self.enc = nn.Linear(16, 2 * latent_dim)
        self.dec = nn.Sequential(nn.Linear(latent_dim, 16), nn.Sigmoid())

    def encoder(self, x):
        return self.enc(x).chunk(2, dim=-1)

    def decoder(self, z):
        return self.dec(z)


def test_vae_loss_matches_an_independent_monte_carlo_estimate_to_one_percent():
    model = _TinyVAE().double()
    g = torch.Generator().manual_seed(1)
    x = torch.bernoulli(torch.full((8, 16), 0.3, dtype=torch.float64), generator=g)
    beta = 2.5
    with torch.no_grad():
        ours = torch.stack([vae_loss(model, x, beta=beta, generator=g) for _ in range(4000)])
        # independent estimate with torch.distributions: E_q[-log p(x|z)] + beta * KL by MC
        mu, logvar = model.encoder(x)
        q = D.Normal(mu, torch.exp(0.5 * logvar))
        z = q.sample((4000,))
        recon = -D.Bernoulli(probs=model.decoder(z)).log_prob(x).sum(-1)
        kl = (q.log_prob(z) - D.Normal(0.0, 1.0).log_prob(z)).sum(-1)
        reference = (recon + beta * kl).mean()
    assert ours.mean().item() == pytest.approx(reference.item(), rel=0.01)


def test_vae_loss_is_differentiable_and_runs_on_the_conv_vae():
    model = ConvVAE()
    x = torch.rand(4, 1, 28, 28)
    loss = vae_loss(model, x)
    loss.backward()
    assert loss.ndim == 0 and torch.isfinite(loss)
    assert all(p.grad is not None for p in model.parameters())


class _LinearGaussianVAE(nn.Module):
    """Encoder and decoder of the linear Gaussian model, as torch modules."""

    def __init__(self, lg: LinearGaussianModel, exact_posterior: bool):
        super().__init__()
        self.lg = lg
        self.exact = exact_posterior
        self.W = nn.Parameter(torch.tensor(lg.W))
        self.b = torch.tensor(lg.b)

    def encoder(self, x):
        m, S = self.lg.posterior(x.numpy())
        m = torch.tensor(m)
        logvar = torch.log(torch.tensor(S.diagonal())).expand_as(m)
        if not self.exact:  # a deliberately poor q: shifted and too wide
            return m + 0.7, logvar + 1.0
        return m, logvar

    def decoder(self, z):
        return z @ self.W.T + self.b


@pytest.mark.parametrize("exact_posterior", [True, False])
def test_elbo_and_importance_sampling_on_a_model_with_exact_likelihood(exact_posterior):
    # 1-D latent, so the exact posterior is a (diagonal) Gaussian the encoder can express
    lg = LinearGaussianModel.random(data_dim=6, latent_dim=1, sigma=0.7, seed=2)
    x, _ = lg.sample(5, seed=3)
    model = _LinearGaussianVAE(lg, exact_posterior)
    exact_nll = -torch.tensor(lg.log_marginal(x))
    xt = torch.tensor(x)
    g = torch.Generator().manual_seed(0)
    nelbo = negative_elbo(model, xt, samples=2000, likelihood="gaussian", sigma=0.7,
                          generator=g)
    nll_is = importance_sampled_nll(model, xt, k=2000, likelihood="gaussian", sigma=0.7,
                                    generator=g)
    if exact_posterior:  # q = p(z|x): the bound is tight and every weight equals p(x)
        torch.testing.assert_close(nll_is, exact_nll, rtol=1e-9, atol=1e-9)
        torch.testing.assert_close(nelbo, exact_nll, rtol=0.01, atol=0.0)  # MC error only
    else:  # -ELBO lies well above -log p(x); importance sampling closes most of the gap
        assert (nelbo > exact_nll + 0.5).all()
        assert ((nll_is - exact_nll).abs() < 0.1 * (nelbo - exact_nll)).all()


def test_importance_sampling_rejects_zero_samples():
    with pytest.raises(ValueError, match="positive"):
        importance_sampled_nll(ConvVAE(), torch.rand(1, 1, 28, 28), k=0)


def test_importance_sampled_nll_is_below_the_elbo_for_the_conv_vae():
    model = ConvVAE()
    x = torch.bernoulli(torch.full((3, 1, 28, 28), 0.2), generator=torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(1)
    nelbo = negative_elbo(model, x, samples=50, generator=g)
    nll = importance_sampled_nll(model, x, k=50, chunk=20, generator=g)
    assert nll.shape == (3,) and torch.isfinite(nll).all()
    assert (nll <= nelbo + 1e-3).all()
    assert math.isfinite(float(nll.mean()))


def test_the_average_kl_splits_into_information_and_the_aggregate_posteriors_mismatch():
    """(1/N) sum KL(q(z|x_n) || p) = I + KL(q(z) || p): zero for posteriors equal to the
    prior; for posteriors N(mu_n, s^2) with mu_n ~ N(0, 1 - s^2) the codes together fill
    the prior (aggregate KL ~ 0) and all of the average KL, -d ln s, is information; for
    narrow, far-apart posteriors the information is log N and the mismatch is large."""
    import math

    from utils.losses import aggregate_posterior_kl

    g = torch.Generator().manual_seed(0)
    r = aggregate_posterior_kl(torch.zeros(500, 2), torch.zeros(500, 2), 4000, g)
    assert abs(r["average_kl"]) < 1e-12 and abs(r["aggregate_kl"]) < 1e-9
    s = 0.5
    mu = torch.randn(3000, 2, generator=g, dtype=torch.float64) * math.sqrt(1 - s**2)
    r = aggregate_posterior_kl(mu, torch.full_like(mu, math.log(s**2)), 20_000, g)
    assert abs(r["average_kl"] - 2 * math.log(2)) < 0.05  # -d ln s with d = 2
    assert abs(r["aggregate_kl"]) < 0.03 and abs(r["mutual_information"] - 2 * math.log(2)) < 0.06
    far = torch.stack([torch.arange(200.0) * 10, torch.zeros(200)], 1)
    r = aggregate_posterior_kl(far, torch.full_like(far, math.log(1e-4)), 4000, g)
    assert abs(r["mutual_information"] - math.log(200)) < 0.01 and r["aggregate_kl"] > 100
