"""Chapter 7, SDSS stars: the star autoencoder and its quality targets.

Recipes
    :func:`sdss_star_autoencoder` -- Prosper's 5 -> 2 -> 5 autoencoder of standardised
    ugriz magnitudes, from a :class:`StarAutoencoderConfig`.
Targets (``python -m utils.evaluate sdss``)
    test MSE <= 0.0030 and below 0.8 times PCA's with two components; stars vs quasars
    and galaxies by reconstruction error, ROC AUC >= 0.97 and >= 0.93.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from utils.models import StarAutoencoder
from utils.recipes import RecipeConfig, load_or_train_recipe, seeded
from utils.targets import Check, at_least, at_most
from utils.train import History, fit, reconstruction_loss

EVALUATE_GROUP = "sdss"

# 400 epochs of the shared sample's 2,489 training stars: about 15,600 optimiser steps,
# kept the same on a larger sample such as the full 255,000-star query
SHARED_EPOCHS, SHARED_TRAINING_STARS = 400, 2489


@dataclass(frozen=True)
class StarAutoencoderConfig(RecipeConfig):
    """Training of the star autoencoder with the MSE.

    Data: :func:`utils.data.load_sdss` with ``source=sample`` ("shared": the shared DR14
    sample; "full": the lecture's star query), :func:`utils.sdss.star_inputs` with
    ``split_seed`` and ``max_colour`` (stars with a neighbouring-band colour beyond it are
    dropped), 60 % training, 20 % validation.
    """

    sample: str
    epochs: int
    latent_dim: int = 2
    split_seed: int = 0
    max_colour: float = 4.0
    batch_size: int = 64
    lr: float = 1e-3
    cosine_lr: bool = True
    seed: int = 0


def sdss_star_autoencoder(
    fast: bool | None = None,
    retrain: bool = False,
    device: torch.device | str | None = None,
) -> tuple[StarAutoencoder, History]:
    """Prosper's 5 -> 2 -> 5 autoencoder of standardised ugriz star magnitudes (chapter 7).

    Trained with the MSE on the training split of :func:`utils.sdss.star_inputs` (60 % of
    the stars of :func:`utils.data.load_sdss`, seed 0), validated on 20 %. Full mode: 400
    epochs on the shared sample (fewer on a larger one, for the same number of steps),
    batch 64, Adam with lr 1e-3 decayed along a cosine (about a minute on a CPU). Fast
    mode: 20 epochs.
    """
    from utils.sdss import full_sample_cached, load_sdss, star_inputs

    sample = "full" if full_sample_cached() else "shared"
    probe = StarAutoencoderConfig(sample, epochs=0)
    stars = star_inputs(load_sdss(source=sample), seed=probe.split_seed,
                        max_colour=probe.max_colour)
    epochs = max(3, round(SHARED_EPOCHS * SHARED_TRAINING_STARS / len(stars.x_train)))
    config = probe.replace(epochs=epochs)

    def train(model: torch.nn.Module, config: StarAutoencoderConfig) -> History:
        return fit(model, stars.x_train, loss_fn=reconstruction_loss, val_data=stars.x_val,
                   epochs=config.epochs, batch_size=config.batch_size, lr=config.lr,
                   cosine_lr=config.cosine_lr, seed=config.seed)

    make = seeded(lambda: StarAutoencoder(latent_dim=config.latent_dim))
    return load_or_train_recipe("sdss_star_ae", make, train, config,
                                config.replace(epochs=20), fast, retrain, device)


RECIPES = {"sdss_star_autoencoder": sdss_star_autoencoder}
# The network the book shows, a committed full-mode checkpoint: (recipe, args, kwargs)
COMMITTED = (("sdss_star_autoencoder", (), {}),)


def targets(fast: bool = False) -> list[Check]:
    """The star autoencoder against PCA, and stars vs other classes."""
    from sklearn.decomposition import PCA
    from sklearn.metrics import roc_auc_score

    from utils.metrics import per_image_mse
    from utils.sdss import load_sdss, star_inputs
    from utils.train import predict

    table = load_sdss()
    data = star_inputs(table, seed=0)
    model, history = sdss_star_autoencoder(fast=fast)
    mse_ae = torch.mean((predict(model, data.x_test) - data.x_test) ** 2).item()
    pca = PCA(n_components=2).fit(data.x_train.numpy())
    x = data.x_test.numpy()
    mse_pca = float(np.mean((pca.inverse_transform(pca.transform(x)) - x) ** 2))
    checks = [
        at_most("Star AE (5-2-5): test MSE of standardised ugriz", mse_ae, 0.0030, ".4f",
                f"{len(data.x_test)} test stars, {len(history.train_loss)} epochs; "
                f"{table.attrs['source']}"),
        at_most("  AE test MSE / PCA (2 components) test MSE", mse_ae / mse_pca, 0.8, ".1f",
                f"PCA {mse_pca:.5f}"),
    ]

    def score(frame):
        xs = data.standardize(frame)
        return per_image_mse(predict(model, xs), xs).numpy()

    star = score(data.tables["test"])
    for cls, name, target in [("QSO", "quasars", 0.97), ("GALAXY", "galaxies", 0.93)]:
        other = score(table[table["class"] == cls])
        auc = roc_auc_score(np.r_[np.zeros(len(star)), np.ones(len(other))], np.r_[star, other])
        checks.append(at_least(f"Stars vs {name}: ROC AUC of the reconstruction error", auc,
                               target, ".2f", f"{len(other)} {name}"))
    return checks
