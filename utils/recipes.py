"""The course's named networks: a typed config per recipe, load-or-train in one place.

A *recipe* is a function of a chapter module (:mod:`utils.chapters`) that returns
``(model, history)`` for a named network, trained by :func:`utils.train.fit`. It builds
two configs, a :class:`RecipeConfig` subclass of its chapter: the full one (the book's
network) and the fast one (a few steps on a small subset, for CI), and calls
:func:`load_or_train_recipe`.

The fields of a config are the cache key, and every field is read by the training: a
checkpoint is used only when its stored fields equal the config's, field by field, so
editing a docstring or a caption never retrains a network, and changing an epoch count or
a data subset always does.

Full-mode checkpoints live in :func:`utils.storage.checkpoint_dir` (``notebooks/
checkpoints/``, committed); fast-mode ones in its ``fast/`` folder (ignored by git). In
fast mode a matching full checkpoint is used when present, so the book shows
full-quality figures without retraining.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Callable

import torch
from torch import nn

from utils.config import fast_mode
from utils.device import get_device
from utils.storage import checkpoint_dir
from utils.train import History, load_or_train


@dataclass(frozen=True)
class RecipeConfig:
    """Base of every recipe's training config (a frozen dataclass).

    Subclasses declare fields such as ``epochs`` and ``latent_dim``; :meth:`to_dict` is
    what a checkpoint stores, with the class name under ``"config"``.
    """

    def to_dict(self) -> dict:
        return json.loads(json.dumps({"config": type(self).__name__} | asdict(self)))

    def replace(self, **changes) -> "RecipeConfig":
        """A copy with some fields changed (unknown names raise TypeError)."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field(s) {sorted(unknown)}")
        return type(self)(**(asdict(self) | changes))


FAST_IMAGES = dict(n_train=2000, n_test=500, epochs=1, batch_size=64, lr=1e-3, cosine_lr=False)
"""The fast-mode changes of the MNIST-sized recipes (chapters 2, 3 and 5): 1 epoch on 2,000
training and 500 test images, batch 64, constant learning rate 1e-3."""


def as_config_dict(config: RecipeConfig | dict) -> dict:
    return config.to_dict() if isinstance(config, RecipeConfig) else json.loads(json.dumps(config))


def print_epoch(epoch: int, history: History) -> None:
    """``on_epoch_end`` of :func:`utils.train.fit` that prints one line per epoch."""
    val = f", val {history.val_loss[-1]:.5f}" if history.val_loss else ""
    print(
        f"epoch {epoch + 1}: train {history.train_loss[-1]:.5f}{val} "
        f"({history.epoch_time_s[-1]:.0f} s)",
        flush=True,
    )


def seeded(make: Callable[[], nn.Module], seed: int = 0) -> Callable[[], nn.Module]:
    """``make`` with torch's generator seeded first: the recipe's initial weights."""
    def build() -> nn.Module:
        torch.manual_seed(seed)
        return make()
    return build


def load_or_train_recipe(
    name: str,
    make_model: Callable[[], nn.Module],
    train: Callable[[nn.Module, RecipeConfig | dict], History],
    full_config: RecipeConfig | dict,
    fast_config: RecipeConfig | dict,
    fast: bool | None = None,
    retrain: bool = False,
    device: torch.device | str | None = None,
    storage_dtype: torch.dtype | None = None,
) -> tuple[nn.Module, History]:
    """Return ``(model, history)`` for the recipe ``name``, loading or training as needed.

    Full mode uses ``<checkpoint_dir>/<name>.pt``; fast mode prefers that file when it was
    made with ``full_config`` and otherwise uses (or trains) ``fast/<name>.pt`` with
    ``fast_config``. ``train(model, config)`` trains the model in place and returns its
    History. ``storage_dtype`` rounds the weights of the full-mode checkpoint (not the
    fast one) to that type when it is written, for large models whose checkpoint is
    committed (see :func:`utils.train.save_checkpoint`).
    """
    fast = fast_mode() if fast is None else fast
    device = torch.device(device) if device is not None else get_device()
    full_path = checkpoint_dir() / f"{name}.pt"
    config = fast_config if fast else full_config
    path = checkpoint_dir() / "fast" / f"{name}.pt" if fast else full_path
    prefer = [(full_path, as_config_dict(full_config))] if fast else []
    model = make_model()
    history = load_or_train(
        path, model, lambda: train(model.to(device), config), as_config_dict(config),
        retrain=retrain, storage_dtype=None if fast else storage_dtype, prefer=prefer,
    )
    return model.to(device).eval(), history
