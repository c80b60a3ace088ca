"""Check the course's trained networks against the quality targets of the lectures.

    python -m utils.evaluate mnist

loads the committed checkpoints (or trains them, in full mode, when absent), prints each
metric with its target and exits with status 1 if one misses. Groups: ``mnist``
(chapters 2, 3), ``vae`` (chapter 5; the importance-sampled likelihood takes about
ten minutes on a laptop CPU), ``slm`` (chapter 6; full mode reruns the |k| <= 5 scan,
about five minutes and 13 GB), ``sdss`` (chapter 7) and ``lj`` (chapter 8).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch


@dataclass
class Check:
    name: str
    value: float
    target: str
    passed: bool
    detail: str = ""


def _at_most(name: str, value: float, limit: float, fmt: str, detail: str = "") -> Check:
    return Check(name, float(value), f"<= {limit:{fmt}}", bool(value <= limit), detail)


def _at_least(name: str, value: float, limit: float, fmt: str, detail: str = "") -> Check:
    return Check(name, float(value), f">= {limit:{fmt}}", bool(value >= limit), detail)


def evaluate_mnist(fast: bool = False) -> list[Check]:
    """Chapter 2 and 3 targets on the real MNIST / Fashion-MNIST test sets."""
    from sklearn.metrics import roc_auc_score

    from utils.corruption import gaussian_noise
    from utils.data import images_to_tensor, load_fashion_mnist, load_mnist
    from utils.metrics import per_image_mse, psnr
    from utils.pretrained import mnist_autoencoder, mnist_denoising_autoencoder
    from utils.train import predict

    x_test = images_to_tensor(load_mnist("test")[0])
    checks = []

    model, history = mnist_autoencoder(2, fast=fast)
    recon = predict(model, x_test)
    mse = per_image_mse(recon, x_test)
    checks.append(_at_most(
        "ConvAutoencoder (2-D latent): test MSE per pixel", mse.mean().item(), 0.040, ".3f",
        f"after {len(history.train_loss)} epochs",
    ))

    denoiser, dhistory = mnist_denoising_autoencoder(32, fast=fast)
    noisy = gaussian_noise(x_test, 0.5, torch.Generator().manual_seed(1))
    denoised = predict(denoiser, noisy)
    gain = (psnr(x_test, denoised).mean() - psnr(x_test, noisy).mean()).item()
    checks.append(_at_least(
        "Denoising AE at sigma = 0.5: PSNR gain over the noisy images [dB]", gain, 6.0,
        ".1f",
        f"noisy {psnr(x_test, noisy).mean():.2f} dB -> denoised "
        f"{psnr(x_test, denoised).mean():.2f} dB ({len(dhistory.train_loss)} epochs)",
    ))

    x_fashion = images_to_tensor(load_fashion_mnist("test")[0])
    score_fashion = per_image_mse(predict(model, x_fashion), x_fashion)
    scores = torch.cat([mse, score_fashion]).numpy()
    truth = np.r_[np.zeros(len(mse)), np.ones(len(score_fashion))]
    auc = roc_auc_score(truth, scores)
    checks.append(_at_least(
        "Anomaly detection, MNIST AE on Fashion-MNIST: ROC AUC", auc, 0.95, ".2f",
        "score = per-image reconstruction MSE",
    ))
    return checks


def evaluate_vae(fast: bool = False, k: int = 1000, n_importance: int = 500) -> list[Check]:
    """Chapter 5 targets: the 2-D ConvVAE's negative ELBO and importance-sampled -log p(x)
    on the real MNIST test set, in nats per image, for grey-value and binarized pixels."""
    from utils.data import images_to_tensor, load_mnist
    from utils.losses import likelihood_report
    from utils.pretrained import binarize, mnist_vae

    x_test = images_to_tensor(load_mnist("test")[0])
    if fast:
        n_importance = min(n_importance, 20)
    checks = []
    model, history = mnist_vae(2, fast=fast)
    r = likelihood_report(model, x_test, k=k, n_importance=n_importance)
    checks.append(_at_most(
        "ConvVAE (2-D), grey pixels: test -ELBO [nats/image]", r["neg_elbo"], 150.0, ".0f",
        f"+- {r['neg_elbo_se']:.2f}, all {r['n_test']} test digits, "
        f"{len(history.train_loss)} epochs",
    ))
    checks.append(_at_least(
        "  -ELBO minus importance-sampled -log p(x) [nats/image]", r["gap"], 0.0, ".0f",
        f"-log p(x) ~ {r['nll_is']:.2f} +- {r['nll_is_se']:.2f} vs -ELBO "
        f"{r['neg_elbo_subset']:.2f} on {r['n_importance']} test digits, k = {r['k']}; "
        f"gap +- {r['gap_se']:.2f}",
    ))
    binary, bhistory = mnist_vae(2, binarized=True, fast=fast)
    x_bin = binarize(x_test, torch.Generator().manual_seed(1))
    rb = likelihood_report(binary, x_bin, k=k, n_importance=n_importance)
    checks.append(Check(
        "ConvVAE (2-D), binarized pixels: test -ELBO [nats/image]", rb["neg_elbo"],
        "report", True, f"+- {rb['neg_elbo_se']:.2f}, {len(bhistory.train_loss)} epochs",
    ))
    checks.append(_at_least(
        "  -ELBO minus importance-sampled -log p(x) [nats/image]", rb["gap"], 0.0, ".0f",
        f"-log p(x) ~ {rb['nll_is']:.2f} +- {rb['nll_is_se']:.2f} vs -ELBO "
        f"{rb['neg_elbo_subset']:.2f} on {rb['n_importance']} digits, k = {rb['k']}",
    ))
    return checks


def evaluate_sdss(fast: bool = False) -> list[Check]:
    """Chapter 7 targets: the star autoencoder against PCA, and stars vs other classes."""
    from sklearn.decomposition import PCA
    from sklearn.metrics import roc_auc_score

    from utils.data import load_sdss
    from utils.metrics import per_image_mse
    from utils.pretrained import sdss_star_autoencoder
    from utils.sdss import star_inputs
    from utils.train import predict

    table = load_sdss()
    data = star_inputs(table, seed=0)
    model, history = sdss_star_autoencoder(fast=fast)
    mse_ae = torch.mean((predict(model, data.x_test) - data.x_test) ** 2).item()
    pca = PCA(n_components=2).fit(data.x_train.numpy())
    x = data.x_test.numpy()
    mse_pca = float(np.mean((pca.inverse_transform(pca.transform(x)) - x) ** 2))
    checks = [
        _at_most("Star AE (5-2-5): test MSE of standardised ugriz", mse_ae, 0.0030, ".4f",
                 f"{len(data.x_test)} test stars, {len(history.train_loss)} epochs; "
                 f"{table.attrs['source']}"),
        _at_most("  AE test MSE / PCA (2 components) test MSE", mse_ae / mse_pca, 0.8, ".1f",
                 f"PCA {mse_pca:.5f}"),
    ]

    def score(frame):
        xs = data.standardize(frame)
        return per_image_mse(predict(model, xs), xs).numpy()

    star = score(data.tables["test"])
    for cls, name, target in [("QSO", "quasars", 0.97), ("GALAXY", "galaxies", 0.93)]:
        other = score(table[table["class"] == cls])
        auc = roc_auc_score(np.r_[np.zeros(len(star)), np.ones(len(other))], np.r_[star, other])
        checks.append(_at_least(f"Stars vs {name}: ROC AUC of the reconstruction error", auc,
                                target, ".2f", f"{len(other)} {name}"))
    return checks


def evaluate_lj(fast: bool = False) -> list[Check]:
    """Chapter 8 targets: the Metropolis sampler against exact results, the VAE's
    reconstruction against the latent dimension, and the four anomaly AUCs."""
    import math

    from sklearn.metrics import roc_auc_score

    from utils.metrics import per_image_mse
    from utils.physics import lennard_jones as lj
    from utils.pretrained import LJ_LATENT_DIMS, lj_vae
    from utils.train import predict

    n_per_gamma, n_anomaly = (1_000, 500) if fast else (10_000, 2_000)
    r_min = 2 ** (1 / 6)
    triangle = np.array([[2.0, 1.0], [2.0 + r_min, 1.0], [2.0 + r_min / 2, 1.0 + r_min * math.sqrt(3) / 2]])
    energy = float(lj.potential_energy(triangle, lj.LJSystem(n_particles=3, gamma=0.5)))
    expected = -3.0 + 0.5 * triangle[:, 1].sum()
    ideal = lj.LJSystem(n_particles=4, gamma=0.5, cutoff=1e-3)
    heights = lj.sample_configurations(4000, ideal, mode="chain", n_sweeps=1000, n_chains=2000,
                                       n_decorrelation=100, seed=3).positions[..., 1]
    barometric = 1 / 0.5 - 10.0 / math.expm1(0.5 * 10.0)
    checks = [
        _at_most("LJ: |U - hand value|, triangle at the minimum (epsilon)", abs(energy - expected),
                 1e-9, ".0e", f"U = {energy:.6f}"),
        _at_most("LJ: ideal gas <y> vs barometric law, relative error", abs(heights.mean() / barometric - 1),
                 0.03, ".3f", f"<y> = {heights.mean():.3f}, exact {barometric:.3f}"),
    ]
    for gamma in lj.GAMMAS:
        rate = lj.lj_dataset(gamma, n_per_gamma).acceptance
        checks.append(Check(f"LJ: acceptance rate at gamma = {gamma}", rate, "0.1-0.6",
                            0.1 <= rate <= 0.6, "step 0.8 sigma"))

    data = lj.distance_data(n_per_gamma=n_per_gamma)
    x_test = torch.from_numpy(data.x_test)
    baseline = data.mean_matrix_mse()
    for dim in LJ_LATENT_DIMS:
        vae, _ = lj_vae(dim, 1.0, fast=fast)
        mse = data.distance_mse(predict(vae, x_test)[0])
        checks.append(_at_most(f"LJ VAE (latent {dim}): test MSE of distances (sigma^2)", mse, baseline,
                               ".2f", "target: the mean matrix of the right gamma"))

    model, _ = lj_vae(16, 1.0, fast=fast)
    normal = per_image_mse(predict(model, x_test)[0], x_test).numpy()
    targets = {"unseen gamma": 0.5, "fake potential": 0.7, "uniform random": 0.99, "corrupted": 0.5}
    for name, positions in lj.anomaly_sets(data.positions_test, n_anomaly).items():
        x = torch.from_numpy(lj.distance_channels(positions, data.box))
        score = per_image_mse(predict(model, x)[0], x).numpy()
        auc = roc_auc_score(np.r_[np.zeros(len(normal)), np.ones(len(score))], np.r_[normal, score])
        checks.append(_at_least(f"LJ VAE: ROC AUC, {name} vs test set", auc, targets[name], ".2f",
                                f"{len(score)} vs {len(normal)} configurations"))
    return checks


def evaluate_slm(fast: bool = False) -> list[Check]:
    """Chapter 6 targets: the geometry of CICY 5302, the stored scan of models, and how well
    the 2-D latent spaces of the autoencoder, the VAE and the VAE trained with KL warm-up
    separate models from random matrices of equal norm. Full mode also reruns the scan and
    compares."""
    import itertools

    from utils.physics.cicy import (
        CICY_5302, configuration_symmetries, euler_number, second_chern_class,
        triple_intersection_numbers,
    )
    from sklearn.metrics import roc_auc_score

    from utils.metrics import auc_by_bin, cross_validated_scores
    from utils.physics.cohomology import LineBundleCohomology
    from utils.physics.slm import (
        charge_norm, check_model, cohomology_condition, conditions_table, spectrum,
    )
    from utils.physics.slm_data import NORM_EDGES, slm_dataset
    from utils.physics.slm_scan import counts_by_charge_bound, load_scan, scan_models
    from utils.pretrained import slm_network
    from utils.train import latent_coordinates

    d = triple_intersection_numbers(CICY_5302)
    expected = np.zeros((6, 6, 6), dtype=np.int64)
    for r, s_, t in itertools.permutations(range(6), 3):
        expected[r, s_, t] = 2
    checks = [
        _at_most("CICY 5302: entries of d_rst off the expected 2 / 0", int((d != expected).sum()),
                 0, "d"),
        _at_most("CICY 5302: |c2(TX)_r - 24|, largest", int(np.abs(second_chern_class(CICY_5302) - 24).max()),
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
    checks.append(_at_most(
        f"SLM scan |k| <= {scan.max_charge}: stored models failing a condition 1-5", failing, 0,
        "d", f"{len(models):,} models up to order and the 48 symmetries (lecture: 17,329); "
        f"by bound {by_bound}"))
    pick = np.arange(len(models)) if not fast else np.arange(0, len(models), max(1, len(models) // 500))
    fresh_spectra = spectrum(models[pick])
    differ = int(np.any(fresh_spectra != scan.spectrum[pick], axis=1).sum())
    passes = cohomology_condition(spectra=scan.spectrum)
    checks.append(_at_most(
        f"SLM scan |k| <= {scan.max_charge}: stored spectra that differ when recomputed",
        differ, 0, "d", f"{len(pick):,} spectra recomputed; {int(passes.sum()):,} of "
        f"{len(models):,} models pass condition 6 (no anti-10, n_H >= 1)"))
    net = scan.spectrum[:, [0, 2]] - scan.spectrum[:, [1, 3]]  # n_10 - n_10bar, n_5bar - n_5
    checks.append(_at_most(
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
            checks.append(_at_least(
                f"SLM {kind.upper()}{' (KL warm-up)' if warmup else ''} ({subset}): ROC AUC, "
                "models vs random in the 2-D latent", auc,
                0.95, ".2f", f"25-NN, 5-fold; {int(data.is_model.sum())} models, "
                f"{int((~data.is_model).sum())} random; {len(history.train_loss)} epochs"
                + (f"; AUC by norm: {by_norm}" if by_norm else "")))
    return checks


GROUPS: dict[str, Callable[..., list[Check]]] = {
    "mnist": evaluate_mnist, "vae": evaluate_vae, "slm": evaluate_slm, "sdss": evaluate_sdss,
    "lj": evaluate_lj,
}


def report(checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = [f"{'metric':<{width}}  {'value':>8}  {'target':>8}  result"]
    for c in checks:
        lines.append(
            f"{c.name:<{width}}  {c.value:>8.4f}  {c.target:>8}  "
            f"{'ok' if c.passed else 'MISSED'}" + (f"   ({c.detail})" if c.detail else "")
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("groups", nargs="+", choices=sorted(GROUPS))
    parser.add_argument(
        "--fast", action="store_true",
        help="fast mode: use full checkpoints when present, else train a few steps "
        "(targets are then expected to be missed)",
    )
    args = parser.parse_args(argv)
    checks = []
    for group in args.groups:
        checks += GROUPS[group](fast=args.fast)
    print(report(checks))
    missed = [c.name for c in checks if not c.passed]
    if missed:
        print(f"\n{len(missed)} of {len(checks)} targets missed.")
        return 1
    print(f"\nAll {len(checks)} targets met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
