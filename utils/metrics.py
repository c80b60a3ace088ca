"""Numbers that judge reconstructions: per-image errors and PSNR."""

from __future__ import annotations

import torch


def per_image_mse(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error of each image pair: (N, ...) and (N, ...) -> (N,)."""
    if x.shape != y.shape:
        raise ValueError(f"shapes differ: {tuple(x.shape)} vs {tuple(y.shape)}")
    return ((x - y) ** 2).flatten(1).mean(dim=1)


def psnr(clean: torch.Tensor, other: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Peak signal-to-noise ratio of each image in dB: 10 log10(range^2 / MSE), (N,).

    Higher is better; identical images give +inf. Averages over a data set are usually
    taken over these per-image values, as the course does.
    """
    return 10.0 * torch.log10(data_range**2 / per_image_mse(clean, other))
