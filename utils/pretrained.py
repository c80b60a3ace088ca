"""The course's trained networks, by name: a registry over the chapter modules.

Every recipe lives in its chapter's module (:mod:`utils.chapters`); this module collects
them in :data:`RECIPES` and re-exports them, so that ``from utils.pretrained import
mnist_autoencoder`` works as well as ``from utils.chapters.ch02_autoencoder import ...``.
How loading and training work: :mod:`utils.recipes`.

    python -m utils.pretrained NAME [ARGS...]     # train NAME in full mode

trains (or loads, if current) a recipe in full mode and writes its checkpoint to
``notebooks/checkpoints/``, e.g. ``python -m utils.pretrained mnist_dense_autoencoder 8``
or ``python -m utils.pretrained slm_network vae "K<5"``.
"""

from __future__ import annotations

import os

from utils.chapters import chapter_modules
from utils.chapters.ch02_autoencoder import fashion_dense_autoencoder, mnist_autoencoder
from utils.chapters.ch03_applications import mnist_dense_autoencoder, mnist_denoising_autoencoder
from utils.chapters.ch05_vae import BETA_SWEEP, binarize, mnist_vae, mnist_vae_beta
from utils.chapters.ch06_slm import slm_cross_entropy, slm_network
from utils.chapters.ch07_stars import sdss_star_autoencoder
from utils.chapters.ch08_lj import LJ_BETAS, LJ_LATENT_DIMS, LJ_SIGMA, lj_vae, lj_vae_loss
from utils.recipes import load_or_train_recipe
from utils.storage import CHECKPOINT_ENV, checkpoint_dir
from utils.train import History

__all__ = [
    "BETA_SWEEP", "CHECKPOINT_ENV", "History", "LJ_BETAS", "LJ_LATENT_DIMS", "LJ_SIGMA",
    "RECIPES", "binarize", "checkpoint_dir", "fashion_dense_autoencoder",
    "load_or_train_recipe", "lj_vae", "lj_vae_loss", "mnist_autoencoder",
    "mnist_dense_autoencoder", "mnist_denoising_autoencoder", "mnist_vae", "mnist_vae_beta",
    "sdss_star_autoencoder", "slm_cross_entropy", "slm_network",
]


def _collect() -> dict:
    recipes: dict = {}
    for module in chapter_modules():
        clash = set(recipes) & set(module.RECIPES)
        if clash:
            raise RuntimeError(f"recipe names used by two chapters: {sorted(clash)}")
        recipes.update(module.RECIPES)
    return recipes


RECIPES = _collect()


def _argument(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text  # e.g. python -m utils.pretrained slm_network vae "K<5"


def main(argv: list[str] | None = None) -> int:
    import argparse

    import torch

    parser = argparse.ArgumentParser(
        description="Train (or load, if current) one of the course's networks in full mode.")
    parser.add_argument("name", choices=sorted(RECIPES), help="the recipe")
    parser.add_argument("args", nargs="*", help="its positional arguments, e.g. a latent size")
    parser.add_argument("--retrain", action="store_true", help="ignore an existing checkpoint")
    args = parser.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("COURSE_THREADS", torch.get_num_threads())))
    RECIPES[args.name](*(_argument(a) for a in args.args), fast=False, retrain=args.retrain)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
