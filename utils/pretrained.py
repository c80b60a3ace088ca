"""The course's trained networks: load a checkpoint, or train with :func:`utils.train.fit`.

Each recipe fixes a model, its data and its training (epochs, batch size, learning rate,
seed) in a ``config`` dictionary that is stored in the checkpoint. Full-mode checkpoints
live in ``notebooks/checkpoints/`` and may be committed; fast-mode ones go to
``notebooks/checkpoints/fast/`` (ignored by git). In fast mode a matching full checkpoint
is used when present, so the book shows full-quality figures without retraining.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from utils.config import fast_mode
from utils.corruption import corrupt
from utils.data import images_to_tensor, load_fashion_mnist, load_mnist
from utils.device import get_device
from utils.losses import vae_loss
from utils.models import (
    ConvAutoencoder,
    ConvVAE,
    DenseAutoencoder,
    StarAutoencoder,
    init_output_bias_,
)
from utils.train import (
    History,
    LinearWarmup,
    display_path,
    fit,
    load_checkpoint,
    load_or_train,
    reconstruction_loss,
)

CHECKPOINT_ENV = "COURSE_CHECKPOINT_DIR"


def checkpoint_dir() -> Path:
    """``$COURSE_CHECKPOINT_DIR`` or ``notebooks/checkpoints`` of this repository."""
    explicit = os.environ.get(CHECKPOINT_ENV)
    if explicit:
        return Path(explicit).expanduser()
    return Path(__file__).resolve().parents[1] / "notebooks" / "checkpoints"


def _print_epoch(epoch: int, history: History) -> None:
    val = f", val {history.val_loss[-1]:.5f}" if history.val_loss else ""
    print(
        f"epoch {epoch + 1}: train {history.train_loss[-1]:.5f}{val} "
        f"({history.epoch_time_s[-1]:.0f} s)",
        flush=True,
    )


def load_or_train_recipe(
    name: str,
    make_model: Callable[[], nn.Module],
    train: Callable[[nn.Module, dict], History],
    full_config: dict,
    fast_config: dict,
    fast: bool | None = None,
    retrain: bool = False,
    device: torch.device | str | None = None,
    storage_dtype: torch.dtype | None = None,
) -> tuple[nn.Module, History]:
    """Return ``(model, history)`` for a named recipe, loading or training as needed.

    ``train(model, config)`` trains the model in place and returns its History.
    ``storage_dtype`` rounds the weights of the full-mode checkpoint (not the fast one) to
    that type when it is written, for large models whose checkpoint is committed.
    """
    fast = fast_mode() if fast is None else fast
    device = torch.device(device) if device is not None else get_device()
    full_path = checkpoint_dir() / f"{name}.pt"
    model = make_model()
    if fast and not retrain and full_path.exists():
        try:
            history, config = load_checkpoint(full_path, model)
        except Exception as err:  # unreadable: fall back to fast training
            print(f"Checkpoint {display_path(full_path)} could not be loaded ({err}).")
        else:
            if config == full_config:
                print(f"Loaded checkpoint {display_path(full_path)}")
                return model.to(device).eval(), history
        model = make_model()
    config = fast_config if fast else full_config
    path = checkpoint_dir() / "fast" / f"{name}.pt" if fast else full_path
    history = load_or_train(
        path, model, lambda: train(model.to(device), config), config, retrain=retrain,
        storage_dtype=None if fast else storage_dtype,
    )
    return model.to(device).eval(), history


_LOADERS = {"mnist": load_mnist, "fashion-mnist": load_fashion_mnist}


def _image_tensors(data: str, n_train: int | None, n_test: int | None):
    train_images, _ = _LOADERS[data]("train")
    test_images, _ = _LOADERS[data]("test")
    return (
        images_to_tensor(train_images[:n_train]),
        images_to_tensor(test_images[:n_test]),
    )


def denoising_loss(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """MSE between the clean batch and the model's output for a corrupted copy of it."""
    return torch.nn.functional.mse_loss(model(corrupt(x)), x)


_LOSSES = {"mse": reconstruction_loss, "mse(clean, f(corrupt(x)))": denoising_loss}


def _train_autoencoder(model: nn.Module, config: dict) -> History:
    torch.manual_seed(config["seed"])
    x_train, x_test = _image_tensors(config["data"], config["n_train"], config["n_test"])
    init_output_bias_(model, x_train.mean().item())
    return fit(
        model,
        x_train,
        loss_fn=_LOSSES[config["loss"]],
        val_data=x_test,
        epochs=config["epochs"],
        batch_size=config["batch_size"],
        lr=config["lr"],
        cosine_lr=config["cosine_lr"],
        seed=config["seed"],
        on_epoch_end=_print_epoch,
    )


_QUICK = dict(n_train=2000, n_test=500, epochs=1, batch_size=64, lr=1e-3, cosine_lr=False)


def _autoencoder_recipe(
    name: str,
    model_cls: type[nn.Module],
    latent_dim: int,
    spec: dict,
    training: dict,
    fast: bool | None,
    retrain: bool,
    device: torch.device | str | None,
    storage_dtype: torch.dtype | None = None,
):
    """Shared shape of the autoencoder recipes: full training on all data with a cosine
    learning-rate decay, fast training as in ``_QUICK``."""
    base = dict(model=model_cls.__name__, latent_dim=latent_dim, init="glorot+output_bias",
                seed=0) | spec
    full = base | dict(n_train=None, n_test=None, cosine_lr=True) | training
    quick = base | _QUICK

    def make() -> nn.Module:
        torch.manual_seed(0)
        return model_cls(latent_dim)

    return load_or_train_recipe(name, make, _train_autoencoder, full, quick, fast, retrain,
                                device, storage_dtype)


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
    return _autoencoder_recipe(
        f"mnist_conv_ae_z{latent_dim}", ConvAutoencoder, latent_dim,
        dict(data="mnist", loss="mse"), dict(epochs=30, batch_size=128, lr=1e-3),
        fast, retrain, device,
    )


# Duarte's dense autoencoder has 2.8 M parameters (11 MB in float32); its full-mode
# checkpoints are committed with int8 weights (2.9 MB), which changes the test MSE by at
# most 0.4 %, far less than the spread between latent sizes (benchmarks/README.md, "Dense
# checkpoints in int8").
_DENSE_STORAGE = torch.int8


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
    return _autoencoder_recipe(
        f"fashion_dense_ae_z{latent_dim}", DenseAutoencoder, latent_dim,
        dict(data="fashion-mnist", loss="mse"), dict(epochs=30, batch_size=256, lr=1e-3),
        fast, retrain, device, _DENSE_STORAGE,
    )


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
    return _autoencoder_recipe(
        f"mnist_denoising_ae_z{latent_dim}", ConvAutoencoder, latent_dim,
        dict(data="mnist", loss="mse(clean, f(corrupt(x)))", corruption="gauss0.5|mask0.5"),
        dict(epochs=8, batch_size=128, lr=1e-3),
        fast, retrain, device,
    )


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
    return _autoencoder_recipe(
        f"mnist_dense_ae_z{latent_dim}", DenseAutoencoder, latent_dim,
        dict(data="mnist", loss="mse"), dict(epochs=10, batch_size=256, lr=1e-3),
        fast, retrain, device, _DENSE_STORAGE,
    )


def binarize(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Stochastic binarization: each pixel becomes 1 with probability equal to its grey
    value (the convention of the VAE likelihood literature, e.g. Burda et al. 2015)."""
    return torch.bernoulli(x, generator=generator)


def _train_vae(model: nn.Module, config: dict) -> History:
    torch.manual_seed(config["seed"])
    x_train, x_test = _image_tensors("mnist", config["n_train"], config["n_test"])
    beta = config["beta"]
    if config["pixels"] == "dynamically binarized":
        x_test = binarize(x_test, torch.Generator().manual_seed(1))

        def loss_fn(m, x):
            return vae_loss(m, binarize(x), beta=beta)
    else:
        def loss_fn(m, x):
            return vae_loss(m, x, beta=beta)

    init_output_bias_(model, x_train.mean().item())
    return fit(
        model,
        x_train,
        loss_fn=loss_fn,
        val_data=x_test,
        epochs=config["epochs"],
        batch_size=config["batch_size"],
        lr=config["lr"],
        cosine_lr=config["cosine_lr"],
        seed=config["seed"],
        on_epoch_end=_print_epoch,
    )


def _vae_recipe(name: str, latent_dim: int, spec: dict, training: dict, fast, retrain, device):
    base = dict(model="ConvVAE", latent_dim=latent_dim, init="glorot+output_bias", seed=0,
                data="mnist", loss="bernoulli_nll + beta * kl") | spec
    full = base | dict(n_train=None, n_test=None, cosine_lr=True, batch_size=128,
                       lr=1e-3) | training
    quick = base | _QUICK

    def make() -> nn.Module:
        torch.manual_seed(0)
        return ConvVAE(latent_dim)

    return load_or_train_recipe(name, make, _train_vae, full, quick, fast, retrain, device)


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
    pixels = "dynamically binarized" if binarized else "grey values in [0, 1]"
    tag = "_binarized" if binarized else ""
    return _vae_recipe(f"mnist_vae_z{latent_dim}{tag}", latent_dim,
                       dict(beta=1.0, pixels=pixels), dict(epochs=10 if binarized else 20),
                       fast, retrain, device)


BETA_SWEEP = (0.1, 0.3, 1.0, 3.0, 10.0)


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
    return _vae_recipe(f"mnist_vae_z2_beta{beta:g}", 2,
                       dict(beta=float(beta), pixels="grey values in [0, 1]"),
                       dict(epochs=6, n_train=20000), fast, retrain, device)


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
    from utils.data import load_sdss
    from utils.sdss import star_inputs

    table = load_sdss()
    stars = star_inputs(table, seed=0)
    base = dict(model="StarAutoencoder", latent_dim=2, inputs="standardized ugriz",
                data=table.attrs["source"], split="60/20/20 seed 0, |colour| <= 4",
                loss="mse", seed=0,
                batch_size=64, lr=1e-3, cosine_lr=True)
    # 400 epochs of the shared sample's 2,489 training stars; the same number of optimiser
    # steps (about 15,600) on a larger sample such as the full 255,000-star query
    epochs = max(3, round(400 * 2489 / len(stars.x_train)))
    full, quick = base | dict(epochs=epochs), base | dict(epochs=20)

    def make() -> nn.Module:
        torch.manual_seed(0)
        return StarAutoencoder()

    def train(model: nn.Module, config: dict) -> History:
        return fit(model, stars.x_train, loss_fn=reconstruction_loss, val_data=stars.x_val,
                   epochs=config["epochs"], batch_size=config["batch_size"], lr=config["lr"],
                   cosine_lr=config["cosine_lr"], seed=config["seed"])

    return load_or_train_recipe("sdss_star_ae", make, train, full, quick, fast, retrain, device)


LJ_SIGMA = 0.02
"""Noise scale of the Gaussian likelihood of the Lennard-Jones VAE, in units of the box
side L (0.2 sigma of the Lennard-Jones potential)."""
LJ_LATENT_DIMS = (2, 4, 8, 16, 32)
LJ_LAMBDAS = (0.1, 1.0, 10.0)


def lj_vae_loss(model: nn.Module, x: torch.Tensor, lam: float = 1.0) -> torch.Tensor:
    """Chapter 8's loss: sum of squared errors / (2 LJ_SIGMA^2) + lam * KL per matrix,
    i.e. the negative ELBO of a Gaussian likelihood for lam = 1 (in nats, up to a
    constant), averaged over the batch."""
    return vae_loss(model, x, beta=lam, likelihood="gaussian", sigma=LJ_SIGMA)


def lj_vae(
    latent_dim: int = 16,
    lam: float = 1.0,
    fast: bool | None = None,
    retrain: bool = False,
    device: torch.device | str | None = None,
) -> tuple[nn.Module, History]:
    """The convolutional VAE of chapter 8 on sorted distance matrices of the 2-D
    Lennard-Jones fluid (:func:`utils.physics.lennard_jones.distance_data`, gamma in
    0.1, 0.4, 0.7, 1.0).

    Full mode: 10,000 configurations per gamma (80 % for training), 10 epochs (the same
    budget for the chapter's model, latent_dim 16 and lam 1, and for the sweeps over
    LJ_LATENT_DIMS and LJ_LAMBDAS), batch 128, Adam with lr 1e-3 decayed along a cosine
    (about 4 minutes on one CPU core). Fast mode: 1,000 configurations per gamma, 2
    epochs.
    """
    from utils.models import DistanceMatrixVAE
    from utils.physics.lennard_jones import distance_data

    base = dict(model="DistanceMatrixVAE", latent_dim=latent_dim, lam=float(lam),
                sigma=LJ_SIGMA, loss="sse / (2 sigma^2) + lam * kl", seed=0, batch_size=128,
                lr=1e-3, cosine_lr=True)
    full = base | dict(n_per_gamma=10_000, epochs=10)
    quick = base | dict(n_per_gamma=1_000, epochs=2)

    def make() -> nn.Module:
        torch.manual_seed(0)
        return DistanceMatrixVAE(latent_dim)

    def train(model: nn.Module, config: dict) -> History:
        data = distance_data(n_per_gamma=config["n_per_gamma"])
        torch.manual_seed(config["seed"])
        return fit(model, torch.from_numpy(data.x_train),
                   loss_fn=lambda m, x: lj_vae_loss(m, x, config["lam"]),
                   val_data=torch.from_numpy(data.x_test), epochs=config["epochs"],
                   batch_size=config["batch_size"], lr=config["lr"],
                   cosine_lr=config["cosine_lr"], seed=config["seed"],
                   on_epoch_end=_print_epoch)

    name = f"lj_vae_z{latent_dim}_lam{lam:g}"
    return load_or_train_recipe(name, make, train, full, quick, fast, retrain, device)


def slm_cross_entropy(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Chapter 6's autoencoder loss: the categorical cross-entropy of the 30 one-hot
    entries (decoder logits vs the input), summed over entries, averaged over the batch."""
    from utils.losses import categorical_nll

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
    from utils.models import SLMAutoencoder, SLMVAE
    from utils.physics.slm_data import slm_dataset

    if kind not in ("ae", "vae"):
        raise ValueError(f"kind must be 'ae' or 'vae', got {kind!r}")
    if kl_warmup and kind != "vae" or not isinstance(kl_warmup, int) or kl_warmup < 0:
        raise ValueError(f"kl_warmup must be a whole number of epochs >= 0, and only for the "
                         f"VAE; got {kl_warmup!r} for {kind!r}")
    data = slm_dataset(subset, order=order)
    epochs, fast_epochs = (1000, 50) if subset == "K<5" else (300, 15)
    # On all models (ten times the data) lr 3e-3 made the VAE's loss overflow after about 40
    # epochs; 1e-3 trains both networks stably.
    lr = 3e-3 if subset == "K<5" else 1e-3
    base = dict(model="SLMAutoencoder" if kind == "ae" else "SLMVAE", latent_dim=2,
                data=data.source, loss="categorical cross-entropy" + (" + KL" if kind == "vae" else ""),
                n_train=len(data.train), seed=0, batch_size=64, lr=lr, cosine_lr=True)
    if kl_warmup:
        base["kl_warmup_epochs"] = kl_warmup
    full, quick = base | dict(epochs=epochs), base | dict(epochs=fast_epochs)
    beta = LinearWarmup(kl_warmup)

    def loss(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        if kind == "ae":
            return slm_cross_entropy(model, x)
        # categorical cross-entropy + beta KL; beta = 1 (the negative ELBO) outside training
        return vae_loss(model, x, beta=beta.value if model.training else 1.0,
                        likelihood="categorical")

    def make() -> nn.Module:
        torch.manual_seed(0)
        return SLMAutoencoder() if kind == "ae" else SLMVAE()

    def train(model: nn.Module, config: dict) -> History:
        return fit(model, data.one_hot("train"), loss_fn=loss, val_data=data.one_hot("val"),
                   epochs=config["epochs"], batch_size=config["batch_size"], lr=config["lr"],
                   cosine_lr=config["cosine_lr"], seed=config["seed"], on_epoch_end=beta)

    name = f"slm_{kind}_{'k5' if subset == 'K<5' else 'all'}"
    name += f"_klwarmup{kl_warmup}" if kl_warmup else ""
    name += "_chargeorder" if order == "charges" else ""
    return load_or_train_recipe(name, make, train, full, quick, fast, retrain, device)


RECIPES = {
    "lj_vae": lj_vae,
    "sdss_star_autoencoder": sdss_star_autoencoder,
    "mnist_vae": mnist_vae,
    "mnist_vae_beta": mnist_vae_beta,
    "mnist_denoising_autoencoder": mnist_denoising_autoencoder,
    "mnist_dense_autoencoder": mnist_dense_autoencoder,
    "mnist_autoencoder": mnist_autoencoder,
    "fashion_dense_autoencoder": fashion_dense_autoencoder,
    "slm_network": slm_network,
}

if __name__ == "__main__":  # python -m utils.pretrained NAME [LATENT_DIM]: train in full mode
    import sys

    torch.set_num_threads(int(os.environ.get("COURSE_THREADS", torch.get_num_threads())))
    recipe = RECIPES[sys.argv[1]]

    def _argument(text: str):
        for kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                pass
        return text  # e.g. python -m utils.pretrained slm_network vae "K<5"

    args = [_argument(a) for a in sys.argv[2:]]
    recipe(*args, fast=False)
