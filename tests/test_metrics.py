import math

import pytest
import torch

from utils.metrics import per_image_mse, psnr


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
