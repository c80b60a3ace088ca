"""The chapters of the course and the pieces each one is made of.

One entry per chapter of ``_toc.yml``: its lecture notebook, its nbgrader assignment, the
quality-target groups of :mod:`utils.evaluate` that check it and the recipes of
:mod:`utils.pretrained` that train its networks. ``tests/test_chapters.py`` checks, in
seconds, that every piece named here exists (and that nothing in the registries belongs to
no chapter); it is the checklist for adding a chapter.

A chapter without trained networks (or without quality targets) says why in ``no_networks``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chapter:
    number: int
    notebook: str                   # notebooks/<notebook>.ipynb, a file of _toc.yml
    assignment: str                 # solutions/<assignment>/ and exercises/<assignment>/
    evaluate: tuple[str, ...] = ()  # groups of utils.evaluate.GROUPS
    recipes: tuple[str, ...] = ()   # names in utils.pretrained.RECIPES
    no_networks: str = ""           # why a chapter has no evaluate group or recipe


CHAPTERS: tuple[Chapter, ...] = (
    Chapter(1, "01_unsupervised_learning", "ch01_pca",
            no_networks="k-means and PCA are fitted in the page itself; nothing is trained"),
    Chapter(2, "02_autoencoder", "ch02_encoder", evaluate=("mnist",),
            recipes=("mnist_autoencoder", "fashion_dense_autoencoder")),
    Chapter(3, "03_applications", "ch03_tools", evaluate=("mnist",),
            recipes=("mnist_denoising_autoencoder", "mnist_dense_autoencoder", "mnist_autoencoder")),
    Chapter(4, "04_elbo", "ch04_elbo",
            no_networks="the ELBO is checked on the linear Gaussian model, whose log p(x) is exact"),
    Chapter(5, "05_vae", "ch05_vae", evaluate=("vae",), recipes=("mnist_vae", "mnist_vae_beta")),
    Chapter(6, "06_string_theory", "ch06_slm", evaluate=("slm",), recipes=("slm_network",)),
    Chapter(7, "07_sdss_stars", "ch07_stars", evaluate=("sdss",), recipes=("sdss_star_autoencoder",)),
    Chapter(8, "08_lennard_jones", "ch08_lj", evaluate=("lj",), recipes=("lj_vae",)),
)
