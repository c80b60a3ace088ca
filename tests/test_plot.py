import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from utils.models import ConvAutoencoder  # noqa: E402
from utils.plot import (  # noqa: E402
    decoded_latent_grid,
    decoded_quantile_grid,
    image_grid,
    latent_scatter,
    loss_curves,
)
from utils.train import History  # noqa: E402


def test_image_grid_lays_out_rows_with_titles(mnist_test):
    images, labels = mnist_test
    fig = image_grid(images[:20], ncols=10, row_titles=["a", "b"], titles=[str(v) for v in labels[:20]])
    assert isinstance(fig, Figure) and len(fig.axes) == 20
    assert fig.axes[0].get_ylabel() == "a" and fig.axes[10].get_ylabel() == "b"
    assert fig.axes[0].get_title() == str(labels[0])
    shown = fig.axes[5].images[0].get_array()
    assert np.array_equal(np.asarray(shown), images[5])


def test_image_grid_accepts_float_tensors():
    fig = image_grid(torch.rand(6, 1, 28, 28), ncols=3)
    assert len(fig.axes) == 6


def test_latent_scatter_colours_each_class_and_labels_axes():
    z = np.random.default_rng(0).normal(size=(300, 2))
    labels = np.arange(300) % 3
    fig = latent_scatter(z, labels, class_names=["x", "y", "w"])
    ax = fig.axes[0]
    assert ax.get_xlabel() and ax.get_ylabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["x", "y", "w"]
    assert sum(len(c.get_offsets()) for c in ax.collections) == 300


def test_decoded_latent_grid_tiles_n_by_n_images():
    torch.manual_seed(0)
    decoder = ConvAutoencoder().decoder
    fig = decoded_latent_grid(decoder, extent=(-2, 2, -1, 1), n=4)
    canvas = fig.axes[0].images[0].get_array()
    assert canvas.shape == (4 * 28, 4 * 28)
    # Top-left tile is the decoding of (z1_min, z2_max).
    expected = decoder(torch.tensor([[-2.0, 1.0]])).detach().numpy()[0, 0]
    assert np.allclose(canvas[:28, :28], expected, atol=1e-6)
    assert fig.axes[0].get_xlabel() == "$z_1$"


def test_decoded_quantile_grid_places_tiles_at_prior_quantiles():
    from scipy.stats import norm

    torch.manual_seed(0)
    decoder = ConvAutoencoder().decoder
    fig = decoded_quantile_grid(decoder, n=3, p_min=0.1)
    canvas = fig.axes[0].images[0].get_array()
    assert canvas.shape == (3 * 28, 3 * 28)
    q = float(norm.ppf(0.1))
    # top-left tile: smallest z1, largest z2; centre tile: the prior's median (0, 0)
    for (row, col), z in {(0, 0): [q, -q], (1, 1): [0.0, 0.0], (2, 2): [-q, q]}.items():
        expected = decoder(torch.tensor([z])).detach().numpy()[0, 0]
        tile = canvas[28 * row:28 * (row + 1), 28 * col:28 * (col + 1)]
        assert np.allclose(tile, expected, atol=1e-5), (row, col)
    assert "Phi(z_1)" in fig.axes[0].get_xlabel()


def test_loss_curves_plots_training_and_validation():
    history = History(train_loss=[1.0, 0.5, 0.3], val_loss=[1.1, 0.6, 0.4])
    fig = loss_curves(history)
    ax = fig.axes[0]
    assert len(ax.lines) == 2 and ax.get_xlabel() == "epoch"
    assert list(ax.lines[1].get_ydata()) == [1.1, 0.6, 0.4]


def test_latent_scatter_draws_the_classes_interleaved_not_one_over_the_other():
    """The last class drawn must not cover the others: points are drawn in a random order,
    so the colour sequence of the drawn points mixes the classes."""
    z = np.zeros((400, 2))
    labels = np.repeat([0, 1], 200)  # class by class, the 1s would all be drawn last
    ax = latent_scatter(z, labels).axes[0]
    points = max(ax.collections, key=lambda c: len(c.get_offsets()))
    colours = points.get_facecolors()[:, :3]
    import matplotlib.pyplot as plt

    second = np.all(np.isclose(colours, plt.get_cmap("tab10")(1)[:3]), axis=1)
    assert second.sum() == 200  # every point of class 1 has its colour
    assert 0.3 < second[:200].mean() < 0.7  # and half of them are drawn in the first half
