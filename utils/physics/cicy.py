"""Topology of complete-intersection Calabi-Yau threefolds (CICYs) and their line bundles.

A CICY X is cut out by K polynomial equations in a product of projective spaces
A = P^{n_1} x ... x P^{n_m}. Its *configuration matrix* lists, for every factor P^{n_i},
its dimension n_i followed by the degrees q_{i1}..q_{iK} of the K equations in that
factor's coordinates. Here a configuration is a list of rows ``[n_i, q_i1, ..., q_iK]``
(the P^n column first), e.g. the quintic ``[[4, 5]]`` and CICY 5302::

    CICY_5302 = [[1, 0, 1, 1], [1, 0, 1, 1], [1, 1, 1, 0],
                 [1, 1, 1, 0], [1, 1, 0, 1], [1, 1, 0, 1]]

The Calabi-Yau condition is sum_j q_ij = n_i + 1 for every row. The formulas below hold
for *favourable* CICYs, whose second cohomology is spanned by the hyperplane classes
J_1..J_m of the ambient factors (then h11 = m and a line bundle is O_X(k) with k in Z^m):

* triple intersection numbers  d_rst = int_X J_r J_s J_t
                                      = int_A J_r J_s J_t  prod_j (sum_i q_ij J_i),
  the coefficient of prod_i J_i^{n_i} in the polynomial J_r J_s J_t prod_j (sum_i q_ij J_i);
* Chern classes of the tangent bundle, from c(TX) = prod_i (1 + J_i)^{n_i + 1} /
  prod_j (1 + sum_i q_ij J_i) (Huebsch, "Calabi-Yau manifolds: a bestiary for physicists"):
  c2^{rs} = (-(n_r + 1) delta^{rs} + sum_j q_rj q_sj) / 2,
  c3^{rst} = ((n_r + 1) delta^{rst} - sum_j q_rj q_sj q_tj) / 3,
  c2(TX)_r = d_rst c2^{st} and the Euler number chi = d_rst c3^{rst};
* the index of a line bundle (Hirzebruch-Riemann-Roch on a Calabi-Yau threefold)
  ind(O_X(k)) = sum_q (-1)^q h^q(X, O_X(k)) = d_rst k^r k^s k^t / 6 + c2(TX)_r k^r / 12.

The list of all 7,890 CICYs (Candelas et al. 1988; favourable forms: Anderson, Gao, Gray
and Lee, arXiv:1708.07907) is read by :func:`load_cicy_list` from the course's data
folder; the tests recompute c2 and the Euler number of every favourable entry.
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
from pathlib import Path

import numpy as np

from ..storage import DATA_DIR_ENV, DataNotFoundError, data_dir

CICY_5302 = [
    [1, 0, 1, 1],
    [1, 0, 1, 1],
    [1, 1, 1, 0],
    [1, 1, 1, 0],
    [1, 1, 0, 1],
    [1, 1, 0, 1],
]
QUINTIC = [[4, 5]]


def _split(config) -> tuple[np.ndarray, np.ndarray]:
    """(n, q): the dimensions (m,) and the degree matrix (m, K) of a configuration."""
    matrix = np.asarray(config, dtype=np.int64)
    if matrix.ndim != 2 or matrix.shape[1] < 2:
        raise ValueError(
            "a configuration is a list of rows [n_i, q_i1, ..., q_iK] with the P^n "
            f"dimension first; got an array of shape {matrix.shape}"
        )
    n, q = matrix[:, 0], matrix[:, 1:]
    if np.any(n < 1) or np.any(q < 0):
        raise ValueError("dimensions n_i must be >= 1 and degrees q_ij >= 0")
    if n.sum() - q.shape[1] != 3:
        raise ValueError(
            f"sum_i n_i - K = {n.sum() - q.shape[1]}, but a threefold needs 3 "
            f"(ambient dimension {n.sum()}, {q.shape[1]} equations)"
        )
    if np.any(q.sum(axis=1) != n + 1):
        bad = np.flatnonzero(q.sum(axis=1) != n + 1).tolist()
        raise ValueError(
            f"rows {bad} violate the Calabi-Yau condition sum_j q_ij = n_i + 1 "
            "(is the P^n column missing or misplaced?)"
        )
    return n, q


def _truncated_product(n: np.ndarray, q: np.ndarray) -> np.ndarray:
    """prod_j (sum_i q_ij J_i) in the ring Z[J_1..J_m] / (J_i^{n_i + 1}).

    Returned as a dense coefficient array of shape (n_1 + 1, ..., n_m + 1): entry
    [a_1, ..., a_m] is the coefficient of J_1^{a_1} ... J_m^{a_m}.
    """
    poly = np.zeros(tuple(n + 1), dtype=np.int64)
    poly[(0,) * len(n)] = 1
    for column in q.T:
        new = np.zeros_like(poly)
        for i, degree in enumerate(column):
            if degree == 0:
                continue
            shifted = np.zeros_like(poly)
            target = [slice(None)] * len(n)
            source = [slice(None)] * len(n)
            target[i], source[i] = slice(1, None), slice(None, -1)
            shifted[tuple(target)] = poly[tuple(source)]
            new = new + int(degree) * shifted
        poly = new
    return poly


def triple_intersection_numbers(config) -> np.ndarray:
    """d_rst = int_X J_r J_s J_t of a favourable CICY, an integer array (m, m, m).

    Symmetric in r, s, t. For CICY 5302: 2 when r, s, t are distinct, 0 otherwise.
    """
    n, q = _split(config)
    poly = _truncated_product(n, q)
    m = len(n)
    d = np.zeros((m, m, m), dtype=np.int64)
    for r, s, t in itertools.combinations_with_replacement(range(m), 3):
        exponent = n.copy()
        for i in (r, s, t):
            exponent[i] -= 1
        if np.any(exponent < 0):
            continue
        value = int(poly[tuple(exponent)])
        for perm in set(itertools.permutations((r, s, t))):
            d[perm] = value
    return d


def _c2_upper(n: np.ndarray, q: np.ndarray) -> np.ndarray:
    """2 c2^{rs} (integer, to stay exact): -(n_r + 1) delta^{rs} + sum_j q_rj q_sj."""
    return -np.diag(n + 1) + q @ q.T


def second_chern_class(config) -> np.ndarray:
    """c2(TX)_r = int_X c2(TX) J_r, an integer vector (m,). 24 for every r on CICY 5302."""
    n, q = _split(config)
    d = triple_intersection_numbers(config)
    twice = np.einsum("rst,st->r", d, _c2_upper(n, q))
    if np.any(twice % 2):
        raise ArithmeticError("c2 came out half-integral; the configuration is inconsistent")
    return twice // 2


def euler_number(config) -> int:
    """chi(X) = int_X c3(TX); -48 for CICY 5302 and -200 for the quintic."""
    n, q = _split(config)
    d = triple_intersection_numbers(config)
    m = len(n)
    thrice = -np.einsum("ij,kj,lj->ikl", q, q, q)
    thrice[np.arange(m), np.arange(m), np.arange(m)] += n + 1
    total = int(np.einsum("rst,rst->", d, thrice))
    if total % 3:
        raise ArithmeticError("chi came out fractional; the configuration is inconsistent")
    return total // 3


def line_bundle_index(config, k) -> int:
    """ind(O_X(k)) = d_rst k^r k^s k^t / 6 + c2_r k^r / 12 (an integer), k in Z^m."""
    k = np.asarray(k, dtype=np.int64)
    n, _ = _split(config)
    if k.shape != (len(n),):
        raise ValueError(f"k must have one charge per ambient factor, shape ({len(n)},)")
    d = triple_intersection_numbers(config)
    twelve_ind = 2 * int(np.einsum("rst,r,s,t->", d, k, k, k)) + int(
        second_chern_class(config) @ k
    )
    if twelve_ind % 12:
        raise ArithmeticError(f"the index of O({k.tolist()}) is not an integer")
    return twelve_ind // 12


def configuration_symmetries(config) -> list[tuple[int, ...]]:
    """Row permutations that map the configuration matrix to itself.

    A permutation sigma of the ambient factors is a symmetry when the permuted matrix equals
    the original up to a reordering of the equations (columns) and keeps every n_i. It acts
    on line-bundle charges by k -> k[sigma]. Returns the group as a list of tuples (the
    identity first). CICY 5302 has 48: swaps inside the three pairs of identical rows (2^3)
    times the permutations of the pairs, each matched by a permutation of the equations (3!).
    """
    n, q = _split(config)
    columns = sorted(map(tuple, q.T))
    group = []
    for sigma in itertools.permutations(range(len(n))):
        sigma_idx = list(sigma)
        if np.any(n[sigma_idx] != n):
            continue
        if sorted(map(tuple, q[sigma_idx].T)) == columns:
            group.append(tuple(sigma))
    return group


def orbit_representatives(ks, symmetries) -> np.ndarray:
    """The lexicographically smallest image ``k[sigma]`` of each charge vector over a group.

    Args:
        ks: integer charges (..., m).
        symmetries: the group as permutations of the m factors, (|G|, m), e.g.
            :func:`configuration_symmetries`.
    Returns:
        (..., m): two charge vectors lie in the same orbit exactly when their
        representatives are equal.
    """
    ks = np.asarray(ks, dtype=np.int64)
    symmetries = np.asarray(symmetries, dtype=np.int64)
    if symmetries.ndim != 2 or symmetries.shape[1] != ks.shape[-1]:
        raise ValueError(f"symmetries must have shape (|G|, {ks.shape[-1]}) to act on charges "
                         f"of length {ks.shape[-1]}, got {symmetries.shape}")
    flat = ks.reshape(-1, ks.shape[-1])
    images = flat[:, symmetries]  # (n, |G|, m)
    alive = np.ones(images.shape[:2], dtype=bool)
    for r in range(images.shape[-1]):  # keep the images that are smallest so far, column by column
        values = np.where(alive, images[..., r], np.iinfo(np.int64).max)
        alive &= values == values.min(axis=1, keepdims=True)
    return images[np.arange(len(flat)), alive.argmax(axis=1)].reshape(ks.shape)


# --------------------------------------------------------------------------------------
# The list of CICY threefolds
# --------------------------------------------------------------------------------------

CICY_FILES = {"favourable": "cicy3f.json.gz", "original": "cicy3o.json.gz"}


def load_cicy_list(kind: str = "favourable", path: str | os.PathLike | None = None) -> dict:
    """The 7,890 CICY threefolds as ``{id: entry}``, entries with h11, h21, c2 and matrix.

    ``kind="favourable"`` reads the favourable forms (arXiv:1708.07907; entries also carry
    ``favour`` and ``kahlerpos``), ``"original"`` the original list (arXiv:1003.3235, with
    ``euler``). The file ``cicy/<name>.json.gz`` is looked for in ``path`` or in
    ``$COURSE_DATA_DIR``. Matrices there have no P^n column: use :func:`with_dimensions`.
    """
    if kind not in CICY_FILES:
        raise ValueError(f"kind must be one of {sorted(CICY_FILES)}, not {kind!r}")
    name = CICY_FILES[kind]
    folders = []
    if path is not None:
        folders.append(Path(path).expanduser())
    elif data_dir() is not None:
        folders.append(data_dir() / "cicy")
    for folder in folders:
        file = folder / name
        if file.is_file():
            with gzip.open(file, "rt") as handle:
                return {int(key): value for key, value in json.load(handle).items()}
    raise DataNotFoundError(
        f"the CICY list {name} is not in {[str(f) for f in folders] or 'any folder'}. "
        f"Set {DATA_DIR_ENV} to the course's data folder (it holds cicy/{name}) or pass "
        "`path=` the folder holding the file. The list is public: "
        "http://www-thphys.physics.ox.ac.uk/projects/CalabiYau/cicylist/"
    )


def with_dimensions(matrix) -> list[list[int]]:
    """Prepend the P^n column to a degree matrix, n_i = sum_j q_ij - 1 (Calabi-Yau)."""
    return [[sum(row) - 1, *row] for row in matrix]
