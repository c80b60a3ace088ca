"""Diagrams drawn by code: network architectures, the VAE's graphical model, and the
computation graph of the reparametrization trick.

Each function returns a matplotlib figure, so a page draws its own diagrams and they change
with the code. No axes (a diagram has no scale); every box and arrow is labelled.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle


def _canvas(width: float, height: float, ax=None):
    if ax is None:
        fig, ax = plt.subplots(figsize=(width, height))
    else:
        fig = ax.figure
    ax.set_axis_off()
    ax.set_aspect("equal")
    return fig, ax


def _box(ax, x, y, w, h, text, colour="#dde7f5", fontsize=8):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02",
                                facecolor=colour, edgecolor="k", lw=0.8))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def _arrow(ax, start, end, style="-|>", ls="-", colour="k", text=None, offset=(0, 0.12)):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=10, lw=1.0,
                                 linestyle=ls, color=colour, shrinkA=2, shrinkB=2))
    if text:
        ax.text((start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1],
                text, ha="center", va="bottom", fontsize=7, color=colour)


def network_diagram(layers: Sequence[tuple[str, str]], bottleneck: int | None = None,
                    title: str | None = None, ax=None) -> Figure:
    """Layers left to right as boxes joined by arrows.

    ``layers``: (name, shape) pairs, e.g. ``("conv 3x3, 64", "28 x 28 x 64")``; the box at
    index ``bottleneck`` is drawn narrow and red (the latent code).
    """
    n = len(layers)
    fig, ax = _canvas(1.45 * n, 2.2, ax)
    for i, (name, shape) in enumerate(layers):
        narrow = i == bottleneck
        height = 0.6 if narrow else 1.3
        _box(ax, 1.4 * i, 0, 1.15, height, f"{name}\n{shape}",
             colour="#f5c6c0" if narrow else "#dde7f5", fontsize=7)
        if i:
            _arrow(ax, (1.4 * (i - 1) + 0.6, 0), (1.4 * i - 0.6, 0))
    ax.set_xlim(-0.8, 1.4 * (n - 1) + 0.8)
    ax.set_ylim(-1.0, 1.0)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def vae_graphical_model(ax=None) -> Figure:
    """The VAE as a directed graphical model: z -> x (the decoder p_theta(x | z), solid),
    x -> z (the encoder q_phi(z | x), dashed), inside a plate over the N images."""
    fig, ax = _canvas(4.6, 3.4, ax)
    ax.add_patch(Rectangle((-1.0, -1.6), 2.6, 3.2, fill=False, lw=0.8))
    ax.text(1.5, -1.5, "$N$ images", ha="right", va="bottom", fontsize=8)
    ax.add_patch(Circle((0.3, 0.9), 0.35, facecolor="white", edgecolor="k"))
    ax.text(0.3, 0.9, "$z$", ha="center", va="center", fontsize=12)
    ax.add_patch(Circle((0.3, -0.8), 0.35, facecolor="0.8", edgecolor="k"))
    ax.text(0.3, -0.8, "$x$", ha="center", va="center", fontsize=12)
    _arrow(ax, (0.2, 0.55), (0.2, -0.45), text=None)
    ax.text(-0.05, 0.05, r"$p_\theta(x \mid z)$", ha="right", va="center", fontsize=8)
    _arrow(ax, (0.45, -0.45), (0.45, 0.55), ls="--", colour="C0")
    ax.text(0.6, 0.05, r"$q_\phi(z \mid x)$", ha="left", va="center", fontsize=8, color="C0")
    for name, y, style, colour in (("$\\theta$", -0.8, "-", "k"), ("$\\phi$", 0.9, "--", "C0")):
        ax.plot(2.2, y, "o", color=colour, ms=4)
        ax.text(2.35, y, name, va="center", fontsize=10, color=colour)
        _arrow(ax, (2.15, y), (0.7, y), ls=style, colour=colour)
    ax.text(0.3, 1.75, r"prior $p(z) = \mathcal{N}(0, I)$", ha="center", fontsize=8)
    ax.set_xlim(-1.2, 2.8)
    ax.set_ylim(-1.8, 2.0)
    return fig


def reparametrization_graph(ax=None) -> Figure:
    """The computation graph of one VAE training step with z = mu + sigma * eps: the
    random eps enters from outside, so the gradient reaches mu and sigma (and through them
    the encoder) along deterministic edges."""
    fig, ax = _canvas(9.0, 2.8, ax)
    _box(ax, 0, 0, 0.9, 0.6, "$x$", colour="0.85", fontsize=10)
    _box(ax, 1.5, 0, 1.2, 0.7, "encoder\n$\\phi$", fontsize=8)
    _box(ax, 3.1, 0.55, 0.9, 0.5, r"$\mu$", fontsize=10)
    _box(ax, 3.1, -0.55, 0.9, 0.5, r"$\sigma$", fontsize=10)
    ax.add_patch(Circle((4.7, 1.35), 0.33, facecolor="#fde9b7", edgecolor="k"))
    ax.text(4.7, 1.35, r"$\varepsilon$", ha="center", va="center", fontsize=11)
    ax.text(5.15, 1.35, r"$\sim \mathcal{N}(0, I)$, no parameters", va="center", fontsize=7)
    _box(ax, 4.7, 0, 1.3, 0.6, r"$z = \mu + \sigma \varepsilon$", fontsize=9)
    _box(ax, 6.4, 0, 1.2, 0.7, "decoder\n$\\theta$", fontsize=8)
    _box(ax, 8.0, 0, 1.3, 0.7, "loss\n$-\\log p_\\theta(x|z)$\n$+\\,\\mathrm{KL}$", fontsize=7)
    _arrow(ax, (0.45, 0), (0.9, 0))
    _arrow(ax, (2.1, 0.15), (2.65, 0.5))
    _arrow(ax, (2.1, -0.15), (2.65, -0.5))
    _arrow(ax, (3.55, 0.5), (4.05, 0.12))
    _arrow(ax, (3.55, -0.5), (4.05, -0.12))
    _arrow(ax, (4.7, 1.02), (4.7, 0.3), ls=":")
    _arrow(ax, (5.35, 0), (5.8, 0))
    _arrow(ax, (7.0, 0), (7.35, 0))
    _arrow(ax, (7.6, -0.6), (2.2, -0.95), colour="C3", ls="--")
    ax.text(4.9, -1.1, r"gradient $\partial \mathcal{L} / \partial \phi$ flows back through "
            r"$z$, $\mu$, $\sigma$; not through $\varepsilon$", ha="center", va="top",
            fontsize=7, color="C3")
    ax.set_xlim(-0.6, 8.8)
    ax.set_ylim(-1.5, 1.8)
    return fig


def vae_architecture(encoder: Sequence[tuple[str, str]], latent_dim: int,
                     decoder: Sequence[tuple[str, str]], title: str | None = None, ax=None) -> Figure:
    """A VAE's layers: the ``encoder`` boxes (name, shape) left to right, splitting into two
    heads, the mean mu and the log-variance log sigma^2 (``latent_dim`` each), the sampling
    node z = mu + sigma * eps with eps ~ N(0, I) entering from outside, then the
    ``decoder`` boxes. The two heads and z are red, the width of the code."""
    n_enc, n_dec = len(encoder), len(decoder)
    step = 1.4
    width = step * (n_enc + n_dec + 2) + 1.0
    fig, ax = _canvas(width * 1.05, 3.0, ax)
    for i, (name, shape) in enumerate(encoder):
        _box(ax, step * i, 0, 1.15, 1.3, f"{name}\n{shape}", fontsize=7)
        if i:
            _arrow(ax, (step * (i - 1) + 0.6, 0), (step * i - 0.6, 0))
    heads = step * n_enc
    last = step * (n_enc - 1) + 0.6
    for y, label in ((0.55, r"$\mu$"), (-0.55, r"$\log\sigma^2$")):
        _box(ax, heads, y, 1.0, 0.45, f"{label}\n{latent_dim}", colour="#f5c6c0", fontsize=7)
        _arrow(ax, (last, 0.1 * (1 if y > 0 else -1)), (heads - 0.52, y))
    z = heads + step
    _box(ax, z, 0, 1.15, 0.6, f"$z = \\mu + \\sigma\\varepsilon$\n{latent_dim}", colour="#f5c6c0", fontsize=7)
    for y in (0.55, -0.55):
        _arrow(ax, (heads + 0.52, y), (z - 0.6, 0.1 * (1 if y > 0 else -1)))
    ax.add_patch(Circle((z, 1.25), 0.28, facecolor="#fde9b7", edgecolor="k"))
    ax.text(z, 1.25, r"$\varepsilon$", ha="center", va="center", fontsize=10)
    ax.text(z + 0.35, 1.25, r"$\sim\mathcal{N}(0, I)$", va="center", fontsize=7)
    _arrow(ax, (z, 0.97), (z, 0.32), ls=":")
    for j, (name, shape) in enumerate(decoder):
        x = z + step * (j + 1)
        _box(ax, x, 0, 1.15, 1.3, f"{name}\n{shape}", fontsize=7)
        _arrow(ax, (x - step + (0.6 if j else 0.6), 0), (x - 0.6, 0))
    ax.text(step * (n_enc - 1) / 2, -1.0, "encoder $q_\\phi(z \\mid x)$", ha="center", fontsize=8)
    ax.text(z + step * (n_dec + 1) / 2, -1.0, "decoder $p_\\theta(x \\mid z)$", ha="center", fontsize=8)
    ax.set_xlim(-0.8, z + step * n_dec + 0.8)
    ax.set_ylim(-1.3, 1.7)
    if title:
        ax.set_title(title, fontsize=10)
    return fig
