"""Chapter 7, SDSS stars: the star autoencoder and its quality targets.

Recipes
    :func:`sdss_star_autoencoder` -- Prosper's 5 -> 2 -> 5 autoencoder of standardised
    ugriz magnitudes, or (``features="colours"``) the same network on the four colours
    u-g, g-r, r-i, i-z (4 -> 2 -> 4), the control that cannot see brightness; seeds 0, 1,
    2 (:data:`SEEDS`), from a :class:`StarAutoencoderConfig`.
Evaluation
    :func:`anomaly_aucs` -- ROC AUCs of stars against quasars and galaxies for the
    reconstruction error of both networks and for the brightness alone (r magnitude).
Targets (``python -m utils.evaluate sdss``)
    test MSE <= 0.0030 and below 0.8 times PCA's with two components; stars vs quasars
    and galaxies by reconstruction error, ROC AUC >= 0.97 and >= 0.93; the colour-only
    control still separates quasars (AUC >= 0.95), so the score is not brightness alone.
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
    ``split_seed``, ``max_colour`` (stars with a neighbouring-band colour beyond it are
    dropped) and ``features`` ("magnitudes" or "colours"), 60 % training, 20 %
    validation. ``seed``: initial weights and batch order.
    """

    sample: str
    epochs: int
    features: str = "magnitudes"
    latent_dim: int = 2
    split_seed: int = 0
    max_colour: float = 4.0
    batch_size: int = 64
    lr: float = 1e-3
    cosine_lr: bool = True
    seed: int = 0


SEEDS = (0, 1, 2)
FEATURES = ("magnitudes", "colours")


def sdss_star_autoencoder(
    features: str = "magnitudes",
    seed: int = 0,
    fast: bool | None = None,
    retrain: bool = False,
    device: torch.device | str | None = None,
) -> tuple[StarAutoencoder, History]:
    """Prosper's 5 -> 2 -> 5 autoencoder of standardised ugriz star magnitudes (chapter 7),
    or with ``features="colours"`` the same network on the four colours (4 -> 2 -> 4).

    Trained with the MSE on the training split of :func:`utils.sdss.star_inputs` (60 % of
    the stars of :func:`utils.data.load_sdss`, split seed 0), validated on 20 %. Full
    mode: 400 epochs on the shared sample (fewer on a larger one, for the same number of
    steps), batch 64, Adam with lr 1e-3 decayed along a cosine (about a minute on a CPU).
    Fast mode: 20 epochs. ``seed`` sets the initial weights and the batch order (name
    suffix ``_seed<n>`` for n > 0); the split is the same for every seed. Checkpoints:
    ``sdss_star_ae`` (magnitudes), ``sdss_colour_ae`` (colours).
    """
    from utils.sdss import FEATURES as INPUTS
    from utils.sdss import full_sample_cached, load_sdss, star_inputs

    if features not in INPUTS:
        raise ValueError(f"features must be one of {sorted(INPUTS)}, got {features!r}")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
    sample = "full" if full_sample_cached() else "shared"
    probe = StarAutoencoderConfig(sample, epochs=0, features=features, seed=seed)
    stars = star_inputs(load_sdss(source=sample), seed=probe.split_seed,
                        max_colour=probe.max_colour, features=features)
    epochs = max(3, round(SHARED_EPOCHS * SHARED_TRAINING_STARS / len(stars.x_train)))
    config = probe.replace(epochs=epochs)

    def train(model: torch.nn.Module, config: StarAutoencoderConfig) -> History:
        return fit(model, stars.x_train, loss_fn=reconstruction_loss, val_data=stars.x_val,
                   epochs=config.epochs, batch_size=config.batch_size, lr=config.lr,
                   cosine_lr=config.cosine_lr, seed=config.seed)

    n_features = len(INPUTS[features])
    make = seeded(lambda: StarAutoencoder(n_features, latent_dim=config.latent_dim), seed)
    name = ("sdss_star_ae" if features == "magnitudes" else "sdss_colour_ae")
    name += f"_seed{seed}" if seed else ""
    return load_or_train_recipe(name, make, train, config,
                                config.replace(epochs=20), fast, retrain, device)


def anomaly_aucs(features: str = "magnitudes", seed: int = 0, fast: bool | None = None,
                 table=None) -> dict[str, float]:
    """ROC AUCs of test stars against all quasars ("QSO") and galaxies ("GALAXY") of the
    sample, scored by the reconstruction error (mean squared, standardised units) of
    :func:`sdss_star_autoencoder` with these ``features`` and ``seed``. Higher score =
    more anomalous."""
    from sklearn.metrics import roc_auc_score

    from utils.metrics import per_image_mse
    from utils.sdss import load_sdss, star_inputs
    from utils.train import predict

    table = load_sdss() if table is None else table
    data = star_inputs(table, seed=0, features=features)
    model, _ = sdss_star_autoencoder(features, seed, fast=fast, device="cpu")

    def score(frame):
        x = data.standardize(frame)
        return per_image_mse(predict(model, x), x).numpy()

    star = score(data.tables["test"])
    aucs = {}
    for cls in ("QSO", "GALAXY"):
        other = score(table[table["class"] == cls])
        aucs[cls] = float(roc_auc_score(np.r_[np.zeros(len(star)), np.ones(len(other))],
                                        np.r_[star, other]))
    return aucs


def brightness_aucs(table=None, band: str = "r") -> dict[str, float]:
    """ROC AUCs of the same test stars against quasars and galaxies with the apparent
    magnitude in ``band`` alone as the score (fainter = more anomalous): what brightness
    and target selection give without any colour information."""
    from sklearn.metrics import roc_auc_score

    from utils.sdss import load_sdss, star_inputs

    table = load_sdss() if table is None else table
    star = star_inputs(table, seed=0).tables["test"][band].to_numpy()
    return {cls: float(roc_auc_score(
        np.r_[np.zeros(len(star)), np.ones((table["class"] == cls).sum())],
        np.r_[star, table.loc[table["class"] == cls, band].to_numpy()]))
        for cls in ("QSO", "GALAXY")}


RECIPES = {"sdss_star_autoencoder": sdss_star_autoencoder}
# The networks the book shows, committed full-mode checkpoints: (recipe, args, kwargs)
COMMITTED = tuple(("sdss_star_autoencoder", (features,), {"seed": seed})
                  for features in FEATURES for seed in SEEDS)


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
    # The control: colours only, so no brightness; quasars must still stand out
    colour = [anomaly_aucs("colours", seed, fast=fast, table=table) for seed in SEEDS]
    low = min(a["QSO"] for a in colour)
    bright = brightness_aucs(table)
    checks.append(at_least("  colour-only AE (4-2-4), stars vs quasars: lowest AUC of 3 seeds",
                           low, 0.95, ".2f",
                           f"r magnitude alone: {bright['QSO']:.2f}"))
    return checks
