import math

import numpy as np

import pytest
import torch
from torch import nn

from utils.data import images_to_tensor
from utils.models import ConvAutoencoder
from utils.train import History, LinearWarmup, evaluate, fit, load_checkpoint, load_or_train


def make_loaded(path, make):
    """A fresh model from ``make()`` with the weights of the checkpoint at ``path``."""
    model = make()
    load_checkpoint(path, model)
    return model


@pytest.fixture(scope="module")
def digits(mnist_test):
    images, labels = mnist_test
    return images_to_tensor(images[:1024]), torch.from_numpy(labels[:1024])


def test_fit_reduces_the_loss_of_the_conv_autoencoder_on_real_mnist(digits):
    x, _ = digits
    torch.manual_seed(0)
    model = ConvAutoencoder()
    before = evaluate(model, x[:512])
    history = fit(model, x, epochs=2, batch_size=64, lr=2e-3, device="cpu")
    after = evaluate(model, x[:512])
    assert len(history.train_loss) == 2 and history.steps == 32
    assert after < 0.6 * before, (before, after)
    assert history.train_loss[1] < history.train_loss[0]


def test_fit_is_deterministic_for_a_seed(digits):
    x, _ = digits
    runs = []
    for _ in range(2):
        torch.manual_seed(3)
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 8), nn.ReLU(), nn.Linear(8, 784),
                              nn.Unflatten(1, (1, 28, 28)))
        runs.append(fit(model, x, epochs=2, batch_size=128, seed=5, device="cpu").train_loss)
    assert runs[0] == runs[1]


def test_fit_with_labels_validation_and_max_steps(digits):
    x, y = digits
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    loss_fn = lambda m, xb, yb: nn.functional.cross_entropy(m(xb), yb)  # noqa: E731
    history = fit(model, (x, y), loss_fn=loss_fn, epochs=5, batch_size=100, lr=1e-2,
                  val_data=(x[:200], y[:200]), max_steps=15, device="cpu")
    assert history.steps == 15
    assert len(history.train_loss) == len(history.val_loss) == 2  # 11 steps/epoch
    assert history.val_loss[-1] < math.log(10)  # better than guessing


def test_fit_rejects_mismatched_data_and_stops_on_nan(digits):
    x, y = digits
    with pytest.raises(ValueError, match="same first dimension"):
        fit(nn.Linear(784, 10), (x, y[:10]), epochs=1)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 784), nn.Unflatten(1, (1, 28, 28)))
    bad = x.clone()
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(FloatingPointError, match="lower the learning rate or check the data"):
        fit(model, bad[:64], epochs=1, batch_size=64, device="cpu")


def test_load_or_train_trains_once_then_loads(tmp_path, digits):
    x, _ = digits
    calls = []

    def make():
        torch.manual_seed(0)
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 4), nn.Linear(4, 784),
                             nn.Unflatten(1, (1, 28, 28)))

    model = make()

    def train():
        calls.append(1)
        return fit(model, x[:256], epochs=1, batch_size=64, device="cpu")

    path = tmp_path / "ckpt" / "tiny.pt"
    h1 = load_or_train(path, model, train, config={"epochs": 1})
    assert calls == [1] and path.exists()
    fresh = make()
    h2 = load_or_train(path, fresh, train, config={"epochs": 1})
    assert calls == [1], "a matching checkpoint is loaded, not retrained"
    assert h2.train_loss == h1.train_loss
    for a, b in zip(model.state_dict().values(), fresh.state_dict().values()):
        assert torch.equal(a.cpu(), b)
    # A different training description is never passed off as this one, and the new
    # training starts from the model's own initial weights, not from the rejected checkpoint.
    other, start = make(), []

    def train_other():
        calls.append(1)
        start.extend(p.detach().clone() for p in other.parameters())
        return fit(other, x[:256], epochs=2, batch_size=64, device="cpu")

    load_or_train(path, other, train_other, config={"epochs": 2})
    assert calls == [1, 1]
    assert all(torch.equal(a, b) for a, b in zip(start, make().parameters()))
    _, config = load_checkpoint(path, make())
    assert config == {"epochs": 2}
    assert sorted(p.name for p in path.parent.iterdir()) == ["tiny.pt"]  # no temp files


def test_float16_and_int8_checkpoints_are_smaller_and_load_the_same_rounded_weights(tmp_path, digits):
    x, _ = digits

    def make():
        torch.manual_seed(0)
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 784),
                             nn.Unflatten(1, (1, 28, 28)))

    model = make()
    train = lambda: fit(model, x[:256], epochs=1, batch_size=64, device="cpu")  # noqa: E731
    full, half = tmp_path / "full.pt", tmp_path / "half.pt"
    load_or_train(full, model, train)
    trained = {k: v.clone() for k, v in model.state_dict().items()}
    weights = sum(v.numel() for v in trained.values())
    # saving in float16 hands back the rounded weights, the ones every later load gives
    load_or_train(half, model, lambda: History(), storage_dtype=torch.float16)
    for key, value in model.state_dict().items():
        assert value.dtype == torch.float32
        assert torch.equal(value, trained[key].half().float())
        assert not torch.equal(value, trained[key])
    assert full.stat().st_size - half.stat().st_size == pytest.approx(2 * weights, rel=0.01)
    fresh = make()
    load_or_train(half, fresh, lambda: pytest.fail("retrained"), storage_dtype=torch.float16)
    for a, b in zip(model.state_dict().values(), fresh.state_dict().values()):
        assert torch.equal(a, b)
    rounded = evaluate(fresh, x[256:512])
    assert rounded == pytest.approx(evaluate(make_loaded(full, make), x[256:512]), rel=1e-3)
    with pytest.raises(ValueError, match="floating-point type or torch.int8"):
        load_or_train(tmp_path / "int.pt", make(), lambda: History(), storage_dtype=torch.int32)
    assert not (tmp_path / "int.pt").exists()

    # int8: each weight row scaled by max|row| / 127, biases kept; a quarter of the size
    model.load_state_dict(trained)
    small = tmp_path / "int8.pt"
    load_or_train(small, model, lambda: History(), storage_dtype=torch.int8)
    assert full.stat().st_size - small.stat().st_size == pytest.approx(3 * 784 * 64 * 2, rel=0.02)
    for key, value in model.state_dict().items():
        if value.ndim == 1:
            assert torch.equal(value, trained[key])
        else:
            step = trained[key].abs().amax(dim=1, keepdim=True) / 127
            assert torch.all((value - trained[key]).abs() <= step / 2 + 1e-7)
    fresh = make()
    load_or_train(small, fresh, lambda: pytest.fail("retrained"), storage_dtype=torch.int8)
    for a, b in zip(model.state_dict().values(), fresh.state_dict().values()):
        assert torch.equal(a, b)
    assert evaluate(fresh, x[256:512]) == pytest.approx(rounded, rel=2e-2)


def test_load_or_train_recovers_from_a_corrupt_checkpoint(tmp_path, digits):
    x, _ = digits
    path = tmp_path / "broken.pt"
    path.write_bytes(b"not a checkpoint")
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 784), nn.Unflatten(1, (1, 28, 28)))
    history = load_or_train(path, model, lambda: fit(model, x[:64], epochs=1, device="cpu"))
    assert isinstance(history, History) and len(history.train_loss) == 1
    load_checkpoint(path, model)  # now valid


def test_fit_on_cuda_with_mixed_precision_when_available(digits):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device on this machine")
    x, _ = digits
    torch.manual_seed(0)
    model = ConvAutoencoder()
    before = evaluate(model.cuda(), x[:512])
    fit(model, x, epochs=2, batch_size=64, lr=2e-3, device="cuda", amp=True)
    assert next(model.parameters()).device.type == "cuda"
    assert evaluate(model, x[:512]) < 0.6 * before


def test_the_fused_default_optimizer_takes_the_same_steps_as_plain_adam():
    from utils.models import StarAutoencoder
    from utils.train import default_optimizer

    torch.manual_seed(0)
    x = torch.randn(256, 5)
    a, b = StarAutoencoder(), StarAutoencoder()
    b.load_state_dict(a.state_dict())
    initial = [p.detach().clone() for p in a.parameters()]
    fused, plain = default_optimizer(a, 1e-3), torch.optim.Adam(b.parameters(), lr=1e-3)
    assert fused.defaults.get("fused") is True  # the CPU has a fused Adam in torch 2.13
    for model, opt in ((a, fused), (b, plain)):
        for step in range(20):
            batch = x[step * 12:(step + 1) * 12]
            opt.zero_grad()
            ((model(batch) - batch) ** 2).mean().backward()
            opt.step()
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.allclose(pa, pb, atol=1e-5), (pa - pb).abs().max()
    assert all(not torch.equal(pa, p0) for pa, p0 in zip(a.parameters(), initial))  # it did train


def _same_start(make):
    torch.manual_seed(0)
    a = make()
    b = make()
    b.load_state_dict(a.state_dict())
    return a, b


def test_channels_last_is_the_default_for_conv_models_and_changes_only_the_layout(digits):
    from utils.train import has_convolutions

    x, _ = digits
    a, b = _same_start(ConvAutoencoder)
    assert has_convolutions(a) and not has_convolutions(nn.Linear(2, 2))
    ha = fit(a, x[:512], epochs=1, batch_size=64, device="cpu")  # channels-last
    hb = fit(b, x[:512], epochs=1, batch_size=64, device="cpu", channels_last=False)
    assert math.isclose(ha.train_loss[0], hb.train_loss[0], rel_tol=1e-4)
    assert math.isclose(evaluate(a, x[512:]), evaluate(b, x[512:]), rel_tol=1e-3)
    for pa, pb in zip(a.parameters(), b.parameters()):
        # Float rounding differs; Adam turns it into at most a step of lr per update where
        # a gradient is near zero, so 8 steps of lr 1e-3 stay within 8e-3.
        assert (pa - pb).abs().max() <= 8e-3
        assert pa.is_contiguous()  # handed back in the usual layout  # handed back in the usual layout


def test_bfloat16_mixed_precision_on_a_cpu_that_has_it_trains_to_the_same_loss(digits):
    from utils.train import cpu_has_bf16

    if not cpu_has_bf16():
        pytest.skip("this CPU has no native bfloat16; amp=True is then a no-op on CPU")
    x, _ = digits
    a, b = _same_start(ConvAutoencoder)
    before = evaluate(a, x[:512])
    fit(a, x, epochs=2, batch_size=64, lr=2e-3, device="cpu", amp=True)
    fit(b, x, epochs=2, batch_size=64, lr=2e-3, device="cpu")
    low, full = evaluate(a, x[:512]), evaluate(b, x[:512])
    assert low < 0.6 * before
    assert abs(low - full) < 0.05 * full, (low, full)  # bf16 rounding, not a different fit


def test_compile_falls_back_to_eager_training_when_compiling_fails(digits, monkeypatch):
    x, _ = digits

    def broken_compile(model, **kwargs):
        raise RuntimeError("no compiler on this machine")

    monkeypatch.setattr(torch, "compile", broken_compile)
    a, b = _same_start(ConvAutoencoder)
    with pytest.warns(RuntimeWarning, match="training eagerly"):
        ha = fit(a, x[:256], epochs=1, batch_size=64, device="cpu", compile=True)
    hb = fit(b, x[:256], epochs=1, batch_size=64, device="cpu")
    assert ha.train_loss == hb.train_loss


@pytest.mark.slow
def test_compiled_training_takes_the_same_steps_as_eager_training(digits):
    from utils.models import StarAutoencoder

    x = torch.randn(512, 5, generator=torch.Generator().manual_seed(0))
    a, b = _same_start(StarAutoencoder)
    ha = fit(a, x, epochs=2, batch_size=64, device="cpu", compile=True)
    hb = fit(b, x, epochs=2, batch_size=64, device="cpu")
    assert all(math.isclose(u, v, rel_tol=1e-4) for u, v in zip(ha.train_loss, hb.train_loss))


def test_latent_coordinates_are_the_code_or_the_posterior_mean():
    from utils.models import SLMAutoencoder, SLMVAE
    from utils.train import latent_coordinates

    torch.manual_seed(0)
    x = torch.nn.functional.one_hot(torch.randint(0, 11, (50, 30)), 11).float()
    ae, vae = SLMAutoencoder().eval(), SLMVAE().eval()
    with torch.no_grad():
        assert torch.allclose(latent_coordinates(ae, x, batch_size=16), ae.encoder(x))
        mean, _ = vae.encoder(x)
        assert torch.allclose(latent_coordinates(vae, x, batch_size=16), mean)


def test_linear_warmup_weights_each_epoch_as_fit_trains_it():
    weight = LinearWarmup(4)
    seen = []
    model = nn.Linear(2, 1)

    def loss(m, x):
        if m.training:
            seen.append(weight.value)
        return (m(x) ** 2).mean() * weight.value

    fit(model, torch.ones(8, 2), loss_fn=loss, epochs=6, batch_size=4, on_epoch_end=weight,
        progress=False)
    # two steps per epoch; epoch e trains with min(1, e / 4)
    assert seen == [0.0, 0.0, 0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 1.0, 1.0, 1.0, 1.0]
    assert LinearWarmup(0).value == 1.0
    with pytest.raises(ValueError, match="whole number >= 0"):
        LinearWarmup(-1)


def test_early_stopping_ends_after_patience_and_keeps_the_best_weights():
    """Training pulls w from 0 towards 2, the validation loss is lowest at w = 1: it first
    falls, then rises. fit must stop `patience` epochs after its minimum and give back
    the weights of that epoch, not the last ones."""
    model = torch.nn.Linear(1, 1, bias=False)
    torch.nn.init.zeros_(model.weight)
    x = torch.ones(8, 1)

    def loss(m, batch):
        target = 2.0 if m.training else 1.0
        return ((m(batch) - target) ** 2).mean()

    optimizer = torch.optim.SGD(model.parameters(), lr=0.02)
    history = fit(model, x, loss_fn=loss, val_data=x, epochs=500, batch_size=8,
                  optimizer=optimizer, patience=3, device="cpu", progress=False)
    best = int(np.argmin(history.val_loss))
    assert 5 < best < 100 and history.best_epoch == best
    assert len(history.val_loss) == best + 4  # three epochs without improvement, then stop
    with torch.no_grad():
        assert abs(((model(x[:1]) - 1.0) ** 2).item() - history.val_loss[best]) < 1e-6
    with pytest.raises(ValueError, match="needs val_data"):
        fit(model, x, loss_fn=loss, epochs=2, patience=3, device="cpu", progress=False)
