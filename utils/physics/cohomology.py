"""Line-bundle cohomology h^q(X, O_X(k)) on complete-intersection Calabi-Yau threefolds.

The numbers come from pyCICY (M. Larfors and R. Schneider, the ``pyCICY`` package on
PyPI), which follows the standard method (T. Hubsch, *Calabi-Yau Manifolds: A Bestiary
for Physicists*; L. Anderson, arXiv:0808.3621, ch. 3):

1. the Koszul sequence resolves O_X(k) by line bundles on the ambient space
   A = P^{n_1} x ... x P^{n_m}: 0 -> O_A(k) (x) wedge^K N^* -> ... -> O_A(k) -> O_X(k) -> 0,
   with N the sum of the K equations' line bundles;
2. Bott's formula (Bott-Borel-Weil) with the Kunneth formula gives every h^q(A, O_A(m))
   (on P^n: only h^0 for m >= 0 and h^n for m <= -n-1 are non-zero);
3. the Leray spectral sequence of the resolution; where it does not decide by dimension
   counting alone, the ranks of the maps (multiplication by the defining polynomials, with
   fixed random integer coefficients, so a generic complex structure) are computed.

This module is a thin wrapper: it makes the published package run on current numpy and
sympy (see :func:`_load_pycicy`), returns integer arrays, and evaluates each bundle once
per orbit of the configuration's symmetries (generic cohomology does not change when the
ambient factors are relabelled by a symmetry of the configuration matrix; the tests check
it on bundles that need the maps, together with Serre duality h^q(L) = h^{3-q}(L^*)).
"""

from __future__ import annotations

import logging
import types
from functools import lru_cache

import numpy as np

from .cicy import _split, configuration_symmetries, orbit_representatives

_PIN = "pyCICY==0.5.2"


def _load_pycicy():
    """Import pyCICY's module, adapted to current numpy and sympy without editing it.

    pyCICY 0.5.2 (2020) uses three things that have since been removed: ``np.int`` (gone in
    numpy 1.24), ``np.array`` of ragged lists without ``dtype=object`` (an error since numpy
    1.24; pyCICY builds such arrays for its log messages) and ``sympy.numbers`` (now
    ``sympy.core.numbers``). The module gets its own ``np`` and ``sp`` namespaces that
    restore exactly these three and pass everything else to the real libraries; numpy and
    sympy themselves are left untouched. Importing it also calls ``logging.basicConfig``,
    which is undone so that the course's logging is not reconfigured.
    """
    root = logging.getLogger()
    handlers = list(root.handlers)
    try:
        import pyCICY.pyCICY as module
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"Line-bundle cohomology needs the pyCICY package: pip install '{_PIN}' "
            "(it is in requirements.txt)."
        ) from error
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
    import sympy
    import sympy.core.numbers

    class _Numpy(types.ModuleType):
        int = int

        @staticmethod
        def array(obj, *args, **kwargs):
            try:
                return np.array(obj, *args, **kwargs)
            except ValueError:
                if args or "dtype" in kwargs:
                    raise
                return np.array(obj, dtype=object, **kwargs)

        def __getattr__(self, name):
            return getattr(np, name)

    class _Sympy(types.ModuleType):
        numbers = sympy.core.numbers

        def __getattr__(self, name):
            return getattr(sympy, name)

    module.np = _Numpy("numpy")
    module.sp = _Sympy("sympy")
    module.logger.setLevel(logging.WARNING)
    return module


class LineBundleCohomology:
    """h^*(X, O_X(k)) for the CICY threefold of a configuration matrix (P^n column first).

    >>> h = LineBundleCohomology(CICY_5302)
    >>> h([0, 0, 1, -1, 1, -1])      # -> array([0, 1, 1, 0]): h^0, h^1, h^2, h^3

    Results are cached by symmetry orbit, so a batch (:meth:`table`) costs one pyCICY call
    per distinct orbit.
    """

    def __init__(self, config):
        self.config = [list(map(int, row)) for row in config]
        n, _ = _split(self.config)
        self.n_factors = len(n)
        self.symmetries = np.array(configuration_symmetries(self.config))
        self._cicy = _load_pycicy().CICY(self.config, log=3)
        self._cache: dict[bytes, np.ndarray] = {}

    def _charges(self, k) -> np.ndarray:
        k = np.asarray(k)
        if k.shape[-1:] != (self.n_factors,):
            raise ValueError(f"charges need {self.n_factors} entries (one per P^n factor), "
                             f"got shape {k.shape}")
        if not np.issubdtype(k.dtype, np.integer):
            if not np.all(k == np.round(k)):
                raise ValueError("line-bundle charges must be integers")
        return k.astype(np.int64)

    def canonical(self, ks) -> np.ndarray:
        """The smallest image of each charge vector under the symmetries, (n, m)."""
        ks = self._charges(ks).reshape(-1, self.n_factors)
        return orbit_representatives(ks, self.symmetries)

    def hodge_numbers(self) -> tuple[int, int]:
        """(h^{1,1}, h^{2,1}) of X as pyCICY computes them (adjunction and Euler sequences,
        through the same line-bundle machinery): a check of it against the CICY list."""
        h = self._cicy.h
        return int(round(float(h[2]))), int(round(float(h[1])))

    def _compute(self, k: np.ndarray) -> np.ndarray:
        h = np.asarray(self._cicy.line_co([int(x) for x in k]), dtype=float)
        values = np.round(h).astype(np.int64)
        if np.any(np.abs(h - values) > 1e-6) or np.any(values < 0):
            raise ArithmeticError(f"pyCICY returned non-integral cohomology {h} for {k}")
        return values

    def __call__(self, k) -> np.ndarray:
        """(h^0, h^1, h^2, h^3) of O_X(k), integers."""
        k = self._charges(k)
        if k.ndim != 1:
            raise ValueError("one charge vector at a time; use .table for a batch")
        return self.table(k[None])[0]

    def table(self, ks) -> np.ndarray:
        """Cohomology of a batch of charge vectors (..., m) -> (..., 4)."""
        ks = self._charges(ks)
        flat = ks.reshape(-1, self.n_factors)
        if len(flat) == 0:
            return np.zeros(ks.shape[:-1] + (4,), dtype=np.int64)
        unique, inverse = np.unique(self.canonical(flat), axis=0, return_inverse=True)
        values = np.empty((len(unique), 4), dtype=np.int64)
        for i, k in enumerate(unique):
            key = k.tobytes()
            if key not in self._cache:
                self._cache[key] = self._compute(k)
            values[i] = self._cache[key]
        return values[inverse.reshape(-1)].reshape(ks.shape[:-1] + (4,))


@lru_cache(maxsize=8)
def _calculator(config_key: tuple) -> LineBundleCohomology:
    return LineBundleCohomology([list(row) for row in config_key])


def _for(config) -> LineBundleCohomology:
    """One shared calculator (and orbit cache) per configuration matrix."""
    return _calculator(tuple(tuple(int(x) for x in row) for row in config))


def line_bundle_cohomology(config, k) -> np.ndarray:
    """(h^0, h^1, h^2, h^3) of O_X(k) on the CICY threefold ``config``; see the module."""
    return _for(config)(k)


def cohomology_table(config, ks) -> np.ndarray:
    """Vectorised :func:`line_bundle_cohomology`: charges (..., m) -> (..., 4)."""
    return _for(config).table(ks)
