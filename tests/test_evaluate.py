import math

import pytest

from utils import evaluate
from utils.chapters import ch02_autoencoder, ch03_applications, ch05_vae, ch06_slm, ch07_stars, ch08_lj


def test_exit_status_says_whether_every_target_is_met(monkeypatch, capsys):
    checks = {
        "good": [evaluate.Check("a", 0.03, "<= 0.040", True)],
        "bad": [evaluate.Check("a", 0.03, "<= 0.040", True),
                evaluate.Check("b", 0.90, ">= 0.95", False, "detail")],
    }
    monkeypatch.setattr(evaluate, "GROUPS", {k: (lambda v: lambda fast: v)(v) for k, v in checks.items()})
    assert evaluate.main(["good"]) == 0
    assert "All 1 targets met." in capsys.readouterr().out
    assert evaluate.main(["bad"]) == 1
    out = capsys.readouterr().out
    assert "MISSED" in out and "1 of 2 targets missed." in out and "(detail)" in out


@pytest.mark.slow
def test_mnist_group_measures_the_real_networks_in_fast_mode(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CHECKPOINT_DIR", str(tmp_path))
    checks = evaluate.GROUPS["mnist"](fast=True)
    names = [c.name for c in checks]
    assert len(checks) == 3 and any("MSE" in n for n in names) and any("AUC" in n for n in names)
    mse, gain, auc = (c.value for c in checks)
    assert 0.0 < mse < 0.12  # one epoch on 2,000 digits: better than a blank image
    assert math.isfinite(gain) and 0.0 <= auc <= 1.0
    assert all(isinstance(c.passed, bool) for c in checks)


@pytest.mark.slow
def test_vae_group_reports_elbo_and_a_tighter_importance_sampled_bound(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CHECKPOINT_DIR", str(tmp_path))
    checks = ch05_vae.targets(fast=True, k=200, n_importance=8)
    assert len(checks) == 4
    elbo, gap, elbo_bin, gap_bin = (c.value for c in checks)
    assert 60 < elbo < 300 and 30 < elbo_bin < 300  # nats per image after one short epoch
    assert gap > 0 and gap_bin > 0, "importance sampling must tighten the bound"
    assert checks[1].passed and checks[3].passed


def test_sdss_group_compares_the_star_autoencoder_with_pca(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CHECKPOINT_DIR", str(tmp_path))
    checks = ch07_stars.targets(fast=True)
    mse, ratio, auc_qso, auc_gal, colour_qso = (c.value for c in checks)
    assert 0 < mse < 1 and ratio > 0
    assert 0.5 < auc_qso <= 1 and 0.5 < auc_gal <= 1  # better than chance after 20 epochs
    assert 0.5 < colour_qso <= 1 and "r magnitude alone" in checks[-1].detail


def test_the_committed_star_networks_detect_quasars_by_colour_not_by_brightness():
    """Chapter 7's control (Table 7.1), on the committed checkpoints: brightness alone
    separates quasars from stars, but the network that sees only colours does better than
    brightness and about as well as the lecture's network on magnitudes."""
    from utils.data import load_sdss

    table = load_sdss(source="shared")
    bright = ch07_stars.brightness_aucs(table)
    assert 0.85 < bright["QSO"] < 0.95 and 0.4 < bright["GALAXY"] < 0.6
    for seed in ch07_stars.SEEDS:
        mags = ch07_stars.anomaly_aucs("magnitudes", seed, fast=True, table=table)
        colours = ch07_stars.anomaly_aucs("colours", seed, fast=True, table=table)
        assert colours["QSO"] > bright["QSO"] + 0.03
        assert abs(mags["QSO"] - colours["QSO"]) < 0.02
        assert mags["GALAXY"] > colours["GALAXY"]


@pytest.mark.slow
def test_lj_group_checks_the_sampler_and_the_committed_vaes():
    """Fast mode with the committed full checkpoints: the sampler's exact checks pass, and
    the chapter's VAE flags uniform random configurations (the target of the issue)."""
    checks = {c.name: c for c in ch08_lj.targets(fast=True)}
    assert len(checks) == 2 + 4 + 5 + 1 + 2 * 4 + 1 + 4
    for name, check in checks.items():
        if name.startswith("LJ:"):
            assert check.passed, (name, check.value)
    uniform = checks["LJ VAE: ROC AUC, uniform random vs test set"]
    assert uniform.passed and uniform.value >= 0.99
    mse = [c.value for n, c in checks.items() if "test MSE of distances" in n]
    assert len(mse) == 6 and all(0 < m < 5 for m in mse)  # sigma^2; the data's variance is 3.9
    # the converged VAE beats PCA with as many components; its reconstructions keep the
    # density profile and fail the pair structure (atoms overlap), as chapter 8 says
    assert checks["LJ VAE (latent 16, converged): test MSE of distances vs PCA with 16 components "
                  "(sigma^2)"].passed
    for name, check in checks.items():
        if "reconstructions" in name:
            assert check.passed, (name, check.value)
    # with the heights in its input the VAE reconstructs them better
    assert checks["LJ VAE with a height channel: rms height error of reconstructions (sigma)"].passed


def test_slm_group_checks_the_geometry_the_stored_scan_and_the_latent_spaces():
    """Fast mode with the committed checkpoints: the exact checks pass (geometry, stored
    models, spectra, flags, count table, the lecture's model), and each of the six
    networks is scored by a real classifier on its latent coordinates, on the physical set."""
    checks = {c.name: c for c in ch06_slm.targets(fast=True)}
    exact = [c for name, c in checks.items() if ("CICY" in name or "scan" in name or "count" in name
                                                  or "lecture" in name)]
    assert len(exact) == 11 and all(c.passed for c in exact), [(c.name, c.value) for c in exact]
    aucs = [c for name, c in checks.items() if "ROC AUC" in name]
    assert len(aucs) == 6  # AE, VAE, VAE with KL warm-up; K<5 and all
    assert all(0.8 < c.value <= 1.0 for c in aucs)  # well above chance (0.5)
    assert all(c.passed for c in aucs), [(c.name, c.value) for c in aucs]  # target 0.95
    assert all("+ Q on pairs" in c.detail for c in aucs)  # the physical set
    baselines = [c for name, c in checks.items() if "baseline" in name]
    assert len(baselines) == 2 and all(0.9 < c.value <= 1.0 for c in baselines)
