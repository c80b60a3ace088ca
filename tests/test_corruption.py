import pytest
import torch

from utils.corruption import corrupt, gaussian_noise, mask_pixels


def test_gaussian_noise_has_the_requested_sigma_and_is_clipped():
    x = torch.full((200, 1, 28, 28), 0.5)
    noisy = gaussian_noise(x, 0.1, torch.Generator().manual_seed(0))
    assert noisy.shape == x.shape
    assert abs((noisy - x).std().item() - 0.1) < 0.002  # 0.5 +- 0.1 is rarely clipped
    wide = gaussian_noise(x, 5.0, torch.Generator().manual_seed(0))
    assert wide.min() == 0.0 and wide.max() == 1.0
    assert torch.equal(x, torch.full((200, 1, 28, 28), 0.5)), "input is not modified"


def test_mask_pixels_zeroes_the_requested_fraction():
    x = torch.ones(100, 1, 28, 28)
    masked = mask_pixels(x, 0.3, torch.Generator().manual_seed(0))
    assert abs((masked == 0).float().mean().item() - 0.3) < 0.01
    assert set(masked.unique().tolist()) == {0.0, 1.0}
    with pytest.raises(ValueError, match="fraction"):
        mask_pixels(x, 1.5)


def test_corrupt_applies_one_corruption_per_image():
    x = torch.full((400, 1, 28, 28), 0.5)
    out = corrupt(x, sigma=0.2, mask_fraction=0.5, generator=torch.Generator().manual_seed(0))
    values = out.flatten(1)
    masked = ((values == 0) | (values == 0.5)).all(dim=1)  # only zeros and untouched pixels
    assert 0.4 < masked.float().mean().item() < 0.6
    noisy = values[~masked]
    assert (noisy.std(dim=1) > 0.1).all()


def test_same_generator_seed_gives_the_same_corruption():
    x = torch.rand(8, 1, 28, 28)
    a = corrupt(x, generator=torch.Generator().manual_seed(7))
    b = corrupt(x, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a, b)
