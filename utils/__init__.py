"""Shared machinery of the course *Autoencoders and Variational Autoencoders for Physicists*.

Modules, one job each:

* :mod:`utils.storage` -- paths, atomic writes, checksums, the array cache (the bottom).
* :mod:`utils.device` -- pick CUDA, Apple MPS or CPU and say which.
* :mod:`utils.data` -- real data sets (MNIST, Fashion-MNIST, SDSS) with verified downloads.
* :mod:`utils.models` -- every network of the course, with the lectures' exact sizes.
* :mod:`utils.losses` -- likelihoods, KL divergences, the ELBO and its decompositions.
* :mod:`utils.train` -- one training loop (:func:`fit`) and load-or-train checkpoints.
* :mod:`utils.recipes` -- typed training configs and load-or-train for named networks.
* :mod:`utils.chapters` -- one module per chapter: its recipes, constants and targets.
* :mod:`utils.plot`, :mod:`utils.diagrams` -- figures and diagrams drawn by code.
* :mod:`utils.text` -- numbers glued into the book's prose.
* :mod:`utils.physics` -- the physics that generates data sets.
"""

from utils.config import fast_mode, seed_everything

__all__ = ["fast_mode", "seed_everything"]
__version__ = "0.1.0"
