"""Chapter 5, the variational autoencoder on MNIST: its networks and quality targets.

Recipes
    :func:`mnist_vae` -- the convolutional VAE of Schneider's lecture with the Bernoulli
    likelihood (grey-value or dynamically binarized pixels); :func:`mnist_vae_beta` -- the
    same network with the KL term weighted by ``beta`` (the rate-distortion sweep over
    :data:`BETA_SWEEP`). Both train from a :class:`VAEConfig`.
Targets (``python -m utils.evaluate vae``)
    test -ELBO <= 150 nats per image for grey-value pixels, and a non-negative gap between
    the -ELBO and the importance-sampled -log p(x) for both pixel models.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from utils.data import image_tensors
from utils.losses import vae_loss
from utils.models import ConvVAE, init_output_bias_
from utils.recipes import FAST_IMAGES, RecipeConfig, load_or_train_recipe, print_epoch, seeded
from utils.targets import Check, at_least, at_most
from utils.train import History, fit

EVALUATE_GROUP = "vae"

BETA_SWEEP = (0.1, 0.3, 1.0, 3.0, 10.0)
BINARIZED_TEST_SEED = 1  # the test set is binarized once, with this seed


@dataclass(frozen=True)
class VAEConfig(RecipeConfig):
    """Training of the MNIST ConvVAE: loss = Bernoulli NLL + ``beta`` * KL per image.

    ``binarized``: every training batch is binarized anew (:func:`binarize`) and the test
    set once with :data:`BINARIZED_TEST_SEED`; otherwise grey values in [0, 1] are the
    targets of the binary cross-entropy (the Keras example's convention).
    """

    latent_dim: int
    beta: float
    binarized: bool
    epochs: int
    batch_size: int = 128
    lr: float = 1e-3
    cosine_lr: bool = True
    n_train: int | None = None
    n_test: int | None = None
    data: str = "mnist"
    seed: int = 0

    def fast(self) -> "VAEConfig":
        """The fast-mode version: 1 epoch on 2,000 digits, batch 64, constant lr 1e-3."""
        return self.replace(**FAST_IMAGES)


def binarize(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Stochastic binarization: each pixel becomes 1 with probability equal to its grey
    value (the convention of the VAE likelihood literature, e.g. Burda et al. 2015)."""
    return torch.bernoulli(x, generator=generator)


def train_vae(model: nn.Module, config: VAEConfig) -> History:
    """Train ``model`` in place as ``config`` says; the validation loss is the one-sample
    -ELBO (with ``beta``) on the test digits, in nats per image."""
    torch.manual_seed(config.seed)
    x_train, x_test = image_tensors(config.data, config.n_train, config.n_test)
    if config.binarized:
        x_test = binarize(x_test, torch.Generator().manual_seed(BINARIZED_TEST_SEED))

        def loss_fn(m, x):
            return vae_loss(m, binarize(x), beta=config.beta)
    else:
        def loss_fn(m, x):
            return vae_loss(m, x, beta=config.beta)

    init_output_bias_(model, x_train.mean().item())
    return fit(model, x_train, loss_fn=loss_fn, val_data=x_test, epochs=config.epochs,
               batch_size=config.batch_size, lr=config.lr, cosine_lr=config.cosine_lr,
               seed=config.seed, on_epoch_end=print_epoch)


def _vae(name: str, config: VAEConfig, fast, retrain, device):
    make = seeded(lambda: ConvVAE(config.latent_dim))
    return load_or_train_recipe(name, make, train_vae, config, config.fast(), fast, retrain,
                                device)


def mnist_vae(
    latent_dim: int = 2,
    binarized: bool = False,
    fast: bool | None = None,
    retrain: bool = False,
    device: torch.device | str | None = None,
) -> tuple[ConvVAE, History]:
    """The convolutional MNIST VAE of chapter 5 with the Bernoulli likelihood, beta = 1.

    ``binarized=False``: grey values in [0, 1] as targets of the binary cross-entropy
    (the Keras example's convention). ``binarized=True``: every batch is binarized anew
    (dynamic binarization), the test set once with a fixed seed. Full mode: 20 epochs (10
    for the binarized variant, which only serves for comparison with the literature) on
    all 60,000 digits, batch 128, Adam with lr 1e-3 decayed along a cosine; the test loss
    (one-sample -ELBO in nats per image) is recorded after every epoch. Fast mode: 1
    epoch on 2,000 digits.
    """
    config = VAEConfig(latent_dim, beta=1.0, binarized=binarized, epochs=10 if binarized else 20)
    tag = "_binarized" if binarized else ""
    return _vae(f"mnist_vae_z{latent_dim}{tag}", config, fast, retrain, device)


def mnist_vae_beta(
    beta: float,
    fast: bool | None = None,
    retrain: bool = False,
    device: torch.device | str | None = None,
) -> tuple[ConvVAE, History]:
    """A 2-D-latent ConvVAE trained with the KL term weighted by ``beta`` (chapter 5's
    trade-off curve, beta in :data:`BETA_SWEEP`). A smaller budget than
    :func:`mnist_vae` so that the sweep stays affordable on a CPU, the same for every
    beta: full mode 6 epochs on the first 20,000 training digits, grey-value pixels."""
    config = VAEConfig(2, beta=float(beta), binarized=False, epochs=6, n_train=20000)
    return _vae(f"mnist_vae_z2_beta{beta:g}", config, fast, retrain, device)


RECIPES = {"mnist_vae": mnist_vae, "mnist_vae_beta": mnist_vae_beta}
# The networks the book shows, each a committed full-mode checkpoint: (recipe, args, kwargs)
COMMITTED = (("mnist_vae", (2,), {}), ("mnist_vae", (2,), {"binarized": True}),
             *(("mnist_vae_beta", (beta,), {}) for beta in BETA_SWEEP))


def targets(fast: bool = False, k: int = 1000, n_importance: int = 500) -> list[Check]:
    """The 2-D ConvVAE's negative ELBO and importance-sampled -log p(x) on the real MNIST
    test set, in nats per image, for grey-value and binarized pixels."""
    from utils.losses import likelihood_report

    _, x_test = image_tensors("mnist")
    if fast:
        n_importance = min(n_importance, 20)
    checks = []
    model, history = mnist_vae(2, fast=fast)
    r = likelihood_report(model, x_test, k=k, n_importance=n_importance)
    checks.append(at_most(
        "ConvVAE (2-D), grey pixels: test -ELBO [nats/image]", r["neg_elbo"], 150.0, ".0f",
        f"+- {r['neg_elbo_se']:.2f}, all {r['n_test']} test digits, "
        f"{len(history.train_loss)} epochs",
    ))
    checks.append(at_least(
        "  -ELBO minus importance-sampled -log p(x) [nats/image]", r["gap"], 0.0, ".0f",
        f"-log p(x) ~ {r['nll_is']:.2f} +- {r['nll_is_se']:.2f} vs -ELBO "
        f"{r['neg_elbo_subset']:.2f} on {r['n_importance']} test digits, k = {r['k']}; "
        f"gap +- {r['gap_se']:.2f}",
    ))
    binary, bhistory = mnist_vae(2, binarized=True, fast=fast)
    x_bin = binarize(x_test, torch.Generator().manual_seed(BINARIZED_TEST_SEED))
    rb = likelihood_report(binary, x_bin, k=k, n_importance=n_importance)
    checks.append(Check(
        "ConvVAE (2-D), binarized pixels: test -ELBO [nats/image]", rb["neg_elbo"],
        "report", True, f"+- {rb['neg_elbo_se']:.2f}, {len(bhistory.train_loss)} epochs",
    ))
    checks.append(at_least(
        "  -ELBO minus importance-sampled -log p(x) [nats/image]", rb["gap"], 0.0, ".0f",
        f"-log p(x) ~ {rb['nll_is']:.2f} +- {rb['nll_is_se']:.2f} vs -ELBO "
        f"{rb['neg_elbo_subset']:.2f} on {rb['n_importance']} digits, k = {rb['k']}",
    ))
    return checks
