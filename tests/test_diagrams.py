"""utils/diagrams.py: the diagrams draw every labelled element they promise."""

import matplotlib

matplotlib.use("Agg")

from utils.diagrams import network_diagram, reparametrization_graph, vae_graphical_model  # noqa: E402


def _texts(fig):
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts + [ax.title])


def test_network_diagram_has_one_box_per_layer_and_marks_the_bottleneck():
    fig = network_diagram([("input", "28 x 28"), ("dense", "2"), ("output", "28 x 28")],
                          bottleneck=1, title="tiny")
    ax = fig.axes[0]
    boxes = [p for p in ax.patches if type(p).__name__ == "FancyBboxPatch"]
    assert len(boxes) == 3 and "tiny" in ax.get_title()
    assert boxes[1].get_height() < boxes[0].get_height()  # the narrow code
    assert "input\n28 x 28" in _texts(fig)


def test_the_vae_diagrams_name_the_encoder_decoder_and_the_noise():
    graphical = _texts(vae_graphical_model())
    assert r"$p_\theta(x \mid z)$" in graphical and r"$q_\phi(z \mid x)$" in graphical
    assert "$N$ images" in graphical
    graph = _texts(reparametrization_graph())
    assert r"$z = \mu + \sigma \varepsilon$" in graph and "not through" in graph


def test_the_vae_architecture_has_both_heads_the_sampling_node_and_every_layer():
    from utils.diagrams import vae_architecture

    encoder = [("input", "28 x 28"), ("conv", "14 x 14 x 32")]
    decoder = [("dense", "7 x 7 x 64"), ("output", "28 x 28")]
    fig = vae_architecture(encoder, 2, decoder, title="VAE")
    ax = fig.axes[0]
    boxes = [p for p in ax.patches if type(p).__name__ == "FancyBboxPatch"]
    assert len(boxes) == len(encoder) + 3 + len(decoder)  # + mu, log sigma^2, z
    texts = _texts(fig)
    for label in (r"$\mu$" + "\n2", r"$\log\sigma^2$" + "\n2", r"$\varepsilon$", "input\n28 x 28",
                  "output\n28 x 28", "encoder", "decoder", "VAE"):
        assert label in texts, label
