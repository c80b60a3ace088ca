"""Every network of the course.

The architectures reproduce the Keras models of the source lectures to the parameter
(see the table in ``COURSE_DESIGN.md``); :func:`count_parameters` checks it.

Shapes follow PyTorch conventions: images are ``(N, 1, 28, 28)`` floats in [0, 1].
"""

from __future__ import annotations

import math

import torch
from torch import nn


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


@torch.no_grad()
def keras_init_(module: nn.Module) -> nn.Module:
    """Initialise like Keras: Glorot-uniform weights and zero biases, in place.

    The lectures' networks were trained in Keras. With PyTorch's default (smaller)
    initialisation the 2-D-latent convolutional autoencoder often collapses to
    predicting the mean image within the first epoch; Glorot initialisation avoids it.
    """
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.xavier_uniform_(layer.weight)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
    return module


@torch.no_grad()
def init_output_bias_(model: nn.Module, mean_pixel: float) -> nn.Module:
    """Set the bias of the decoder's last layer to logit(mean_pixel), in place.

    The decoder then starts out predicting the average grey value instead of 0.5
    everywhere. Without this, the first Adam steps of a squared-error training push the
    sigmoid's input far negative to darken the mostly white images, the ReLUs before it
    die, and the network collapses to a blank output it never leaves (seen on MNIST for
    every seed tried, within 120 steps).
    """
    last = [m for m in model.decoder.modules() if isinstance(m, (nn.Linear, nn.ConvTranspose2d))][-1]
    p = min(max(float(mean_pixel), 1e-4), 1 - 1e-4)
    last.bias.fill_(math.log(p / (1 - p)))
    return model


@torch.no_grad()
def layer_table(module: nn.Module, example: torch.Tensor) -> str:
    """A Keras-style summary: each leaf layer, its output shape and parameter count.

    ``example`` is one input batch, e.g. ``torch.zeros(1, 1, 28, 28)``; shapes are shown
    without the batch dimension. Returns the table as text (print it).
    """
    rows: list[tuple[str, str, int]] = []
    hooks = []
    for name, layer in module.named_modules():
        if len(list(layer.children())) == 0:
            def hook(layer, inputs, output, name=name):
                out = output[0] if isinstance(output, tuple) else output
                rows.append((f"{name} ({type(layer).__name__})", str(tuple(out.shape[1:])),
                             count_parameters(layer)))
            hooks.append(layer.register_forward_hook(hook))
    was_training = module.training
    module.eval()
    try:
        module(example)
    finally:
        module.train(was_training)
        for h in hooks:
            h.remove()
    width = max(len(r[0]) for r in rows) + 2
    lines = [f"{'layer':<{width}}{'output shape':<18}{'parameters':>10}"]
    lines += [f"{a:<{width}}{b:<18}{c:>10,}" for a, b, c in rows]
    lines.append(f"{'total':<{width}}{'':<18}{count_parameters(module):>10,}")
    return "\n".join(lines)


class Autoencoder(nn.Module):
    """Base of the course's autoencoders: ``forward(x) = decoder(encoder(x))``.

    A subclass builds ``self.encoder`` (input -> code (N, latent_dim)) and ``self.decoder``
    (code -> output of the input's shape, or logits for one-hot inputs).
    """

    encoder: nn.Module
    decoder: nn.Module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


class VAE(nn.Module):
    """Base of the course's variational autoencoders.

    A subclass builds ``self.encoder``, a :class:`GaussianEncoder` (input -> mean and
    log-variance of q(z | x), each (N, latent_dim)), and ``self.decoder``. ``forward(x)``
    returns ``(output, mean, log_var)``: in training mode the decoder gets a sample
    z ~ q(z | x) (:func:`reparameterize`), in ``eval()`` mode the mean, so that
    reconstructions are deterministic.
    """

    encoder: nn.Module
    decoder: nn.Module

    def forward(self, x: torch.Tensor):
        mean, log_var = self.encoder(x)
        z = reparameterize(mean, log_var) if self.training else mean
        return self.decoder(z), mean, log_var


# --------------------------------------------------------------------------------------
# MNIST convolutional autoencoder and VAE (Schneider's lecture, Keras summary)
# --------------------------------------------------------------------------------------


def _conv_encoder_body() -> nn.Sequential:
    """(N, 1, 28, 28) -> (N, 1024): the convolutional trunk shared by the AE and VAE."""
    return nn.Sequential(
        nn.Conv2d(1, 64, 3, padding=1),  # 28x28, "same"
        nn.ReLU(),
        nn.MaxPool2d(2),  # 14x14
        nn.Conv2d(64, 64, 3),  # 12x12, "valid"
        nn.ReLU(),
        nn.MaxPool2d(2),  # 6x6
        nn.Conv2d(64, 64, 3),  # 4x4, "valid"
        nn.ReLU(),
        nn.Flatten(),  # 64 * 4 * 4 = 1024
    )


class ConvDecoder(nn.Module):
    """Latent vector (N, latent_dim) -> image (N, 1, 28, 28) with values in (0, 1).

    Dense to 3136 = 64x7x7, then two stride-2 transposed convolutions (7 -> 14 -> 28)
    and a final 3x3 transposed convolution to one channel with a sigmoid.
    For ``latent_dim = 2`` it has 83,841 parameters.
    """

    def __init__(self, latent_dim: int = 2):
        super().__init__()
        self.latent_dim = latent_dim
        self.dense = nn.Sequential(nn.Linear(latent_dim, 64 * 7 * 7), nn.ReLU())
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(64, 64, 3, stride=2, padding=1, output_padding=1),  # 14
            nn.ReLU(),
            nn.ConvTranspose2d(64, 64, 3, stride=2, padding=1, output_padding=1),  # 28
            nn.ReLU(),
            nn.ConvTranspose2d(64, 1, 3, padding=1),  # 28, one channel
            nn.Sigmoid(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.dense(z).view(-1, 64, 7, 7)
        return self.deconv(h)


class ConvAutoencoder(Autoencoder):
    """The MNIST convolutional autoencoder with a 2-D latent space.

    Encoder: (N, 1, 28, 28) -> (N, latent_dim), 76,546 parameters for a 2-D latent.
    Decoder: :class:`ConvDecoder`, 83,841 parameters.
    """

    def __init__(self, latent_dim: int = 2):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = nn.Sequential(_conv_encoder_body(), nn.Linear(1024, latent_dim))
        self.decoder = ConvDecoder(latent_dim)
        keras_init_(self)


class GaussianEncoder(nn.Module):
    """Encoder of a VAE: input -> (mean, log-variance) of q(z | x).

    ``body`` maps the input to ``features`` numbers (default: the MNIST convolutional
    body, 1024 features); a last dense layer with ``2 * latent_dim`` outputs is split into
    the mean and the log-variance, each of shape (N, latent_dim). 78,596 parameters for
    the MNIST body and a 2-D latent.
    """

    def __init__(self, latent_dim: int = 2, body: nn.Module | None = None, features: int = 1024):
        super().__init__()
        self.latent_dim = latent_dim
        self.body = _conv_encoder_body() if body is None else body
        self.head = nn.Linear(features, 2 * latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = self.head(self.body(x)).chunk(2, dim=-1)
        return mean, log_var


def reparameterize(
    mean: torch.Tensor, log_var: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Draw z = mean + sigma * eps with eps ~ N(0, 1), sigma = exp(log_var / 2).

    The randomness sits in ``eps``, outside the computational graph, so gradients flow
    to ``mean`` and ``log_var`` (the reparameterization trick, Kingma & Welling 2013).
    Shapes: ``mean`` and ``log_var`` (N, d) -> z (N, d).
    """
    if generator is None:
        eps = torch.randn_like(mean)
    else:
        eps = torch.randn(
            mean.shape, generator=generator, device=mean.device, dtype=mean.dtype
        )
    return mean + torch.exp(0.5 * log_var) * eps


class ConvVAE(VAE):
    """The MNIST convolutional variational autoencoder with a 2-D latent space.

    ``forward(x)`` returns ``(reconstruction, mean, log_var)``; reconstruction has the
    shape of x, mean and log_var are (N, latent_dim). In ``eval()`` mode the decoder is
    fed the mean instead of a sample, so reconstructions are deterministic.
    """

    def __init__(self, latent_dim: int = 2):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = GaussianEncoder(latent_dim)
        self.decoder = ConvDecoder(latent_dim)
        keras_init_(self)


# --------------------------------------------------------------------------------------
# Dense image autoencoder (Duarte's lecture: Fashion-MNIST, compared with PCA)
# --------------------------------------------------------------------------------------


def _dense_stack(
    widths: list[int], last_activation: nn.Module | None, activation: type[nn.Module] = nn.ReLU
) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(widths) - 2:
            layers.append(activation())
    if last_activation is not None:
        layers.append(last_activation)
    return nn.Sequential(*layers)


class DenseAutoencoder(Autoencoder):
    """Fully connected autoencoder for 28 x 28 images.

    Encoder: flatten 784 -> 1000 -> 500 -> 250 -> 32 -> latent_dim, ReLU between layers
    and a linear bottleneck. Decoder: the mirror image, latent_dim -> 32 -> 250 -> 500 ->
    1000 -> 784 with a sigmoid, reshaped to (N, 1, 28, 28). ``hidden`` changes the
    widths (default: the lecture's 1000, 500, 250, 32).
    """

    def __init__(self, latent_dim: int = 2, hidden: tuple[int, ...] = (1000, 500, 250, 32)):
        super().__init__()
        self.latent_dim = latent_dim
        widths = [28 * 28, *hidden, latent_dim]
        self.encoder = nn.Sequential(nn.Flatten(), _dense_stack(widths, None))
        self.decoder = nn.Sequential(
            _dense_stack(widths[::-1], nn.Sigmoid()), nn.Unflatten(1, (1, 28, 28))
        )
        keras_init_(self)


# --------------------------------------------------------------------------------------
# Dense autoencoder for standard-like models (Schneider's lecture)
# --------------------------------------------------------------------------------------


class SLMAutoencoder(Autoencoder):
    """Dense autoencoder for line-bundle models encoded one-hot as 30 x 11 matrices.

    Encoder: (N, 30, 11) -> flatten 330 -> 32 -> 16 -> 8 -> 4 -> 2 (11,302 parameters).
    Decoder: 2 -> 4 -> 8 -> 16 -> 32 -> 330 -> (N, 30, 11) (11,630 parameters).
    Leaky ReLU (slope 0.01) between layers, linear bottleneck. The decoder returns logits; a softmax over the last axis gives the one-hot
    probabilities of the 11 possible entries of each of the 30 matrix elements.
    """

    def __init__(self, rows: int = 30, classes: int = 11, latent_dim: int = 2):
        super().__init__()
        self.shape = (rows, classes)
        widths = [rows * classes, 32, 16, 8, 4, latent_dim]
        self.encoder = nn.Sequential(nn.Flatten(), _dense_stack(widths, None, nn.LeakyReLU))
        self.decoder = nn.Sequential(
            _dense_stack(widths[::-1], None, nn.LeakyReLU), nn.Unflatten(1, self.shape)
        )
        keras_init_(self)


class SLMVAE(VAE):
    """Variational version of :class:`SLMAutoencoder` for one-hot models (N, 30, 11).

    Encoder: flatten 330 -> 32 -> 16 -> 8 -> 4 (leaky ReLU after each layer), then a dense
    layer 4 -> 2 latent_dim split into mean and log-variance (11,312 parameters for a 2-D
    latent). Decoder: as in the autoencoder, 2 -> 4 -> 8 -> 16 -> 32 -> 330 logits
    (11,630 parameters). ``forward(x)`` returns ``(logits, mean, log_var)``; in ``eval()``
    mode the decoder gets the mean. Train with
    ``utils.losses.vae_loss(model, x, likelihood="categorical")``.
    """

    def __init__(self, rows: int = 30, classes: int = 11, latent_dim: int = 2):
        super().__init__()
        self.shape = (rows, classes)
        self.latent_dim = latent_dim
        body = nn.Sequential(
            nn.Flatten(), _dense_stack([rows * classes, 32, 16, 8, 4], nn.LeakyReLU(), nn.LeakyReLU)
        )
        self.encoder = GaussianEncoder(latent_dim, body=body, features=4)
        widths = [rows * classes, 32, 16, 8, 4, latent_dim]
        self.decoder = nn.Sequential(
            _dense_stack(widths[::-1], None, nn.LeakyReLU), nn.Unflatten(1, self.shape)
        )
        keras_init_(self)


# --------------------------------------------------------------------------------------
# SDSS stellar colours autoencoder (Prosper's lecture)
# --------------------------------------------------------------------------------------


def _silu_layernorm_mlp(n_in: int, n_out: int, hidden: int, n_hidden: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = n_in
    for _ in range(n_hidden):
        layers += [nn.Linear(width, hidden), nn.SiLU(), nn.LayerNorm(hidden)]
        width = hidden
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


class StarAutoencoder(Autoencoder):
    """5 -> 2 -> 5 autoencoder for the ugriz magnitudes of stars.

    Encoder: Linear(5, 40) and three Linear(40, 40), each followed by SiLU and
    LayerNorm(40), then Linear(40, 2). The decoder is the mirror image (2 -> ... -> 5).
    The encoder has 5,562 parameters and the decoder 5,565.
    """

    def __init__(self, n_features: int = 5, latent_dim: int = 2, hidden: int = 40):
        super().__init__()
        self.encoder = _silu_layernorm_mlp(n_features, latent_dim, hidden, n_hidden=4)
        self.decoder = _silu_layernorm_mlp(latent_dim, n_features, hidden, n_hidden=4)


# --------------------------------------------------------------------------------------
# Convolutional VAE for distance matrices of Lennard-Jones configurations (chapter 8)
# --------------------------------------------------------------------------------------


class SymmetricDistanceHead(nn.Module):
    """Make square outputs valid-looking distance images: (M + M^T) / 2 with a zero
    diagonal, in every channel. (N, C, n, n) -> (N, C, n, n)."""

    def forward(self, m: torch.Tensor) -> torch.Tensor:
        sym = 0.5 * (m + m.transpose(-1, -2))
        eye = torch.eye(m.shape[-1], dtype=torch.bool, device=m.device)
        return sym.masked_fill(eye, 0.0)


class DistanceMatrixVAE(VAE):
    """Convolutional VAE for (N, C, n, n) distance images (n = 30 particles, C = 2
    channels: distances and contacts, see :func:`utils.physics.lennard_jones.distance_channels`).

    Encoder: Conv C->16 3x3 same, Conv 16->32 3x3 stride 2 (15x15), Conv 32->32 3x3
    stride 2 (8x8), Flatten 2048, Dense 128, Dense 2 * latent_dim (mean and
    log-variance); LeakyReLU(0.1) after every hidden layer. Decoder: the mirror image,
    Dense latent->128->2048, ConvT 32->32 (15x15), ConvT 32->16 (30x30), Conv 16->C, then
    :class:`SymmetricDistanceHead`. ``forward(x)`` returns ``(reconstruction, mean,
    log_var)`` like :class:`ConvVAE`; in ``eval()`` mode the decoder gets the mean.
    Only n = 30 is supported by the strides.
    """

    def __init__(self, latent_dim: int = 16, channels: int = 2, n: int = 30):
        super().__init__()
        if n != 30:
            raise ValueError(f"DistanceMatrixVAE is built for 30 x 30 matrices; got n={n}")
        self.latent_dim = latent_dim
        act = lambda: nn.LeakyReLU(0.1)  # noqa: E731
        body = nn.Sequential(
            nn.Conv2d(channels, 16, 3, padding=1), act(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), act(),
            nn.Conv2d(32, 32, 3, stride=2, padding=1), act(),
            nn.Flatten(), nn.Linear(32 * 8 * 8, 128), act(),
        )
        self.encoder = GaussianEncoder(latent_dim, body, features=128)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, 128), act(),
            nn.Linear(128, 32 * 8 * 8), act(), nn.Unflatten(1, (32, 8, 8)),
            nn.ConvTranspose2d(32, 32, 3, stride=2, padding=1), act(),  # 15 x 15
            nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1), act(),  # 30 x 30
            nn.Conv2d(16, channels, 3, padding=1),
            SymmetricDistanceHead(),
        )

