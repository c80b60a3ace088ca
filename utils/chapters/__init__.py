"""The chapters of the course: one module per chapter that owns its knowledge.

A chapter module ``utils/chapters/chNN_<topic>.py`` holds what the chapter trains and
checks: its recipes (functions returning ``(model, history)``, each with a typed config,
:class:`utils.recipes.RecipeConfig`) in a ``RECIPES`` dict, its chapter-specific constants
and losses, and ``targets(fast=False)``, the quality targets that
``python -m utils.evaluate <EVALUATE_GROUP>`` checks. :mod:`utils.pretrained` and
:mod:`utils.evaluate` are registries over these modules.

:data:`CHAPTERS` lists every chapter of ``_toc.yml``: its lecture notebook, its nbgrader
assignment and its module. A chapter without trained networks (chapters 1 and 4) has no
module and says why in ``no_networks``. ``tests/test_chapters.py`` checks, in seconds,
that every piece named here exists; it is the checklist of CONTRIBUTING.md for adding a
chapter.

This file imports nothing heavy: the chapter modules (torch) load on first use.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class Chapter:
    number: int
    notebook: str                   # notebooks/<notebook>.ipynb, a file of _toc.yml
    assignment: str                 # solutions/<assignment>/ and exercises/<assignment>/
    module: str = ""                # utils/chapters/<module>.py, "" for no_networks
    no_networks: str = ""           # why a chapter has no module (no recipe, no target)

    def load(self) -> ModuleType | None:
        """The chapter module, imported (None for a chapter without one)."""
        return importlib.import_module(f"utils.chapters.{self.module}") if self.module else None

    @property
    def recipes(self) -> tuple[str, ...]:
        module = self.load()
        return tuple(module.RECIPES) if module else ()

    @property
    def evaluate_group(self) -> str:
        module = self.load()
        return module.EVALUATE_GROUP if module else ""


CHAPTERS: tuple[Chapter, ...] = (
    Chapter(1, "01_unsupervised_learning", "ch01_pca",
            no_networks="k-means and PCA are fitted in the page itself; nothing is trained"),
    Chapter(2, "02_autoencoder", "ch02_encoder", "ch02_autoencoder"),
    Chapter(3, "03_applications", "ch03_tools", "ch03_applications"),
    Chapter(4, "04_elbo", "ch04_elbo",
            no_networks="the ELBO is checked on the linear Gaussian model, whose log p(x) is exact"),
    Chapter(5, "05_vae", "ch05_vae", "ch05_vae"),
    Chapter(6, "06_string_theory", "ch06_slm", "ch06_slm"),
    Chapter(7, "07_sdss_stars", "ch07_stars", "ch07_stars"),
    Chapter(8, "08_lennard_jones", "ch08_lj", "ch08_lj"),
)


def chapter_modules() -> list[ModuleType]:
    """The chapter modules in chapter order."""
    return [m for m in (c.load() for c in CHAPTERS) if m is not None]
