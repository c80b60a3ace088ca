"""Every recipe runs its real training in fast mode and writes a loadable checkpoint
(the recipes live in utils/chapters/; utils.pretrained is their registry)."""

import pytest
import torch

from utils import pretrained
from utils.chapters import ch02_autoencoder, ch06_slm
from utils.recipes import load_or_train_recipe
from utils.train import History, load_checkpoint


@pytest.fixture
def checkpoints(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CHECKPOINT_DIR", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize(
    "name, args",
    [
        ("mnist_autoencoder", (2,)),
        ("fashion_dense_autoencoder", (2,)),
        ("mnist_denoising_autoencoder", (32,)),
        ("mnist_dense_autoencoder", (4,)),
    ],
)
def test_recipe_trains_in_fast_mode_and_saves_a_checkpoint(checkpoints, name, args):
    model, history = pretrained.RECIPES[name](*args, fast=True, device="cpu")
    assert len(history.train_loss) == 1 and len(history.val_loss) == 1
    assert history.val_loss[0] < 0.09  # below the all-black image's error (about 0.11)
    files = list((checkpoints / "fast").glob("*.pt"))
    assert len(files) == 1
    _, config = load_checkpoint(files[0], model)
    assert config["n_train"] == 2000 and config["epochs"] == 1
    assert not list(checkpoints.glob("*.pt")), "fast mode never writes a full checkpoint"


def test_fast_mode_prefers_a_matching_full_checkpoint(checkpoints):
    calls = []

    def make():
        torch.manual_seed(0)
        return torch.nn.Linear(3, 3)

    def train(model, config):
        calls.append(config["epochs"])
        with torch.no_grad():
            model.weight.fill_(config["epochs"])
        return History(train_loss=[float(config["epochs"])])

    full, quick = {"epochs": 10}, {"epochs": 1}
    args = ("tiny", make, train, full, quick)
    model, _ = load_or_train_recipe(*args, fast=True, device="cpu")
    assert calls == [1] and torch.all(model.weight == 1)
    model, _ = load_or_train_recipe(*args, fast=False, device="cpu")
    assert calls == [1, 10] and (checkpoints / "tiny.pt").exists()
    # Fast mode now loads the full checkpoint instead of its own.
    model, history = load_or_train_recipe(*args, fast=True, device="cpu")
    assert calls == [1, 10] and torch.all(model.weight == 10)
    assert history.train_loss == [10.0]
    # A full checkpoint made with another config is not used in fast mode.
    other = ("tiny", make, train, {"epochs": 20}, quick)
    model, _ = load_or_train_recipe(*other, fast=True, device="cpu")
    assert calls == [1, 10] and torch.all(model.weight == 1)  # the fast checkpoint


@pytest.mark.parametrize(
    "name, args, kwargs",
    [("mnist_vae", (2,), {}), ("mnist_vae", (2,), {"binarized": True}),
     ("mnist_vae_beta", (3.0,), {})],
)
def test_vae_recipes_train_in_fast_mode_and_beat_the_mean_image(checkpoints, mnist_test, name, args, kwargs):
    from utils.data import images_to_tensor

    model, history = pretrained.RECIPES[name](*args, **kwargs, fast=True, device="cpu")
    assert len(history.train_loss) == 1 and len(history.val_loss) == 1
    x = images_to_tensor(mnist_test[0][:500])
    if kwargs.get("binarized"):
        x = pretrained.binarize(x, torch.Generator().manual_seed(1))
    # the -ELBO of the best constant decoder (every pixel Bernoulli(mean)) and zero KL
    p = x.mean()
    baseline = -(x * p.log() + (1 - x) * (1 - p).log()).flatten(1).sum(1).mean().item()
    assert history.val_loss[0] < baseline - 10, (history.val_loss[0], baseline)
    _, config = load_checkpoint(next((checkpoints / "fast").glob("*.pt")), model)
    assert config["config"] == "VAEConfig" and config["n_train"] == 2000
    assert config["beta"] == (3.0 if name == "mnist_vae_beta" else 1.0)


def test_star_autoencoder_recipe_trains_in_fast_mode(checkpoints):
    model, history = pretrained.sdss_star_autoencoder(fast=True, device="cpu")
    assert len(history.train_loss) == 20
    assert history.val_loss[-1] < 0.2 * history.val_loss[0]  # it learns within 20 epochs
    _, config = load_checkpoint(checkpoints / "fast" / "sdss_star_ae.pt", model)
    assert config["config"] == "StarAutoencoderConfig" and config["sample"] == "shared"
    assert config["epochs"] == 20


def test_lj_vae_recipe_trains_in_fast_mode_and_improves_on_its_initial_weights(checkpoints):
    from utils.models import DistanceMatrixVAE
    from utils.physics.lennard_jones import distance_data
    from utils.train import predict

    model, history = pretrained.lj_vae(4, 1.0, fast=True, device="cpu")
    assert len(history.train_loss) == 2 and history.val_loss[-1] < history.val_loss[0]
    _, config = load_checkpoint(checkpoints / "fast" / "lj_vae_z4_beta1.pt", model)
    assert config["n_per_gamma"] == 1000 and config["latent_dim"] == 4 and config["beta"] == 1.0
    data = distance_data(n_per_gamma=1000)
    x = torch.from_numpy(data.x_test)
    torch.manual_seed(0)  # the recipe's initial weights
    untrained = DistanceMatrixVAE(4)
    assert data.distance_mse(predict(model, x)[0]) < 0.5 * data.distance_mse(predict(untrained, x)[0])


def test_slm_recipes_train_in_fast_mode_on_models_and_random_matrices(checkpoints):
    for kind in ("ae", "vae"):
        model, history = pretrained.slm_network(kind, "K<5", fast=True, device="cpu")
        assert len(history.train_loss) == 50
        # nats per matrix: below half of a uniform guess (30 ln 11 = 72) and still improving
        # after the first epoch
        assert history.val_loss[-1] < 36 and history.val_loss[-1] < history.val_loss[0] - 1
        _, config = load_checkpoint(checkpoints / "fast" / f"slm_{kind}_k5.pt", model)
        assert config["subset"] == "K<5" and config["kind"] == kind and config["epochs"] == 50
    with pytest.raises(ValueError, match="'ae' or 'vae'"):
        pretrained.slm_network("gan")


def test_kl_warmup_trains_a_separately_named_vae_and_is_checked(checkpoints):
    model, history = pretrained.slm_network("vae", "K<5", kl_warmup=50, fast=True, device="cpu")
    assert len(history.train_loss) == 50 and history.val_loss[-1] < 36
    _, config = load_checkpoint(checkpoints / "fast" / "slm_vae_k5_klwarmup50.pt", model)
    assert config["kl_warmup_epochs"] == 50
    assert not (checkpoints / "fast" / "slm_vae_k5.pt").exists()
    with pytest.raises(ValueError, match="only for the VAE"):
        pretrained.slm_network("ae", "K<5", kl_warmup=10)
    with pytest.raises(ValueError, match="whole number of epochs"):
        pretrained.slm_network("vae", "K<5", kl_warmup=-1)


def test_the_committed_slm_vaes_show_posterior_collapse_and_where_warm_up_cures_it(monkeypatch):
    """Chapter 6, for every seed: trained plainly, the VAE uses one latent coordinate (the
    other is the prior for every input); with the KL weight warmed up over 100 epochs it
    uses both on all models, and reaches a lower validation -ELBO there. On the small K<5
    set warm-up does not reliably help (the chapter says so)."""
    from utils.physics.slm_data import slm_dataset
    from utils.train import latent_coordinates

    monkeypatch.delenv("COURSE_CHECKPOINT_DIR", raising=False)
    monkeypatch.setattr(ch06_slm, "fit", lambda *a, **k: pytest.fail("retrained"))
    still_collapsed = {}
    for subset in ("K<5", "all"):
        data = slm_dataset(subset)
        still_collapsed[subset] = 0
        for seed in ch06_slm.SEEDS:
            nets = {w: pretrained.slm_network("vae", subset, kl_warmup=w, seed=seed, fast=True,
                                              device="cpu") for w in (0, 100)}
            spread = {w: latent_coordinates(m, data.one_hot("all")).numpy().std(0)
                      for w, (m, _) in nets.items()}
            assert spread[0].min() < 0.05 < 0.5 < spread[0].max(), (subset, seed, spread[0])
            still_collapsed[subset] += int(spread[100].min() < 0.05)
            if subset == "all":
                assert spread[100].min() > 0.5, (seed, spread[100])
                assert nets[100][1].val_loss[-1] < nets[0][1].val_loss[-1]
    assert still_collapsed == {"K<5": 2, "all": 0}


def test_the_committed_slm_autoencoders_separate_better_in_the_index_order(monkeypatch):
    """Chapter 6: the same network on the same matrices, written with the bundles ordered by
    index or lexicographically by charges; for every seed the index order separates models
    from random matrices better in the 2-D latent, by far more than the spread over seeds,
    and a classifier on the sorted indices alone does better still."""
    from utils.physics.slm_data import slm_dataset

    monkeypatch.delenv("COURSE_CHECKPOINT_DIR", raising=False)
    monkeypatch.setattr(ch06_slm, "fit", lambda *a, **k: pytest.fail("retrained"))
    data = slm_dataset("all")
    index_order = ch06_slm.latent_aucs("ae", "all", fast=True, data=data)
    charge_order = ch06_slm.latent_aucs("ae", "all", order="charges", fast=True,
                                        data=slm_dataset("all", order="charges"))
    spread = max(index_order.std(ddof=1), charge_order.std(ddof=1))
    assert index_order.min() > 0.95 > charge_order.max()
    assert index_order.mean() - charge_order.mean() > 5 * spread
    baseline = ch06_slm.baseline_aucs(data, seeds=(0,))
    assert baseline["sorted indices"][0] > index_order.max()
    assert baseline["entry counts"][0] < index_order.min()


def test_the_dense_autoencoders_of_chapters_2_and_3_load_from_committed_int8_checkpoints(monkeypatch):
    """A full build must not retrain them (issue 10): each loads, in float32, from a
    committed checkpoint under 5 MB that stores its weight matrices in int8."""
    monkeypatch.delenv("COURSE_CHECKPOINT_DIR", raising=False)
    monkeypatch.setattr(ch02_autoencoder, "train_image_autoencoder",
                        lambda model, config: pytest.fail(f"retrained {config}"))
    cases = [("fashion_dense_autoencoder", 2, "fashion_dense_ae_z2")] + [
        ("mnist_dense_autoencoder", d, f"mnist_dense_ae_z{d}") for d in (2, 4, 8, 16, 32)]
    for recipe, latent_dim, name in cases:
        model, history = pretrained.RECIPES[recipe](latent_dim, fast=False, device="cpu")
        assert all(p.dtype == torch.float32 for p in model.parameters())
        assert len(history.train_loss) == (30 if recipe.startswith("fashion") else 10)
        path = pretrained.checkpoint_dir() / f"{name}.pt"
        assert path.stat().st_size < 5_000_000
        stored = torch.load(path, weights_only=True)
        state, scales = stored["state_dict"], stored["int8_scales"]
        for key, value in model.state_dict().items():
            if key in scales:
                assert state[key].dtype == torch.int8
                assert torch.equal(value, state[key].float() * scales[key])
            else:
                assert value.ndim == 1 and torch.equal(value, state[key])
