"""One training loop for every chapter, and load-or-train checkpoints.

:func:`fit` takes a model, tensors of training data and a loss function
``loss_fn(model, *batch) -> scalar tensor``. The batch is a tuple of the tensors passed
as data, sliced together, so the same loop trains

* an autoencoder: ``fit(model, x, loss_fn=reconstruction_loss)``
* a denoising autoencoder: ``fit(model, x, loss_fn=lambda m, x: mse(m(noisy(x)), x))``
* a VAE: ``fit(model, x, loss_fn=lambda m, x: vae_loss(m, x, beta=1.0))``
* a classifier: ``fit(model, (x, y), loss_fn=lambda m, x, y: cross_entropy(m(x), y))``.

When the data fit in the device's memory they are moved there once and batches are index
slices (no DataLoader, no per-batch host-to-device copies). Convolutional models train in
the channels-last memory layout, and ``amp=True`` trains in bfloat16 mixed precision on
CUDA and on CPUs with native bfloat16 (benchmarks/train.py measures what each buys).
"""

from __future__ import annotations

import io
import json
import math
import os
import pickle
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from utils.config import show_progress
from utils.device import get_device
from utils.storage import display_path, write_atomic  # noqa: F401 (display_path re-exported)

LossFn = Callable[..., torch.Tensor]

# Keep at most this fraction of free accelerator memory for resident training data.
_DEVICE_MEMORY_FRACTION = 0.5


@dataclass
class History:
    """Per-epoch record of a training run: mean losses and wall times (seconds)."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    epoch_time_s: list[float] = field(default_factory=list)
    steps: int = 0
    best_epoch: int | None = None
    """With early stopping (``fit(patience=...)``): the epoch (from 0) of the lowest
    validation loss, whose weights the model holds after training; None otherwise."""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "History":
        return cls(**data)


class LinearWarmup:
    """A loss weight that rises linearly from 0 to 1 over the first ``epochs`` epochs.

    Pass it to :func:`fit` as ``on_epoch_end`` and read ``.value`` in the loss: epoch e
    (counted from 0) trains with weight ``min(1, e / epochs)``; ``epochs = 0`` gives 1
    throughout. The course uses it for KL warm-up (Bowman et al. 2016, arXiv:1511.06349): the
    VAE's KL term is switched off at first and phased in, against posterior collapse.
    """

    def __init__(self, epochs: int):
        if not isinstance(epochs, int) or epochs < 0:
            raise ValueError(f"epochs must be a whole number >= 0, got {epochs!r}")
        self.epochs = epochs
        self.value = 0.0 if epochs else 1.0

    def __call__(self, epoch: int, history: History | None = None) -> None:
        self.value = min(1.0, (epoch + 1) / self.epochs) if self.epochs else 1.0


def reconstruction_loss(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Mean squared error between ``model(x)`` and ``x`` (per pixel, batch-averaged)."""
    return F.mse_loss(model(x), x)


def _as_tuple(data) -> tuple[torch.Tensor, ...]:
    if isinstance(data, torch.Tensor):
        return (data,)
    data = tuple(data)
    if not data or not all(isinstance(t, torch.Tensor) for t in data):
        raise TypeError("data must be a tensor or a tuple of tensors")
    n = len(data[0])
    if any(len(t) != n for t in data):
        raise ValueError(
            f"all tensors of the data must have the same first dimension, got "
            f"{[len(t) for t in data]}"
        )
    return data


def _fits_on_device(tensors: Sequence[torch.Tensor], device: torch.device) -> bool:
    if device.type != "cuda":
        return True  # CPU data is already in memory; MPS shares host memory
    need = sum(t.numel() * t.element_size() for t in tensors)
    free, _ = torch.cuda.mem_get_info(device)
    return need < _DEVICE_MEMORY_FRACTION * free


def _batches(tensors, batch_size, device, generator, shuffle):
    n = len(tensors[0])
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    for start in range(0, n, batch_size):
        index = order[start : start + batch_size]
        if tensors[0].device != device:
            yield tuple(t[index].to(device, non_blocking=True) for t in tensors)
        else:
            index = index.to(device)
            yield tuple(t[index] for t in tensors)


def cpu_has_bf16() -> bool:
    """True when oneDNN runs bfloat16 natively on this CPU (AVX512-BF16 or AMX)."""
    try:
        return bool(torch.backends.mkldnn.is_available()
                    and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def _autocast(device: torch.device, enabled: bool):
    if enabled and device.type == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast("cuda", dtype=dtype)
    if enabled and device.type == "cpu" and cpu_has_bf16():
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return torch.autocast(device.type, enabled=False)


def has_convolutions(model: nn.Module) -> bool:
    """True when ``model`` contains a 2-D (transposed) convolution."""
    return any(isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) for m in model.modules())


def _channels_last(batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    return tuple(t.contiguous(memory_format=torch.channels_last) if t.dim() == 4 else t
                 for t in batch)


def _compiled(model: nn.Module) -> nn.Module:
    """``torch.compile(model)``, or the model itself (with a warning) where compile fails."""
    try:
        return torch.compile(model)
    except Exception as error:  # noqa: BLE001 - any failure means: train eagerly
        warnings.warn(f"torch.compile is not available here ({error}); training eagerly",
                      RuntimeWarning, stacklevel=3)
        return model


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data,
    loss_fn: LossFn = reconstruction_loss,
    batch_size: int = 1024,
    device: torch.device | None = None,
) -> float:
    """Mean of ``loss_fn`` over ``data`` (weighted by batch size), model in eval mode."""
    device = device or next(model.parameters()).device
    tensors = _as_tuple(data)
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        for batch in _batches(tensors, batch_size, device, None, shuffle=False):
            total += float(loss_fn(model, *batch)) * len(batch[0])
            count += len(batch[0])
    finally:
        model.train(was_training)
    return total / max(count, 1)


def default_optimizer(model: nn.Module, lr: float = 1e-3) -> torch.optim.Optimizer:
    """Adam over ``model.parameters()``, fused into one kernel where PyTorch supports it.

    The fused implementation updates all parameters in one call instead of one small
    operation per tensor: about 20% more steps per second for the course's small dense
    networks on a CPU (benchmarks/train.py), the same arithmetic otherwise. Falls back to
    the standard Adam on devices or dtypes without a fused kernel.
    """
    params = list(model.parameters())
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr)


def fit(
    model: nn.Module,
    data,
    *,
    loss_fn: LossFn = reconstruction_loss,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    optimizer: torch.optim.Optimizer | None = None,
    val_data=None,
    device: torch.device | str | None = None,
    amp: bool = False,
    max_steps: int | None = None,
    seed: int = 0,
    progress: bool | None = None,
    on_epoch_end: Callable[[int, History], None] | None = None,
    cosine_lr: bool = False,
    channels_last: bool | None = None,
    compile: bool = False,
    patience: int | None = None,
) -> History:
    """Train ``model`` by minimising ``loss_fn`` with Adam (or ``optimizer``).

    Args:
        model: any module; it is moved to ``device``.
        data: a tensor (N, ...) or a tuple of tensors with a common first dimension.
        loss_fn: ``loss_fn(model, *batch)`` returning a scalar tensor.
        epochs: passes over the data.
        batch_size: samples per step.
        lr: learning rate of the default Adam optimizer.
        optimizer: an optimizer over ``model.parameters()``; overrides ``lr``.
        val_data: data evaluated with ``loss_fn`` after each epoch (model in eval mode).
        device: defaults to :func:`utils.device.get_device`.
        amp: mixed precision: bfloat16 (or float16 with loss scaling) on CUDA, bfloat16 on
            CPUs that run it natively (:func:`cpu_has_bf16`); ignored elsewhere.
        max_steps: stop after this many optimizer steps in total (fast mode).
        seed: seeds the shuffling, so the same call gives the same batches.
        progress: show a tqdm bar; default: on, except in CI (see ``show_progress``).
        on_epoch_end: called as ``on_epoch_end(epoch, history)``.
        cosine_lr: decay the learning rate along a cosine from ``lr`` to 0 over the
            epochs (stepped once per epoch).
        channels_last: keep the model and 4-D batches in the channels-last memory layout
            (faster convolutions on CPU and GPU); default: on for models with convolutions.
        compile: run the model through ``torch.compile``; falls back to eager execution,
            with a warning, where compiling fails.
        patience: early stopping: end training when the validation loss has not gone
            below its lowest value for this many epochs, and give the model back the
            weights of that best epoch (``history.best_epoch``); ``epochs`` is then the
            most it may train. Needs ``val_data``.

    Returns:
        :class:`History` with the mean training loss of each epoch, the validation loss
        (if ``val_data``) and the wall time of each epoch.
    """
    from tqdm.auto import tqdm

    if patience is not None and (val_data is None or not isinstance(patience, int) or patience < 1):
        raise ValueError(f"early stopping (patience={patience!r}) needs val_data and a patience "
                         "of at least 1 epoch: pass both, or patience=None")
    device = torch.device(device) if device is not None else get_device()
    model.to(device)
    if channels_last is None:
        channels_last = has_convolutions(model)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    forward_model = _compiled(model) if compile else model
    tensors = _as_tuple(data)
    if _fits_on_device(tensors, device):
        tensors = tuple(t.to(device) for t in tensors)
    elif device.type == "cuda":
        tensors = tuple(t.pin_memory() for t in tensors)
    optimizer = optimizer or default_optimizer(model, lr)
    scheduler = (
        torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
        if cosine_lr
        else None
    )
    use_scaler = amp and device.type == "cuda" and not torch.cuda.is_bf16_supported()
    scaler = torch.amp.GradScaler("cuda") if use_scaler else None
    generator = torch.Generator().manual_seed(seed)
    history = History()
    progress = show_progress() if progress is None else progress
    n_batches = (len(tensors[0]) + batch_size - 1) // batch_size
    total_steps = epochs * n_batches if max_steps is None else min(max_steps, epochs * n_batches)
    bar = tqdm(total=total_steps, disable=not progress, unit="step", leave=False)
    best_loss, best_state = math.inf, None
    try:
        for epoch in range(epochs):
            model.train()
            start = time.perf_counter()
            total, count = torch.zeros((), device=device), 0
            for batch in _batches(tensors, batch_size, device, generator, shuffle=True):
                if channels_last:
                    batch = _channels_last(batch)
                try:
                    with _autocast(device, amp):
                        loss = loss_fn(forward_model, *batch)
                except Exception as error:  # noqa: BLE001 - only a compiled first step
                    if forward_model is model or history.steps > 0:
                        raise
                    warnings.warn(f"torch.compile failed on the first step ({error}); "
                                  "training eagerly", RuntimeWarning, stacklevel=2)
                    forward_model = model
                    with _autocast(device, amp):
                        loss = loss_fn(forward_model, *batch)
                if not torch.isfinite(loss):
                    raise FloatingPointError(
                        f"loss became {loss.item()} at step {history.steps}; lower the "
                        "learning rate or check the data for NaNs."
                    )
                optimizer.zero_grad(set_to_none=True)
                if scaler is not None:
                    scaler.scale(loss).backward()
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    loss.backward()
                    optimizer.step()
                total += loss.detach().float() * len(batch[0])
                count += len(batch[0])
                history.steps += 1
                bar.update(1)
                if max_steps is not None and history.steps >= max_steps:
                    break
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            history.epoch_time_s.append(time.perf_counter() - start)
            history.train_loss.append(float(total) / max(count, 1))
            if val_data is not None:
                history.val_loss.append(
                    evaluate(model, val_data, loss_fn, device=device)
                )
            if scheduler is not None:
                scheduler.step()
            bar.set_postfix(loss=f"{history.train_loss[-1]:.4g}")
            if on_epoch_end is not None:
                on_epoch_end(epoch, history)
            if max_steps is not None and history.steps >= max_steps:
                break
            if patience is not None:
                if history.val_loss[-1] < best_loss:
                    best_loss, history.best_epoch = history.val_loss[-1], epoch
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                elif epoch - history.best_epoch >= patience:
                    break
    finally:
        bar.close()
        if best_state is not None:
            model.load_state_dict(best_state)
        if channels_last:
            model.to(memory_format=torch.contiguous_format)  # checkpoints and callers as usual
    model.eval()
    return history


# --------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------


def save_checkpoint(
    path: str | os.PathLike,
    model: nn.Module,
    history: History,
    config: dict,
    storage_dtype: torch.dtype | None = None,
) -> Path:
    """Write ``{state_dict, history, config}`` to ``path`` atomically (temp file + rename).

    ``storage_dtype`` shrinks a large checkpoint: a floating type (e.g. ``torch.float16``)
    stores every floating-point tensor rounded to it (half the size); ``torch.int8`` stores
    every weight matrix as int8 with one float32 scale per output row, max|row| / 127 (a
    quarter), and keeps vectors such as biases as they are. :func:`load_checkpoint` turns
    either back into the model's own dtype.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    scales = {}
    if storage_dtype == torch.int8:
        for key, value in state.items():
            if value.is_floating_point() and value.ndim >= 2:
                rows = value.float().abs().amax(dim=tuple(range(1, value.ndim)), keepdim=True)
                scales[key] = rows.clamp_min(torch.finfo(torch.float32).tiny) / 127
                state[key] = (value / scales[key]).round().to(torch.int8)
    elif storage_dtype is not None:
        if not storage_dtype.is_floating_point:
            raise ValueError(f"storage_dtype must be a floating-point type or torch.int8, "
                             f"not {storage_dtype}")
        state = {k: v.to(storage_dtype) if v.is_floating_point() else v for k, v in state.items()}
    payload = {"state_dict": state, "history": history.to_dict(), "config": config}
    if scales:
        payload["int8_scales"] = scales
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return write_atomic(path, buffer.getvalue())


def load_checkpoint(path: str | os.PathLike, model: nn.Module) -> tuple[History, dict]:
    """Load weights saved by :func:`save_checkpoint` into ``model``; return history, config."""
    payload = torch.load(path, map_location="cpu", weights_only=True)
    state = payload["state_dict"]
    for key, scale in payload.get("int8_scales", {}).items():  # see save_checkpoint
        state[key] = state[key].float() * scale
    model.load_state_dict(state)
    return History.from_dict(payload["history"]), payload["config"]


_UNREADABLE = (pickle.UnpicklingError, RuntimeError, KeyError, EOFError, OSError, ValueError)


def load_matching_checkpoint(path: str | os.PathLike, model: nn.Module, config: dict) -> History | None:
    """Load the checkpoint at ``path`` into ``model`` if it exists, is readable and was made
    with ``config`` (compared field by field); return its History, else None with the
    model's weights as they were and the reason printed."""
    path = Path(path)
    if not path.exists():
        return None
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    try:
        history, saved_config = load_checkpoint(path, model)
    except _UNREADABLE as err:
        print(f"Checkpoint {display_path(path)} could not be loaded ({err}).")
    else:
        if saved_config == config:
            print(f"Loaded checkpoint {display_path(path)}")
            return history
        changed = sorted(k for k in set(config) | set(saved_config)
                         if config.get(k) != saved_config.get(k))
        print(f"Checkpoint {display_path(path)} was made with another config (differs in "
              f"{', '.join(changed)}); not used.")
    # training must start from the model's own initial weights, not from a rejected file
    model.load_state_dict(initial)
    return None


def load_or_train(
    path: str | os.PathLike,
    model: nn.Module,
    train: Callable[[], History],
    config: dict | None = None,
    retrain: bool = False,
    storage_dtype: torch.dtype | None = None,
    prefer: Sequence[tuple[str | os.PathLike, dict]] = (),
) -> History:
    """Load ``model`` from the checkpoint at ``path``, or train it and save one.

    ``config`` describes the training (epochs, data size, seed, ...). A checkpoint made with
    another config is not used: the model is retrained and the checkpoint replaced, so a
    notebook never shows a figure from a different training than its text describes.

    Args:
        path: checkpoint file (``.pt``).
        model: the (untrained) model; its weights are replaced by the checkpoint's.
        train: called with no argument when training is needed; returns a History.
        config: JSON-serialisable description of the training.
        retrain: ignore existing checkpoints.
        storage_dtype: save the weights rounded to this type (see :func:`save_checkpoint`);
            the freshly trained model is then reloaded from the file, so this run and every
            later one use the same, rounded, weights.
        prefer: ``(path, config)`` pairs of checkpoints to use instead, tried first in
            order (a full-mode checkpoint serves a fast-mode run); never written.
    """
    config = json.loads(json.dumps(config or {}))
    if not retrain:
        for other_path, other_config in (*prefer, (path, config)):
            history = load_matching_checkpoint(other_path, model,
                                               json.loads(json.dumps(other_config)))
            if history is not None:
                return history
    history = train()
    save_checkpoint(path, model, history, config, storage_dtype)
    print(f"Saved checkpoint {display_path(path)}")
    if storage_dtype is not None:
        load_checkpoint(path, model)
    return history


@torch.no_grad()
def predict(
    module: nn.Module, x: torch.Tensor, batch_size: int = 1000
) -> torch.Tensor:
    """Apply ``module`` (in eval mode) to ``x`` in batches on the module's device.

    Returns the outputs concatenated on the CPU; a tuple output (e.g. the VAE encoder's
    mean and log-variance) gives a tuple of tensors.
    """
    device = next(module.parameters()).device
    was_training = module.training
    module.eval()
    outputs = []
    try:
        for start in range(0, len(x), batch_size):
            out = module(x[start : start + batch_size].to(device))
            outputs.append(
                tuple(o.cpu() for o in out) if isinstance(out, tuple) else out.cpu()
            )
    finally:
        module.train(was_training)
    if outputs and isinstance(outputs[0], tuple):
        return tuple(torch.cat(parts) for parts in zip(*outputs))
    return torch.cat(outputs)


def latent_coordinates(model: nn.Module, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Encode ``x`` with ``model.encoder``: the latent code (N, d) of an autoencoder, or the
    posterior mean of a VAE (whose encoder returns mean and log-variance), on the CPU."""
    z = predict(model.encoder, x, batch_size)
    return z[0] if isinstance(z, tuple) else z
