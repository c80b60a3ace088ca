"""Chapter 2, the autoencoder: its networks, their training and their quality target.

Recipes
    :func:`mnist_autoencoder` -- the convolutional autoencoder of Schneider's lecture on
    MNIST; :func:`fashion_dense_autoencoder` -- Duarte's dense autoencoder on
    Fashion-MNIST. Both are trained by :func:`train_image_autoencoder` from an
    :class:`ImageAutoencoderConfig`, which chapter 3 reuses.
Targets (``python -m utils.evaluate mnist``)
    the 2-D conv autoencoder's test MSE per pixel <= 0.040.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from utils.corruption import corrupt
from utils.data import image_tensors
from utils.models import ConvAutoencoder, DenseAutoencoder, init_output_bias_
from utils.recipes import FAST_IMAGES, RecipeConfig, load_or_train_recipe, print_epoch, seeded
from utils.targets import Check, at_most
from utils.train import History, fit, reconstruction_loss

EVALUATE_GROUP = "mnist"

IMAGE_AUTOENCODERS = {"ConvAutoencoder": ConvAutoencoder, "DenseAutoencoder": DenseAutoencoder}


@dataclass(frozen=True)
class ImageAutoencoderConfig(RecipeConfig):
    """Training of an autoencoder on 28 x 28 images (chapters 2 and 3).

    ``model``: a key of :data:`IMAGE_AUTOENCODERS`; ``data``: "mnist" or "fashion-mnist";
    ``n_train``/``n_test``: the first images of each split (None: all); ``loss``: "mse"
    (reconstruct the input) or "denoising" (reconstruct the clean image from
    :func:`utils.corruption.corrupt` with ``noise_sigma`` and ``mask_fraction``);
    ``cosine_lr``: decay the learning rate along a cosine to zero.
    """

    model: str
    latent_dim: int
    data: str
    epochs: int
    batch_size: int
    lr: float
    cosine_lr: bool
    n_train: int | None = None
    n_test: int | None = None
    loss: str = "mse"
    noise_sigma: float | None = None
    mask_fraction: float | None = None
    seed: int = 0

    def fast(self) -> "ImageAutoencoderConfig":
        """The fast-mode version: 1 epoch on 2,000 images, batch 64, constant lr 1e-3."""
        return self.replace(**FAST_IMAGES)


def denoising_loss(model: nn.Module, x: torch.Tensor, sigma: float = 0.5,
                   mask_fraction: float = 0.5) -> torch.Tensor:
    """MSE between the clean batch and the model's output for a corrupted copy of it
    (:func:`utils.corruption.corrupt`: Gaussian noise of ``sigma`` or masking)."""
    return torch.nn.functional.mse_loss(model(corrupt(x, sigma, mask_fraction)), x)


def _loss(config: ImageAutoencoderConfig):
    if config.loss == "mse":
        return reconstruction_loss
    if config.loss == "denoising":
        return lambda m, x: denoising_loss(m, x, config.noise_sigma, config.mask_fraction)
    raise ValueError(f"loss must be 'mse' or 'denoising', not {config.loss!r}")


def train_image_autoencoder(model: nn.Module, config: ImageAutoencoderConfig) -> History:
    """Train ``model`` in place as ``config`` says; the validation loss is measured on the
    test images (corrupted ones for the denoising loss)."""
    torch.manual_seed(config.seed)
    x_train, x_test = image_tensors(config.data, config.n_train, config.n_test)
    init_output_bias_(model, x_train.mean().item())
    return fit(model, x_train, loss_fn=_loss(config), val_data=x_test, epochs=config.epochs,
               batch_size=config.batch_size, lr=config.lr, cosine_lr=config.cosine_lr,
               seed=config.seed, on_epoch_end=print_epoch)


def image_autoencoder(name: str, config: ImageAutoencoderConfig, fast, retrain, device,
                      storage_dtype: torch.dtype | None = None):
    """Load or train the image autoencoder ``name`` with ``config`` (fast: ``config.fast()``)."""
    make = seeded(lambda: IMAGE_AUTOENCODERS[config.model](config.latent_dim))
    return load_or_train_recipe(name, make, train_image_autoencoder, config, config.fast(),
                                fast, retrain, device, storage_dtype)


def mnist_autoencoder(
    latent_dim: int = 2,
    fast: bool | None = None,
    retrain: bool = False,
    device: torch.device | str | None = None,
) -> tuple[ConvAutoencoder, History]:
    """The convolutional MNIST autoencoder of chapter 2, trained on all 60,000 digits.

    Full mode: 30 epochs, batch 128, Adam with lr 1e-3 decayed along a cosine; the test
    loss is recorded after every epoch. Fast mode: 1 epoch on 2,000 digits.
    """
    config = ImageAutoencoderConfig("ConvAutoencoder", latent_dim, "mnist", epochs=30,
                                    batch_size=128, lr=1e-3, cosine_lr=True)
    return image_autoencoder(f"mnist_conv_ae_z{latent_dim}", config, fast, retrain, device)


# Duarte's dense autoencoder has 2.8 M parameters (11 MB in float32); its full-mode
# checkpoints are committed with int8 weights (2.9 MB), which changes the test MSE by at
# most 0.4 %, far less than the spread between latent sizes (benchmarks/README.md, "Dense
# checkpoints in int8").
DENSE_STORAGE = torch.int8


def fashion_dense_autoencoder(
    latent_dim: int = 2,
    fast: bool | None = None,
    retrain: bool = False,
    device: torch.device | str | None = None,
) -> tuple[DenseAutoencoder, History]:
    """Duarte's dense 784-1000-500-250-32-2 autoencoder on Fashion-MNIST (chapter 2).

    Full mode: 30 epochs on all 60,000 images, batch 256, Adam with lr 1e-3 decayed along
    a cosine. Fast mode: 1 epoch on 2,000 images.
    """
    config = ImageAutoencoderConfig("DenseAutoencoder", latent_dim, "fashion-mnist",
                                    epochs=30, batch_size=256, lr=1e-3, cosine_lr=True)
    return image_autoencoder(f"fashion_dense_ae_z{latent_dim}", config, fast, retrain, device,
                             DENSE_STORAGE)


RECIPES = {"mnist_autoencoder": mnist_autoencoder,
           "fashion_dense_autoencoder": fashion_dense_autoencoder}
# The networks the book shows, each a committed full-mode checkpoint: (recipe, args, kwargs)
COMMITTED = (("mnist_autoencoder", (2,), {}), ("fashion_dense_autoencoder", (2,), {}))


def targets(fast: bool = False) -> list[Check]:
    """The 2-D conv autoencoder's test MSE per pixel on all 10,000 MNIST test digits."""
    from utils.metrics import per_image_mse
    from utils.train import predict

    _, x_test = image_tensors("mnist")
    model, history = mnist_autoencoder(2, fast=fast)
    mse = per_image_mse(predict(model, x_test), x_test).mean().item()
    return [at_most("ConvAutoencoder (2-D latent): test MSE per pixel", mse, 0.040, ".3f",
                    f"after {len(history.train_loss)} epochs")]
