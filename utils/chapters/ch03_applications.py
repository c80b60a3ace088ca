"""Chapter 3, applications of autoencoders: its networks and quality targets.

Recipes
    :func:`mnist_denoising_autoencoder` -- chapter 2's conv layers with a 32-D latent as a
    denoiser; :func:`mnist_dense_autoencoder` -- Duarte's dense autoencoder on MNIST for
    the reconstruction error against the latent dimension. Both use chapter 2's
    :class:`~utils.chapters.ch02_autoencoder.ImageAutoencoderConfig`.
Targets (``python -m utils.evaluate mnist``)
    the denoiser's PSNR gain at sigma = 0.5 >= 6 dB; anomaly detection of Fashion-MNIST by
    the MNIST autoencoder's reconstruction error, ROC AUC >= 0.95.
"""

from __future__ import annotations

import numpy as np
import torch

from utils.chapters.ch02_autoencoder import (
    DENSE_STORAGE,
    ImageAutoencoderConfig,
    image_autoencoder,
    mnist_autoencoder,
)
from utils.models import ConvAutoencoder, DenseAutoencoder
from utils.targets import Check, at_least
from utils.train import History

EVALUATE_GROUP = "mnist"

# The training corruption of the denoiser (utils.corruption.corrupt)
DENOISING_SIGMA = 0.5
DENOISING_MASK_FRACTION = 0.5


def mnist_denoising_autoencoder(
    latent_dim: int = 32,
    fast: bool | None = None,
    retrain: bool = False,
    device: torch.device | str | None = None,
) -> tuple[ConvAutoencoder, History]:
    """The convolutional autoencoder (chapter 2's layers, a 32-D latent) as a denoiser.

    Trained to map corrupted digits (:func:`utils.corruption.corrupt`: Gaussian noise with
    sigma = 0.5 or half the pixels masked) to the clean ones. Full mode: 8 epochs, batch
    128, Adam with lr 1e-3 decayed along a cosine. The validation loss is measured on
    corrupted test digits. Fast mode: 1 epoch on 2,000 digits.
    """
    config = ImageAutoencoderConfig("ConvAutoencoder", latent_dim, "mnist", epochs=8,
                                    batch_size=128, lr=1e-3, cosine_lr=True, loss="denoising",
                                    noise_sigma=DENOISING_SIGMA,
                                    mask_fraction=DENOISING_MASK_FRACTION)
    return image_autoencoder(f"mnist_denoising_ae_z{latent_dim}", config, fast, retrain, device)


def mnist_dense_autoencoder(
    latent_dim: int,
    fast: bool | None = None,
    retrain: bool = False,
    device: torch.device | str | None = None,
) -> tuple[DenseAutoencoder, History]:
    """Duarte's dense autoencoder on MNIST with a ``latent_dim``-D bottleneck (chapter 3).

    Used for the reconstruction error against latent dimension. Full mode: 10 epochs,
    batch 256, Adam with lr 1e-3 decayed along a cosine. Fast mode: 1 epoch on 2,000.
    """
    config = ImageAutoencoderConfig("DenseAutoencoder", latent_dim, "mnist", epochs=10,
                                    batch_size=256, lr=1e-3, cosine_lr=True)
    return image_autoencoder(f"mnist_dense_ae_z{latent_dim}", config, fast, retrain, device,
                             DENSE_STORAGE)


RECIPES = {"mnist_denoising_autoencoder": mnist_denoising_autoencoder,
           "mnist_dense_autoencoder": mnist_dense_autoencoder}
# The networks the book shows, each a committed full-mode checkpoint: (recipe, args, kwargs)
COMMITTED = (("mnist_denoising_autoencoder", (32,), {}),
             *(("mnist_dense_autoencoder", (d,), {}) for d in (2, 4, 8, 16, 32)))


def targets(fast: bool = False) -> list[Check]:
    """The denoiser's PSNR gain and the MNIST-vs-Fashion anomaly AUC on the test sets."""
    from sklearn.metrics import roc_auc_score

    from utils.corruption import gaussian_noise
    from utils.data import image_tensors
    from utils.metrics import per_image_mse, psnr
    from utils.train import predict

    _, x_test = image_tensors("mnist")
    denoiser, history = mnist_denoising_autoencoder(32, fast=fast)
    noisy = gaussian_noise(x_test, 0.5, torch.Generator().manual_seed(1))
    denoised = predict(denoiser, noisy)
    before, after = psnr(x_test, noisy).mean().item(), psnr(x_test, denoised).mean().item()
    checks = [at_least(
        "Denoising AE at sigma = 0.5: PSNR gain over the noisy images [dB]", after - before,
        6.0, ".1f",
        f"noisy {before:.2f} dB -> denoised {after:.2f} dB ({len(history.train_loss)} epochs)",
    )]

    model, _ = mnist_autoencoder(2, fast=fast)
    _, x_fashion = image_tensors("fashion-mnist")
    score_mnist = per_image_mse(predict(model, x_test), x_test)
    score_fashion = per_image_mse(predict(model, x_fashion), x_fashion)
    scores = torch.cat([score_mnist, score_fashion]).numpy()
    truth = np.r_[np.zeros(len(score_mnist)), np.ones(len(score_fashion))]
    checks.append(at_least(
        "Anomaly detection, MNIST AE on Fashion-MNIST: ROC AUC", roc_auc_score(truth, scores),
        0.95, ".2f", "score = per-image reconstruction MSE",
    ))
    return checks
