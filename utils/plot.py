"""Figure helpers shared by the chapters. Each returns the matplotlib Figure it drew."""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from utils.train import History


def _to_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def image_grid(
    images,
    nrows: int | None = None,
    ncols: int = 10,
    row_titles: Sequence[str] | None = None,
    titles: Sequence[str] | None = None,
    cmap: str = "gray_r",
    scale: float = 1.0,
) -> Figure:
    """Show images (N, H, W) or (N, 1, H, W) in a grid, row by row.

    ``row_titles`` label the rows on the left (e.g. "noisy", "denoised");
    ``titles`` label each image. Grey values are shown on a fixed 0..max scale so that
    rows can be compared.
    """
    imgs = _to_numpy(images)
    if imgs.ndim == 4:
        imgs = imgs[:, 0]
    if imgs.ndim != 3:
        raise ValueError(f"expected images (N, H, W) or (N, 1, H, W), got {imgs.shape}")
    n = len(imgs)
    nrows = nrows or int(np.ceil(n / ncols))
    vmax = 255 if imgs.dtype == np.uint8 else max(1.0, float(imgs.max()))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(scale * 1.1 * ncols, scale * 1.2 * nrows), squeeze=False
    )
    for k, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        if k < n:
            ax.imshow(imgs[k], cmap=cmap, vmin=0, vmax=vmax)
            if titles is not None and k < len(titles):
                ax.set_title(titles[k], fontsize=8)
    if row_titles is not None:
        for r, label in enumerate(row_titles[:nrows]):
            axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center")
    fig.tight_layout()
    return fig


def latent_scatter(
    z,
    labels,
    class_names: Sequence[str] | None = None,
    ax=None,
    s: float = 2.0,
    alpha: float = 0.6,
    xlabel: str = "$z_1$",
    ylabel: str = "$z_2$",
) -> Figure:
    """Scatter 2-D latent codes ``z`` (N, 2) coloured by integer ``labels`` (N,).

    The points are drawn in one random order (fixed seed), not class by class, so that no
    class hides under the ones drawn after it (the 4s under the 9s of MNIST)."""
    z = _to_numpy(z)
    labels = _to_numpy(labels).astype(int)
    if z.ndim != 2 or z.shape[1] != 2:
        raise ValueError(f"latent_scatter needs codes of shape (N, 2), got {z.shape}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.2, 5.4))
    else:
        fig = ax.figure
    classes = np.unique(labels)
    cmap = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
    colour = {c: cmap(i) for i, c in enumerate(classes)}
    order = np.random.default_rng(0).permutation(len(z))
    ax.scatter(z[order, 0], z[order, 1], s=s, alpha=alpha,
               c=[colour[c] for c in labels[order]], rasterized=len(z) > 5000)
    for c in classes:  # legend entries only
        name = class_names[c] if class_names is not None else str(c)
        ax.scatter([], [], s=s, alpha=alpha, color=colour[c], label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    legend = ax.legend(
        markerscale=max(1.0, 8.0 / max(s, 0.1)),
        fontsize=8,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        title="label" if class_names is None else None,
    )
    for handle in legend.legend_handles:
        handle.set_alpha(1.0)
    fig.tight_layout()
    return fig


@torch.no_grad()
def decoded_latent_grid(
    decoder: torch.nn.Module,
    extent: tuple[float, float, float, float] = (-3.0, 3.0, -3.0, 3.0),
    n: int = 15,
    image_shape: tuple[int, int] = (28, 28),
    ax=None,
) -> Figure:
    """Decode an ``n x n`` regular grid of 2-D latent points and tile the images.

    ``extent = (z1_min, z1_max, z2_min, z2_max)``; the tile at the top right is the image
    decoded from ``(z1_max, z2_max)``, so the picture is laid out like the latent plane.
    """
    z1 = np.linspace(extent[0], extent[1], n)
    z2 = np.linspace(extent[3], extent[2], n)  # top row = largest z2
    ax = _decode_and_tile(decoder, z1, z2, image_shape, extent, ax)
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    return ax.figure


@torch.no_grad()
def _decode_and_tile(decoder, z1, z2, image_shape, extent, ax):
    """Decode every (z1[j], z2[i]) and tile the images with row i, column j; return ax."""
    device = next(decoder.parameters()).device
    grid = np.array([[a, b] for b in z2 for a in z1], dtype=np.float32)
    was_training = decoder.training
    decoder.eval()
    images = decoder(torch.from_numpy(grid).to(device)).reshape(len(z2), len(z1), *image_shape)
    decoder.train(was_training)
    h, w = image_shape
    canvas = images.cpu().numpy().transpose(0, 2, 1, 3).reshape(len(z2) * h, len(z1) * w)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 6.4))
    ax.imshow(canvas, cmap="gray_r", extent=extent, aspect="auto")
    return ax


@torch.no_grad()
def decoded_quantile_grid(
    decoder: torch.nn.Module,
    n: int = 15,
    p_min: float = 0.05,
    image_shape: tuple[int, int] = (28, 28),
    ax=None,
) -> Figure:
    """Decode a 2-D latent grid placed at equal steps of the prior's *probability*.

    In each dimension the latent values are the standard-normal quantiles
    Phi^-1(p) for ``n`` probabilities p evenly spaced from ``p_min`` to ``1 - p_min``, so
    every tile stands for the same prior probability mass. The axes show p = Phi(z).
    """
    from scipy.stats import norm

    values = norm.ppf(np.linspace(p_min, 1 - p_min, n))
    half = 0.5 * (1 - 2 * p_min) / max(n - 1, 1)
    extent = (p_min - half, 1 - p_min + half, p_min - half, 1 - p_min + half)
    ax = _decode_and_tile(decoder, values, values[::-1], image_shape, extent, ax)
    ax.set_xlabel("$\\Phi(z_1)$, prior probability below $z_1$")
    ax.set_ylabel("$\\Phi(z_2)$, prior probability below $z_2$")
    return ax.figure


def loss_curves(
    history: History | dict,
    ax=None,
    ylabel: str = "loss",
    logy: bool = True,
    val_label: str = "validation",
) -> Figure:
    """Plot training (and validation) loss per epoch from a :class:`History`.

    ``val_label`` names the held-out curve in the legend: "test" when the recipe measured
    it on the test set (chapters 2 and 5), "validation" for a separate validation split."""
    if isinstance(history, dict):
        history = History.from_dict(history)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.0, 4.0))
    else:
        fig = ax.figure
    epochs = np.arange(1, len(history.train_loss) + 1)
    ax.plot(epochs, history.train_loss, marker="o", label="training")
    if history.val_loss:
        ax.plot(epochs[: len(history.val_loss)], history.val_loss, marker="s", label=val_label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig
