"""utils/recipes.py: typed configs are the cache key, compared field by field."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch

from utils.recipes import RecipeConfig, load_or_train_recipe
from utils.train import History


@dataclass(frozen=True)
class TinyConfig(RecipeConfig):
    """A docstring is prose: editing it must never retrain."""

    epochs: int
    width: int = 3
    seed: int = 0


def test_a_config_is_stored_as_its_fields_and_its_class_name():
    config = TinyConfig(epochs=2)
    assert config.to_dict() == {"config": "TinyConfig", "epochs": 2, "width": 3, "seed": 0}
    assert config.replace(epochs=5) == TinyConfig(epochs=5)
    with pytest.raises(TypeError, match="no field"):
        config.replace(epoch=5)


def test_a_changed_field_retrains_and_says_which_field(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_CHECKPOINT_DIR", str(tmp_path))
    trained = []

    def make():
        torch.manual_seed(0)
        return torch.nn.Linear(3, 3)

    def train(model, config):
        trained.append(config)
        return History(train_loss=[float(config.epochs)])

    full, quick = TinyConfig(epochs=10), TinyConfig(epochs=1)
    load_or_train_recipe("tiny", make, train, full, quick, fast=False, device="cpu")
    load_or_train_recipe("tiny", make, train, full, quick, fast=False, device="cpu")
    assert trained == [full]  # the second call loaded
    load_or_train_recipe("tiny", make, train, full.replace(width=4), quick, fast=False, device="cpu")
    assert trained == [full, full.replace(width=4)]
    assert "differs in width" in capsys.readouterr().out
