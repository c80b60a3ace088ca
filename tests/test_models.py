import pytest
import torch

from utils.models import (
    ConvAutoencoder,
    ConvVAE,
    DenseAutoencoder,
    DistanceMatrixVAE,
    SLMAutoencoder,
    SLMVAE,
    StarAutoencoder,
    count_parameters,
    reparameterize,
)

# Parameter counts of the Keras summaries in the source lectures.
EXPECTED = {
    ConvAutoencoder: (76_546, 83_841),
    ConvVAE: (78_596, 83_841),
    SLMAutoencoder: (11_302, 11_630),
    # the VAE's last encoder layer gives a mean and a log-variance: 4 -> 2 x 2 (20 weights)
    SLMVAE: (11_312, 11_630),
    # Duarte's 784-1000-500-250-32-2 network and its mirror (Keras Dense layers).
    DenseAutoencoder: (1_418_848, 1_419_630),
    # Prosper's network: Linear(5,40) + 3 x Linear(40,40), each + LayerNorm(40), then
    # Linear(40,2): 240+80 + 3*(1640+80) + 82; the decoder mirrors it with Linear(40,5).
    StarAutoencoder: (5_562, 5_565),
}


@pytest.mark.parametrize("model_cls", list(EXPECTED))
def test_parameter_counts_match_the_lectures(model_cls):
    model = model_cls()
    assert (count_parameters(model.encoder), count_parameters(model.decoder)) == EXPECTED[
        model_cls
    ]


def test_star_autoencoder_layers_are_linear_silu_layernorm():
    enc = StarAutoencoder().encoder
    kinds = [type(m).__name__ for m in enc]
    assert kinds == ["Linear", "SiLU", "LayerNorm"] * 4 + ["Linear"]
    assert enc[0].in_features == 5 and enc[-1].out_features == 2


@pytest.mark.parametrize("batch", [1, 7, 64])
def test_conv_autoencoder_shapes(batch):
    model = ConvAutoencoder()
    x = torch.rand(batch, 1, 28, 28)
    z = model.encoder(x)
    assert z.shape == (batch, 2)
    y = model(x)
    assert y.shape == x.shape and y.dtype == torch.float32
    assert torch.all((y >= 0) & (y <= 1))


def test_conv_vae_encoder_returns_mean_and_log_variance():
    model = ConvVAE()
    x = torch.rand(5, 1, 28, 28)
    mean, log_var = model.encoder(x)
    assert mean.shape == log_var.shape == (5, 2)
    recon, mean2, log_var2 = model(x)
    assert recon.shape == x.shape and mean2.shape == (5, 2)
    model.eval()
    a, _, _ = model(x)
    b, _, _ = model(x)
    assert torch.equal(a, b), "eval mode decodes the mean: deterministic"


def test_slm_and_star_shapes():
    assert SLMAutoencoder()(torch.rand(4, 30, 11)).shape == (4, 30, 11)
    assert SLMAutoencoder().encoder(torch.rand(4, 30, 11)).shape == (4, 2)
    kinds = {type(m).__name__ for m in SLMAutoencoder().modules()}
    assert "LeakyReLU" in kinds and "ReLU" not in kinds  # the lecture's activation
    assert StarAutoencoder()(torch.rand(9, 5)).shape == (9, 5)
    assert StarAutoencoder().encoder(torch.rand(9, 5)).shape == (9, 2)
    dense = DenseAutoencoder(latent_dim=3)
    assert dense.encoder(torch.rand(4, 1, 28, 28)).shape == (4, 3)
    assert dense(torch.rand(4, 1, 28, 28)).shape == (4, 1, 28, 28)


def test_distance_matrix_vae_returns_symmetric_images_with_a_zero_diagonal():
    model = DistanceMatrixVAE(latent_dim=5)
    x = torch.rand(3, 2, 30, 30)
    recon, mean, log_var = model(x)
    assert recon.shape == (3, 2, 30, 30) and mean.shape == log_var.shape == (3, 5)
    assert torch.allclose(recon, recon.transpose(-1, -2))
    assert torch.all(torch.diagonal(recon, dim1=-2, dim2=-1) == 0)
    decoded = model.decoder(torch.randn(4, 5))
    assert decoded.shape == (4, 2, 30, 30) and torch.allclose(decoded, decoded.transpose(-1, -2))
    model.eval()
    assert torch.equal(model(x)[0], model(x)[0]), "eval mode decodes the mean"
    assert DistanceMatrixVAE(2, channels=1)(torch.rand(2, 1, 30, 30))[0].shape == (2, 1, 30, 30)
    with pytest.raises(ValueError, match="30 x 30"):
        DistanceMatrixVAE(n=20)


def test_reparameterize_is_differentiable_with_the_right_gradients():
    mean = torch.tensor([[0.5, -1.0]], requires_grad=True)
    log_var = torch.tensor([[0.2, -0.4]], requires_grad=True)
    gen = torch.Generator().manual_seed(1)
    z = reparameterize(mean, log_var, generator=gen)
    z.sum().backward()
    eps = torch.randn((1, 2), generator=torch.Generator().manual_seed(1))
    assert torch.allclose(mean.grad, torch.ones_like(mean))
    # dz/dlog_var = 0.5 * sigma * eps
    expected = 0.5 * torch.exp(0.5 * log_var.detach()) * eps
    assert torch.allclose(log_var.grad, expected, atol=1e-6)


def test_reparameterize_samples_have_the_requested_mean_and_variance():
    n = 200_000
    mean = torch.tensor([1.5, -2.0, 0.0]).expand(n, 3)
    log_var = torch.log(torch.tensor([0.25, 1.0, 4.0])).expand(n, 3)
    z = reparameterize(mean, log_var, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(z.mean(0), torch.tensor([1.5, -2.0, 0.0]), atol=0.015)
    assert torch.allclose(z.var(0), torch.tensor([0.25, 1.0, 4.0]), rtol=0.02)


def test_models_run_on_cuda_when_available():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device on this machine")
    for model_cls, shape in [
        (ConvAutoencoder, (3, 1, 28, 28)),
        (ConvVAE, (3, 1, 28, 28)),
        (SLMAutoencoder, (3, 30, 11)),
        (SLMVAE, (3, 30, 11)),
        (StarAutoencoder, (3, 5)),
    ]:
        model = model_cls().cuda()
        out = model(torch.rand(shape, device="cuda"))
        out = out[0] if isinstance(out, tuple) else out
        assert out.device.type == "cuda" and out.shape == shape


def test_slm_vae_gives_logits_and_a_deterministic_mean_in_eval_mode():
    torch.manual_seed(0)
    model = SLMVAE()
    x = torch.nn.functional.one_hot(torch.randint(0, 11, (6, 30)), 11).float()
    logits, mean, log_var = model(x)
    assert logits.shape == (6, 30, 11) and mean.shape == log_var.shape == (6, 2)
    model.eval()
    first, second = model(x)[0], model(x)[0]
    assert torch.equal(first, second)
    assert torch.equal(model(x)[1], model.encoder(x)[0])
