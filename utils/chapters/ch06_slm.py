"""Chapter 6, heterotic line-bundle standard models: the networks and quality targets.

Recipes
    :func:`slm_network` -- Schneider's dense autoencoder or its VAE on one-hot models and
    random matrices of equal norm (:func:`utils.physics.slm_data.slm_dataset`), from an
    :class:`SLMNetworkConfig`.
Targets (``python -m utils.evaluate slm``)
    the geometry of CICY 5302, the stored scan of models (every condition rechecked, every
    spectrum recomputed; full mode reruns the scan), and ROC AUC >= 0.95 for separating
    models from random matrices in each network's 2-D latent space.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from utils.losses import categorical_nll, vae_loss
from utils.models import SLMAutoencoder, SLMVAE
from utils.recipes import RecipeConfig, load_or_train_recipe, seeded
from utils.storage import sha256_bytes
from utils.targets import Check, at_least, at_most
from utils.train import History, LinearWarmup, fit

EVALUATE_GROUP = "slm"

SLM_NETWORKS = {"ae": SLMAutoencoder, "vae": SLMVAE}


@dataclass(frozen=True)
class SLMNetworkConfig(RecipeConfig):
    """Training of chapter 6's autoencoder (``kind="ae"``) or VAE (``"vae"``).

    Data: :func:`~utils.physics.slm_data.slm_dataset` with ``subset`` and ``order``, made
    from the stored scan whose models have the sha256 ``models_sha256`` (first 16 hex
    digits); its ``n_train`` training matrices (labels unused). Loss: the categorical
    cross-entropy of the 30 one-hot entries, plus ``beta`` times the KL term for the VAE,
    with ``beta`` rising linearly from 0 over the first ``kl_warmup_epochs`` (0: no
    warm-up).
    """

    kind: str
    subset: str
    order: str
    models_sha256: str
    n_train: int
    epochs: int
    lr: float
    kl_warmup_epochs: int = 0
    latent_dim: int = 2
    batch_size: int = 64
    cosine_lr: bool = True
    seed: int = 0


def slm_cross_entropy(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Chapter 6's autoencoder loss: the categorical cross-entropy of the 30 one-hot
    entries (decoder logits vs the input), summed over entries, averaged over the batch."""
    return categorical_nll(model(x), x).mean()


def slm_network(
    kind: str = "ae",
    subset: str = "all",
    kl_warmup: int = 0,
    order: str = "index",
    fast: bool | None = None,
    retrain: bool = False,
    device: torch.device | str | None = None,
) -> tuple[nn.Module, History]:
    """Schneider's dense autoencoder ("ae", :class:`SLMAutoencoder`) or its VAE ("vae",
    :class:`SLMVAE`) on one-hot models and random matrices (chapter 6).

    Data: :func:`utils.physics.slm_data.slm_dataset` with ``subset`` "K<5" or "all", the
    80 % training split (labels unused). Full mode: 1,000 epochs ("K<5", about 3,500
    matrices, Adam lr 3e-3) or 300 epochs ("all", about 34,000, lr 1e-3), batch 64, the
    learning rate decayed along a cosine (one to four minutes on a CPU core); fast mode: 50
    or 15 epochs.

    ``kl_warmup`` (VAE only): the weight of the KL term rises linearly from 0 to 1 over the
    first ``kl_warmup`` epochs (KL annealing, Bowman et al. 2016, arXiv:1511.06349), the
    standard remedy for posterior collapse; the checkpoint's name and config record it.
    Validation losses are the full negative ELBO throughout.

    ``order``: the canonical form of the matrices (see ``slm_dataset``), "index" (bundles by
    their index) or "charges" (the scan's lexicographic form; name suffix ``_chargeorder``),
    kept to show in chapter 6 how much the choice of representative matters.
    """
    from utils.physics.slm_data import slm_dataset
    from utils.physics.slm_scan import load_scan

    if kind not in SLM_NETWORKS:
        raise ValueError(f"kind must be 'ae' or 'vae', got {kind!r}")
    if kl_warmup and kind != "vae" or not isinstance(kl_warmup, int) or kl_warmup < 0:
        raise ValueError(f"kl_warmup must be a whole number of epochs >= 0, and only for the "
                         f"VAE; got {kl_warmup!r} for {kind!r}")
    data = slm_dataset(subset, order=order)
    models = load_scan().models
    epochs, fast_epochs = (1000, 50) if subset == "K<5" else (300, 15)
    # On all models (ten times the data) lr 3e-3 made the VAE's loss overflow after about 40
    # epochs; 1e-3 trains both networks stably.
    lr = 3e-3 if subset == "K<5" else 1e-3
    config = SLMNetworkConfig(
        kind, subset, order, sha256_bytes(np.ascontiguousarray(models, np.int8).tobytes())[:16],
        n_train=len(data.train), epochs=epochs, lr=lr, kl_warmup_epochs=kl_warmup)
    beta = LinearWarmup(kl_warmup)

    def loss(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        if kind == "ae":
            return slm_cross_entropy(model, x)
        # categorical cross-entropy + beta KL; beta = 1 (the negative ELBO) outside training
        return vae_loss(model, x, beta=beta.value if model.training else 1.0,
                        likelihood="categorical")

    def train(model: nn.Module, config: SLMNetworkConfig) -> History:
        return fit(model, data.one_hot("train"), loss_fn=loss, val_data=data.one_hot("val"),
                   epochs=config.epochs, batch_size=config.batch_size, lr=config.lr,
                   cosine_lr=config.cosine_lr, seed=config.seed, on_epoch_end=beta)

    name = f"slm_{kind}_{'k5' if subset == 'K<5' else 'all'}"
    name += f"_klwarmup{kl_warmup}" if kl_warmup else ""
    name += "_chargeorder" if order == "charges" else ""
    make = seeded(lambda: SLM_NETWORKS[kind](latent_dim=config.latent_dim))
    return load_or_train_recipe(name, make, train, config, config.replace(epochs=fast_epochs),
                                fast, retrain, device)


RECIPES = {"slm_network": slm_network}
# The networks the book shows, each a committed full-mode checkpoint: (recipe, args, kwargs)
COMMITTED = tuple(
    ("slm_network", (kind, subset), extra) for subset in ("K<5", "all")
    for kind, extra in (("ae", {}), ("vae", {}), ("ae", {"order": "charges"}),
                        ("vae", {"kl_warmup": 100})))


def targets(fast: bool = False) -> list[Check]:
    """The geometry of CICY 5302, the stored scan of models, and how well the 2-D latent
    spaces of the autoencoder, the VAE and the VAE trained with KL warm-up separate models
    from random matrices of equal norm. Full mode also reruns the scan and compares."""
    import itertools

    from sklearn.metrics import roc_auc_score

    from utils.metrics import auc_by_bin, cross_validated_scores
    from utils.physics.cicy import (
        CICY_5302, configuration_symmetries, euler_number, second_chern_class,
        triple_intersection_numbers,
    )
    from utils.physics.cohomology import LineBundleCohomology
    from utils.physics.slm import (
        charge_norm, check_model, cohomology_condition, conditions_table, spectrum,
    )
    from utils.physics.slm_data import NORM_EDGES, slm_dataset
    from utils.physics.slm_scan import counts_by_charge_bound, load_scan, scan_models
    from utils.train import latent_coordinates

    d = triple_intersection_numbers(CICY_5302)
    expected = np.zeros((6, 6, 6), dtype=np.int64)
    for r, s_, t in itertools.permutations(range(6), 3):
        expected[r, s_, t] = 2
    checks = [
        at_most("CICY 5302: entries of d_rst off the expected 2 / 0", int((d != expected).sum()),
                0, "d"),
        at_most("CICY 5302: |c2(TX)_r - 24|, largest", int(np.abs(second_chern_class(CICY_5302) - 24).max()),
                0, "d"),
        Check("CICY 5302: Euler number", euler_number(CICY_5302), "= -48",
              euler_number(CICY_5302) == -48),
        Check("CICY 5302: symmetries of the configuration", len(configuration_symmetries(CICY_5302)),
              "= 48", len(configuration_symmetries(CICY_5302)) == 48),
    ]
    hodge = LineBundleCohomology(CICY_5302).hodge_numbers()
    checks.append(Check("CICY 5302: h11 and h21 from line-bundle cohomology", hodge[1],
                        "= (6, 30)", hodge == (6, 30), f"pyCICY gives {hodge}"))
    scan = load_scan()
    models = scan.models
    table = conditions_table(models)
    failing = int((~np.all(np.stack(list(table.values())), axis=0)).sum())
    sample = models if not fast else models[:: max(1, len(models) // 500)]
    failing += sum(not all(check_model(v).values()) for v in sample)
    by_bound = counts_by_charge_bound(models)
    checks.append(at_most(
        f"SLM scan |k| <= {scan.max_charge}: stored models failing a condition 1-5", failing, 0,
        "d", f"{len(models):,} models up to order and the 48 symmetries (lecture: 17,329); "
        f"by bound {by_bound}"))
    pick = np.arange(len(models)) if not fast else np.arange(0, len(models), max(1, len(models) // 500))
    fresh_spectra = spectrum(models[pick])
    differ = int(np.any(fresh_spectra != scan.spectrum[pick], axis=1).sum())
    passes = cohomology_condition(spectra=scan.spectrum)
    checks.append(at_most(
        f"SLM scan |k| <= {scan.max_charge}: stored spectra that differ when recomputed",
        differ, 0, "d", f"{len(pick):,} spectra recomputed; {int(passes.sum()):,} of "
        f"{len(models):,} models pass condition 6 (no anti-10, n_H >= 1)"))
    net = scan.spectrum[:, [0, 2]] - scan.spectrum[:, [1, 3]]  # n_10 - n_10bar, n_5bar - n_5
    checks.append(at_most(
        f"SLM scan |k| <= {scan.max_charge}: stored spectra without 3 net families "
        "(n_10 - n_10bar = n_5bar - n_5 = 3 |Gamma| = 12)",
        int(np.any(net != 12, axis=1).sum()), 0, "d", f"all {len(models):,} models"))
    if not fast:
        fresh = scan_models(scan.max_charge)
        same = bool(np.array_equal(fresh.models, models)
                    and np.array_equal(fresh.spectrum, scan.spectrum))
        checks.append(Check(f"SLM scan |k| <= {scan.max_charge}: rerun gives the stored models",
                            len(fresh), f"= {len(models)}", same, f"{fresh.seconds:.0f} s"))
    for subset in ("K<5", "all"):
        data = slm_dataset(subset)
        x = data.one_hot("all")
        norm = charge_norm(data.matrices)
        for kind, warmup in (("ae", 0), ("vae", 0), ("vae", 100)):
            model, history = slm_network(kind, subset, kl_warmup=warmup, fast=fast, device="cpu")
            z = latent_coordinates(model, x).numpy()
            scores = cross_validated_scores(z, data.is_model)  # 25-NN, 5-fold
            auc = roc_auc_score(data.is_model, scores)
            by_norm = "" if subset != "all" else ", ".join(
                f"K{label} {value:.2f}"
                for label, _, value in auc_by_bin(scores, data.is_model, norm, NORM_EDGES))
            checks.append(at_least(
                f"SLM {kind.upper()}{' (KL warm-up)' if warmup else ''} ({subset}): ROC AUC, "
                "models vs random in the 2-D latent", auc,
                0.95, ".2f", f"25-NN, 5-fold; {int(data.is_model.sum())} models, "
                f"{int((~data.is_model).sum())} random; {len(history.train_loss)} epochs"
                + (f"; AUC by norm: {by_norm}" if by_norm else "")))
    return checks
