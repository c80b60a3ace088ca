"""Ways to damage images, for denoising autoencoders (Vincent et al. 2008).

All functions take images (N, 1, H, W) or (N, D) with values in [0, 1], return a new
tensor of the same shape, and draw their randomness from ``generator`` (or torch's
global generator when None).
"""

from __future__ import annotations

import torch


def gaussian_noise(
    x: torch.Tensor, sigma: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Add N(0, sigma^2) noise to every pixel and clip the result to [0, 1]."""
    noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return (x + sigma * noise).clamp_(0.0, 1.0)


def mask_pixels(
    x: torch.Tensor, fraction: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Set a random ``fraction`` of the pixels of every image to 0 (masking noise)."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must lie in [0, 1], got {fraction}")
    keep = torch.rand(x.shape, generator=generator, device=x.device) >= fraction
    return x * keep


def corrupt(
    x: torch.Tensor,
    sigma: float = 0.5,
    mask_fraction: float = 0.5,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Damage each image by *either* Gaussian noise or masking, chosen at random (p = 1/2).

    This is the training corruption of the course's denoising autoencoder: it learns to
    undo both kinds of damage.
    """
    noisy = gaussian_noise(x, sigma, generator)
    masked = mask_pixels(x, mask_fraction, generator)
    shape = (len(x),) + (1,) * (x.dim() - 1)
    use_noise = torch.rand(shape, generator=generator, device=x.device) < 0.5
    return torch.where(use_noise, noisy, masked)
