"""Shared machinery of the course *Autoencoders and Variational Autoencoders for Physicists*.

Modules, one job each:

* :mod:`utils.device` -- pick CUDA, Apple MPS or CPU and say which.
* :mod:`utils.data` -- real data sets (MNIST, Fashion-MNIST) with verified downloads.
* :mod:`utils.models` -- every network of the course, with the lectures' exact sizes.
* :mod:`utils.train` -- one training loop (:func:`fit`) and load-or-train checkpoints.
* :mod:`utils.plot` -- figure helpers that return matplotlib figures.
* :mod:`utils.physics` -- the physics that generates data sets.
"""

from utils.config import fast_mode, seed_everything

__all__ = ["fast_mode", "seed_everything"]
__version__ = "0.1.0"
