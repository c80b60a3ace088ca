"""Loss functions and likelihood estimates of the variational autoencoder (chapters 4, 5).

All quantities are in nats. Per-sample functions return a tensor of shape (N,): the
batch dimension is kept and everything else (pixels, latent dimensions) is summed, so
the numbers are "nats per image" as reported in the literature.

Notation: an encoder gives the mean ``mu`` and the log-variance ``logvar`` of a
diagonal Gaussian q(z | x) = N(mu, diag(exp(logvar))); the prior is p(z) = N(0, I).
"""

from __future__ import annotations

import contextlib
import math

import torch
import torch.nn.functional as F
from torch import nn

from utils.models import reparameterize

LOG_2PI = math.log(2.0 * math.pi)


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) per sample, summed over latent dimensions.

        KL = 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)

    Shapes: ``mu``, ``logvar`` (N, d) -> (N,). Works in the dtype of the inputs.
    """
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=-1)


@torch.no_grad()
def aggregate_posterior_kl(
    mu: torch.Tensor,
    logvar: torch.Tensor,
    n_samples: int = 10_000,
    generator: torch.Generator | None = None,
    chunk: int = 256,
) -> dict[str, float]:
    """Split a VAE's average KL term into information and prior mismatch, in nats.

    For N images with posteriors q(z | x_n) = N(mu_n, diag exp(logvar_n)) and the aggregate
    posterior q(z) = (1/N) sum_n q(z | x_n) (the distribution of the codes of all images
    together),

        (1/N) sum_n KL(q(z | x_n) || p(z)) = I(n; z) + KL(q(z) || p(z)),

    with p = N(0, I) and I the mutual information between the image (its index n, uniform)
    and the code, 0 <= I <= log N. The average KL is exact (closed form). I is estimated by
    Monte Carlo, I = E[log q(z | x_n) - log q(z)] over ``n_samples`` draws of n and of
    z ~ q(z | x_n), with log q(z) exact by log-sum-exp over all N components (a bounded,
    low-variance integrand); KL(q(z) || p(z)) is the difference. Shapes: ``mu``, ``logvar``
    (N, d); computed in float64. Returns ``average_kl``, ``mutual_information`` (with its
    standard error ``se``, which the aggregate KL shares), ``aggregate_kl`` and ``log_n``.
    """
    mu, logvar = mu.double().cpu(), logvar.double().cpu()
    n, d = mu.shape
    var = logvar.exp()
    pick = torch.randint(0, n, (n_samples,), generator=generator)
    eps = torch.randn(n_samples, d, generator=generator, dtype=torch.float64)
    z = mu[pick] + var[pick].sqrt() * eps
    log_norm = -0.5 * (d * math.log(2 * math.pi) + logvar.sum(-1))  # (N,)
    log_q = torch.empty(n_samples, dtype=torch.float64)
    for start in range(0, n_samples, chunk):
        zc = z[start:start + chunk, None, :]  # (c, 1, d)
        log_components = log_norm - 0.5 * ((zc - mu) ** 2 / var).sum(-1)  # (c, N)
        log_q[start:start + chunk] = torch.logsumexp(log_components, dim=1) - math.log(n)
    log_own = log_norm[pick] - 0.5 * (eps**2).sum(-1)  # log q(z | x_n) of each draw
    ratio = log_own - log_q
    average = kl_divergence(mu, logvar).mean().item()
    information = ratio.mean().item()
    return {"average_kl": average, "mutual_information": information,
            "se": (ratio.std() / math.sqrt(n_samples)).item(),
            "aggregate_kl": average - information, "log_n": math.log(n)}


def gaussian_kl(
    mean_q: torch.Tensor, cov_q: torch.Tensor, mean_p: torch.Tensor, cov_p: torch.Tensor
) -> torch.Tensor:
    """KL(N(mean_q, cov_q) || N(mean_p, cov_p)) between two general Gaussians in d dims.

        KL = 1/2 [ tr(S_p^-1 S_q) + (m_p - m_q)^T S_p^-1 (m_p - m_q) - d
                   + log det S_p - log det S_q ]

    Shapes: means (..., d), covariances (..., d, d), symmetric positive definite;
    returns (...). Uses Cholesky factors, so it fails loudly on a matrix that is not
    positive definite.
    """
    d = mean_q.shape[-1]
    chol_p = torch.linalg.cholesky(cov_p)
    chol_q = torch.linalg.cholesky(cov_q)
    # S_p^-1 S_q as a triangular solve: L_p^-1 L_q, then its squared Frobenius norm
    a = torch.linalg.solve_triangular(chol_p, chol_q, upper=False)
    trace = a.pow(2).sum(dim=(-2, -1))
    diff = (mean_p - mean_q).unsqueeze(-1)
    b = torch.linalg.solve_triangular(chol_p, diff, upper=False)
    mahalanobis = b.pow(2).sum(dim=(-2, -1))
    logdet_p = 2.0 * torch.log(torch.diagonal(chol_p, dim1=-2, dim2=-1)).sum(-1)
    logdet_q = 2.0 * torch.log(torch.diagonal(chol_q, dim1=-2, dim2=-1)).sum(-1)
    return 0.5 * (trace + mahalanobis - d + logdet_p - logdet_q)


def gaussian_log_prob(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, diag(exp(logvar))) summed over the last dimension: (..., d) -> (...)."""
    return -0.5 * (LOG_2PI + logvar + (z - mu).pow(2) / logvar.exp()).sum(dim=-1)


def bernoulli_nll(probs: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x | z) for independent Bernoulli pixels with means ``probs``, per sample.

    Equal to the binary cross-entropy summed over pixels. For binary x it is a true
    negative log-likelihood; for grey values in [0, 1] (the Keras convention) it is the
    cross-entropy, not the log of a normalised density. Shapes: (N, ...) -> (N,).
    """
    bce = F.binary_cross_entropy(probs, x, reduction="none")
    return bce.flatten(start_dim=1).sum(dim=1)


def gaussian_nll(mean: torch.Tensor, x: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    """-log N(x; mean, sigma^2 I) per sample: sum of (x - mean)^2 / (2 sigma^2) + log
    sigma + log(2 pi) / 2 over pixels. With fixed sigma it is the MSE up to a scale and a
    constant. Shapes: (N, ...) -> (N,)."""
    sq = (x - mean).pow(2).flatten(start_dim=1).sum(dim=1)
    n = x[0].numel()
    return sq / (2.0 * sigma**2) + n * (math.log(sigma) + 0.5 * LOG_2PI)


def categorical_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x | z) for independent categorical entries, per sample.

    ``logits`` (N, ..., C) are unnormalised log-probabilities over the C classes of each
    entry, ``x`` (N, ..., C) the one-hot targets (or class probabilities): the categorical
    cross-entropy summed over entries, in nats. Shapes: (N, ..., C) -> (N,).
    """
    nll = -(x * F.log_softmax(logits, dim=-1)).sum(dim=-1)
    return nll.flatten(start_dim=1).sum(dim=1)


def reconstruction_nll(
    recon: torch.Tensor, x: torch.Tensor, likelihood: str = "bernoulli", sigma: float = 1.0
) -> torch.Tensor:
    """-log p(x | z) per sample for ``likelihood`` "bernoulli", "gaussian" or
    "categorical" (``recon`` are then logits over the last axis)."""
    if likelihood == "categorical":
        return categorical_nll(recon, x)
    if likelihood == "bernoulli":
        return bernoulli_nll(recon, x)
    if likelihood == "gaussian":
        return gaussian_nll(recon, x, sigma)
    raise ValueError(
        f"unknown likelihood {likelihood!r}; use 'bernoulli' (binary cross-entropy), "
        "'gaussian' (MSE with a fixed sigma) or 'categorical' (one-hot cross-entropy)"
    )


def vae_terms(
    model: nn.Module,
    x: torch.Tensor,
    likelihood: str = "bernoulli",
    sigma: float = 1.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One-sample estimates of the two ELBO terms per image: (reconstruction NLL, KL).

    ``model`` must have ``encoder(x) -> (mu, logvar)`` and ``decoder(z) -> recon``, like
    :class:`utils.models.ConvVAE`. z is always sampled (in train and eval mode), so the
    result is an unbiased estimate of -E_q[log p(x|z)]. Shapes: x (N, ...) -> (N,), (N,).
    """
    mu, logvar = model.encoder(x)
    z = reparameterize(mu, logvar, generator)
    recon = model.decoder(z)
    return reconstruction_nll(recon, x, likelihood, sigma), kl_divergence(mu, logvar)


def vae_loss(
    model: nn.Module,
    x: torch.Tensor,
    beta: float = 1.0,
    likelihood: str = "bernoulli",
    sigma: float = 1.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The VAE loss, mean over the batch of  -log p(x|z) + beta * KL(q(z|x) || p(z)).

    With ``beta = 1`` it is the negative ELBO in nats per image (one-sample estimate);
    ``beta`` is the lambda of the lecture that weighs the KL term. Returns a scalar.
    """
    nll, kl = vae_terms(model, x, likelihood, sigma, generator)
    return (nll + beta * kl).mean()


@torch.no_grad()
def negative_elbo(
    model: nn.Module,
    x: torch.Tensor,
    samples: int = 1,
    likelihood: str = "bernoulli",
    sigma: float = 1.0,
    batch_size: int = 500,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """-ELBO per image (nats), averaging the reconstruction term over ``samples`` draws.

    The KL term is exact (closed form). Shapes: x (N, ...) -> (N,) on the CPU.
    """
    model.eval()
    device = next(model.parameters()).device
    out = []
    for start in range(0, len(x), batch_size):
        xb = x[start : start + batch_size].to(device)
        mu, logvar = model.encoder(xb)
        nll = torch.zeros(len(xb), device=device)
        for _ in range(samples):
            z = reparameterize(mu, logvar, generator)
            nll += reconstruction_nll(model.decoder(z), xb, likelihood, sigma)
        out.append((nll / samples + kl_divergence(mu, logvar)).cpu())
    return torch.cat(out)


@contextlib.contextmanager
def _channels_last(model: nn.Module):
    """Run a convolutional model with channels-last weights (1.5-2x faster transposed
    convolutions on CPUs) and restore the usual layout afterwards."""
    convolutional = any(isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) for m in model.modules())
    if not convolutional:
        yield model
        return
    model.to(memory_format=torch.channels_last)
    try:
        yield model
    finally:
        model.to(memory_format=torch.contiguous_format)


@torch.no_grad()
def importance_sampled_nll(
    model: nn.Module,
    x: torch.Tensor,
    k: int = 1000,
    likelihood: str = "bernoulli",
    sigma: float = 1.0,
    chunk: int = 250,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Importance-sampled estimate of -log p(x) per image (Burda et al. 2015), in nats.

        log p(x) ~ log (1/k) sum_i p(x | z_i) p(z_i) / q(z_i | x),   z_i ~ q(z | x)

    The estimate is a lower bound on log p(x) in expectation that tightens as k grows
    (k = 1 gives the ELBO), so -log p(x) estimates come out below the -ELBO.
    ``chunk`` samples are decoded at a time to bound memory. Shapes: x (N, ...) -> (N,).
    """
    if k < 1:
        raise ValueError(f"k must be a positive number of samples, got {k}")
    model.eval()
    device = next(model.parameters()).device
    with _channels_last(model):
        return _importance_sampled_nll(model, x, k, likelihood, sigma, chunk, generator, device)


def _importance_sampled_nll(model, x, k, likelihood, sigma, chunk, generator, device):
    out = []
    for xi in x:
        xi = xi.unsqueeze(0).to(device)
        mu, logvar = model.encoder(xi)
        log_w = []
        for start in range(0, k, chunk):
            n = min(chunk, k - start)
            mu_n, logvar_n = mu.expand(n, -1), logvar.expand(n, -1)
            z = reparameterize(mu_n, logvar_n, generator)
            recon = model.decoder(z)
            log_px_z = -reconstruction_nll(recon, xi.expand(n, *xi.shape[1:]), likelihood, sigma)
            log_pz = gaussian_log_prob(z, torch.zeros_like(z), torch.zeros_like(z))
            log_qz = gaussian_log_prob(z, mu_n, logvar_n)
            log_w.append(log_px_z + log_pz - log_qz)
        log_w = torch.cat(log_w)
        out.append(-(torch.logsumexp(log_w, 0) - math.log(k)).cpu())
    return torch.stack(out)


def likelihood_report(
    model: nn.Module,
    x: torch.Tensor,
    k: int = 1000,
    n_importance: int = 500,
    seed: int = 0,
) -> dict:
    """The honest numbers of a Bernoulli VAE on a test set, in nats per image.

    * ``neg_elbo``: mean one-sample -ELBO over all of ``x`` (unbiased), with its
      standard error ``neg_elbo_se``;
    * on a random subset of ``n_importance`` images (drawn with ``seed``): the mean
      -ELBO (``neg_elbo_subset``, 10 samples per image), the importance-sampled -log p(x)
      with ``k`` samples (``nll_is``, with ``nll_is_se``), and their paired difference
      ``gap`` (with ``gap_se``), which must be positive.
    The subset keeps the cost of k decoder passes per image affordable on a CPU.
    """
    g = torch.Generator().manual_seed(seed)
    full = negative_elbo(model, x, samples=1, generator=g)
    idx = torch.randperm(len(x), generator=g)[:n_importance]
    sub = x[idx]
    elbo_sub = negative_elbo(model, sub, samples=10, generator=g)
    nll = importance_sampled_nll(model, sub, k=k, generator=g)
    gap = elbo_sub - nll
    n = len(sub)
    return dict(
        n_test=len(x), neg_elbo=full.mean().item(),
        neg_elbo_se=(full.std() / math.sqrt(len(x))).item(),
        n_importance=n, k=k, neg_elbo_subset=elbo_sub.mean().item(),
        nll_is=nll.mean().item(), nll_is_se=(nll.std() / math.sqrt(n)).item() if n > 1 else float("nan"),
        gap=gap.mean().item(), gap_se=(gap.std() / math.sqrt(n)).item() if n > 1 else float("nan"),
    )
