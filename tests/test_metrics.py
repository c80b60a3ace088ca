import math

import numpy as np
import pytest
import torch

from utils.metrics import cross_validated_scores, latent_separation_auc, per_image_mse, psnr


def test_per_image_mse():
    x = torch.zeros(3, 1, 2, 2)
    y = torch.zeros(3, 1, 2, 2)
    y[1] = 1.0
    y[2, 0, 0, 0] = 2.0
    assert per_image_mse(x, y).tolist() == [0.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="shapes differ"):
        per_image_mse(x, y[:2])


def test_psnr_in_decibels():
    clean = torch.zeros(2, 1, 4, 4)
    other = clean.clone()
    other[0] += 0.1  # MSE 0.01 -> 20 dB
    other[1] += 0.01  # MSE 1e-4 -> 40 dB
    assert torch.allclose(psnr(clean, other), torch.tensor([20.0, 40.0]), atol=1e-4)
    assert math.isinf(psnr(clean, clean)[0].item())
    assert torch.allclose(psnr(clean * 255, other * 255, data_range=255.0), torch.tensor([20.0, 40.0]), atol=1e-3)


def test_latent_separation_auc_is_one_for_separate_clusters_and_near_half_for_noise():
    rng = np.random.default_rng(0)
    labels = np.r_[np.zeros(200, bool), np.ones(200, bool)]
    apart = np.r_[rng.normal(0, 1, (200, 2)), rng.normal(8, 1, (200, 2))]
    mixed = rng.normal(0, 1, (400, 2))
    assert latent_separation_auc(apart, labels) > 0.999
    assert 0.4 < latent_separation_auc(mixed, labels) < 0.6


def test_cross_validated_scores_never_let_a_point_score_itself():
    from sklearn.metrics import roc_auc_score
    from sklearn.neighbors import KNeighborsClassifier

    rng = np.random.default_rng(1)
    noise = rng.normal(0, 1, (400, 3))
    labels = rng.permutation(np.r_[np.zeros(200, bool), np.ones(200, bool)])
    one_nn = KNeighborsClassifier(1)
    # in sample, a 1-NN classifier finds every point itself: AUC 1 on pure noise
    assert roc_auc_score(labels, one_nn.fit(noise, labels).predict_proba(noise)[:, 1]) == 1.0
    scores = cross_validated_scores(noise, labels, one_nn)
    assert scores.shape == (400,)
    assert 0.4 < roc_auc_score(labels, scores) < 0.6
    assert np.array_equal(scores, cross_validated_scores(noise, labels, one_nn))  # seeded


def test_auc_by_bin_scores_each_bin_on_its_own():
    from utils.metrics import auc_by_bin

    # bin < 1: perfectly ordered; 1-2: perfectly reversed; >= 2: ties only
    values = np.array([0.5, 0.5, 0.5, 0.5, 1.5, 1.5, 1.5, 1.5, 2.0, 3.0])
    labels = np.array([0, 0, 1, 1, 0, 0, 1, 1, 0, 1], bool)
    scores = np.array([0.1, 0.2, 0.8, 0.9, 0.8, 0.9, 0.1, 0.2, 0.5, 0.5])
    assert auc_by_bin(scores, labels, values, (1, 2)) == [("<1", 2, 1.0), ("1-2", 2, 0.0),
                                                        (">=2", 1, 0.5)]
    with pytest.raises(ValueError, match="bin 2-3 holds 1 points, not of both classes"):
        auc_by_bin(scores, labels, values, (1, 2, 3))
    with pytest.raises(ValueError, match="increasing"):
        auc_by_bin(scores, labels, values, (2, 1))
