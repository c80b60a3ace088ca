"""The linear Gaussian latent-variable model (probabilistic PCA), where everything is exact.

    z ~ N(0, I_d),        x | z ~ N(W z + b, sigma^2 I_D)

Integrating z out gives the marginal x ~ N(b, C) with C = W W^T + sigma^2 I_D, and Bayes'
theorem gives a Gaussian posterior z | x ~ N(m(x), S) with

    S = (I_d + W^T W / sigma^2)^{-1},     m(x) = S W^T (x - b) / sigma^2 .

For a Gaussian q(z) = N(m, V) the ELBO has a closed form too, so chapter 4 can check the
identity log p(x) - ELBO(q) = KL(q || p(z | x)) to machine precision (Tipping & Bishop
1999). Everything here is NumPy in float64; x is a vector (D,) or a batch (N, D).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LOG_2PI = np.log(2.0 * np.pi)


def gaussian_kl_np(m_q, cov_q, m_p, cov_p) -> float:
    """KL(N(m_q, cov_q) || N(m_p, cov_p)) in nats for d-dimensional Gaussians."""
    m_q, m_p = np.asarray(m_q, float), np.asarray(m_p, float)
    cov_q, cov_p = np.atleast_2d(cov_q).astype(float), np.atleast_2d(cov_p).astype(float)
    d = m_q.shape[-1]
    inv_p = np.linalg.inv(cov_p)
    diff = m_p - m_q
    _, logdet_p = np.linalg.slogdet(cov_p)
    _, logdet_q = np.linalg.slogdet(cov_q)
    return 0.5 * (np.trace(inv_p @ cov_q) + diff @ inv_p @ diff - d + logdet_p - logdet_q)


@dataclass
class LinearGaussianModel:
    """p(z) = N(0, I_d), p(x | z) = N(W z + b, sigma^2 I_D); W has shape (D, d)."""

    W: np.ndarray
    b: np.ndarray
    sigma: float

    @classmethod
    def random(cls, data_dim: int, latent_dim: int, sigma: float = 0.5, seed: int = 0):
        """A model with standard-normal W and b, for experiments and tests."""
        rng = np.random.default_rng(seed)
        return cls(rng.normal(size=(data_dim, latent_dim)), rng.normal(size=data_dim), sigma)

    @property
    def data_dim(self) -> int:
        return self.W.shape[0]

    @property
    def latent_dim(self) -> int:
        return self.W.shape[1]

    def marginal_cov(self) -> np.ndarray:
        """C = W W^T + sigma^2 I, the covariance of p(x); shape (D, D)."""
        return self.W @ self.W.T + self.sigma**2 * np.eye(self.data_dim)

    def sample(self, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Draw n pairs (x, z) from the model: shapes (n, D) and (n, d)."""
        rng = np.random.default_rng(seed)
        z = rng.normal(size=(n, self.latent_dim))
        x = z @ self.W.T + self.b + self.sigma * rng.normal(size=(n, self.data_dim))
        return x, z

    def log_marginal(self, x) -> np.ndarray:
        """Exact log p(x) = log N(x; b, C) in nats; x (D,) or (N, D) -> () or (N,)."""
        x = np.asarray(x, float)
        chol = np.linalg.cholesky(self.marginal_cov())
        r = np.linalg.solve(chol, (x - self.b).T)  # (D,) or (D, N)
        logdet = 2.0 * np.log(np.diag(chol)).sum()
        return -0.5 * (self.data_dim * LOG_2PI + logdet + (r**2).sum(axis=0))

    def log_likelihood(self, x, z) -> np.ndarray:
        """log p(x | z) in nats, broadcasting over leading dimensions of x and z."""
        r = np.asarray(x, float) - (np.asarray(z, float) @ self.W.T + self.b)
        return -0.5 * ((r**2).sum(-1) / self.sigma**2
                       + self.data_dim * (LOG_2PI + 2 * np.log(self.sigma)))

    def posterior(self, x) -> tuple[np.ndarray, np.ndarray]:
        """Exact p(z | x) = N(m, S): returns m, shape (d,) or (N, d), and S, (d, d)."""
        x = np.asarray(x, float)
        S = np.linalg.inv(np.eye(self.latent_dim) + self.W.T @ self.W / self.sigma**2)
        m = (x - self.b) @ self.W @ S / self.sigma**2  # S is symmetric
        return m, S

    def elbo(self, x, m, V) -> float:
        """Closed-form ELBO for one x (D,) and q(z) = N(m, V), m (d,), V (d, d):

            E_q[log p(x|z)] = -D/2 log(2 pi sigma^2)
                              - (|x - W m - b|^2 + tr(W V W^T)) / (2 sigma^2)
            ELBO = E_q[log p(x|z)] - KL(q || N(0, I))
        """
        x, m, V = np.asarray(x, float), np.asarray(m, float), np.atleast_2d(V)
        r = x - self.W @ m - self.b
        expected_loglik = -0.5 * (
            self.data_dim * (LOG_2PI + 2 * np.log(self.sigma))
            + (r @ r + np.trace(self.W @ V @ self.W.T)) / self.sigma**2
        )
        d = self.latent_dim
        return expected_loglik - gaussian_kl_np(m, V, np.zeros(d), np.eye(d))
