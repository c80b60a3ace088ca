"""The complete scan of line-bundle standard-like models on CICY 5302 up to a charge bound.

A model is a multiset of five charge vectors k_1..k_5 in Z^6 (the order of the bundles
does not matter) passing conditions 1-5 of :mod:`utils.physics.slm`. Two models related by
a symmetry of the configuration matrix (a permutation of the six P^1 factors that maps the
matrix to itself, 48 of them) are the same model. :func:`scan_models` finds every model
with charges |k_a^r| <= max_charge, each once, in its :func:`canonical_form`.

How the scan stays small (each step is exact, nothing is sampled):

1. **Two budgets.** Condition 4 summed over its six components gives
   sum_a w(k_a) <= 36 with w(k) = |k|^2 - (sum_r k^r)^2 (= -2 e2(k)); adding condition 2,
   sum_a ind(k_a) = -12, gives sum_a u(k_a) <= 48 with u = w - ind.
2. **Single bundles.** A bundle of a model has -12 <= ind(L) <= 0, must be able to have
   zero slope on its own (k = 0, or k . g takes both signs over the 15 generators g of
   the slope cone, see :mod:`utils.physics.slm`), and must fit both budgets next to four
   others.
3. **Order and symmetry.** The bundles are sorted by (w, smallest code in the orbit, own
   code); w is invariant under the 48 symmetries. Take a model and its first bundle k* in
   this order, and the symmetry sigma that maps k* to its orbit representative. In the
   image under sigma the representative comes first: every other bundle keeps its w and
   its orbit, and inside an orbit the representative has the smallest code. So only
   representatives start a search, and only those with 5 w <= 36 (the first has the
   smallest w of five).
4. **Meet in the middle on c1 = 0.** With the five bundles in scan order,
   w_1 <= w_2 <= ... <= w_5, the first half (k_2, k_3) obeys w_1 + w_2 + 3 w_3 <= 36 and
   the index and u budgets; it is enumerated for each first bundle. The second half
   (k_4, k_5) comes from a table of all pairs that pass condition 3 and the budgets,
   sorted by a key linear in the pair that encodes (k_4 + k_5, ind_4 + ind_5); one binary
   search per first-half pair finds every completion k_4 + k_5 = -(k_1 + k_2 + k_3) with
   the index sum that makes -12. Pair compatibility (condition 3) is a precomputed matrix.
5. The matches get the remaining pair checks and condition 4 (vectorised), are put in
   canonical form and deduplicated, and only then each gets the stability test of
   condition 5 (:func:`~utils.physics.slm.stability_mask`: exact integer arithmetic, a
   linear program only for charges of rank below 4).
6. Every model of 1-5 gets its :func:`~utils.physics.slm.spectrum` (line-bundle
   cohomology, one pyCICY call per distinct bundle orbit), which decides condition 6 and
   labels the model with its number of Higgs pairs n_H, and its flags
   (:func:`~utils.physics.slm.model_flags`: the quotient condition Q on single bundles and
   on pairs, no anti-10, a Higgs pair). Every variant of the count (:data:`VARIANTS`) is
   read off one scan, with no rerun.

The result is stored (``.npz``, :func:`utils.storage.save_arrays`) with the parameters it
was made with.
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..storage import course_file, load_arrays, save_arrays
from .cicy import CICY_5302, configuration_symmetries, orbit_representatives
from .slm import (
    CONE_GENERATORS, FLAGS, GROUP_ORDER, N_FAMILIES, c2_contribution, cohomology_condition,
    index, model_flags, spectrum, stability_mask,
)

# 2: with the spectrum of every model (condition 6); 3: the w-ordered search; 4: flags
SCAN_VERSION = 4
INDEX_TARGET = -N_FAMILIES * GROUP_ORDER  # -12
C2_TX = 24
SYMMETRIES = np.array(configuration_symmetries(CICY_5302))  # (48, 6)


def anomaly_weight(k) -> np.ndarray:
    """w(k) = |k|^2 - (sum_r k^r)^2, a quarter of sum_r of the bundle's share of c2(V)."""
    k = np.asarray(k, dtype=np.int64)
    return (k**2).sum(-1) - k.sum(-1) ** 2


def single_bundle_candidates(max_charge: int) -> np.ndarray:
    """Every k in [-max_charge, max_charge]^6 that a model can contain, (n, 6), unsorted.

    Keeps -12 <= ind <= 0, bundles that can have zero slope alone, and the budgets of
    :func:`anomaly_budget_filter`.
    """
    if not isinstance(max_charge, (int, np.integer)) or not 1 <= max_charge <= 6:
        raise ValueError(f"max_charge must be an integer from 1 to 6, got {max_charge!r}")
    values = range(-max_charge, max_charge + 1)
    return _possible_bundles(np.array(list(itertools.product(values, repeat=6)), dtype=np.int64))


def _possible_bundles(S: np.ndarray) -> np.ndarray:
    """The rows of S (n, 6) that pass the single-bundle conditions (see above), in order."""
    ind = index(S)
    signs = S @ CONE_GENERATORS.T
    can_vanish = ((signs > 0).any(1) & (signs < 0).any(1)) | ~S.any(1)
    S = S[(ind <= 0) & (ind >= INDEX_TARGET) & can_vanish]
    return S[anomaly_budget_filter(S)] if len(S) else S


def anomaly_budget_filter(bundles) -> np.ndarray:
    """Mask of the bundles (n, 6) that fit the two budgets of a model, given the list.

    w(k) <= 36 - 4 min w and u(k) <= 48 - 4 min u, with u = w - ind (the other four
    bundles add at least the minimum each). Both budgets are condition 4 summed over the
    six components; the second adds condition 2, sum_a ind = -12.
    """
    w = anomaly_weight(bundles)
    u = w - index(bundles)
    return (w <= ANOMALY_BUDGET - 4 * w.min()) & (u <= INDEX_BUDGET - 4 * u.min())


ANOMALY_BUDGET = 6 * C2_TX // 4  # sum_a w(k_a) <= 36: condition 4 summed over r
INDEX_BUDGET = ANOMALY_BUDGET - INDEX_TARGET  # sum_a (w - ind)(k_a) <= 48


def _row_codes(V: np.ndarray) -> np.ndarray:
    """An integer code per charge vector (..., 6) -> (...), increasing lexicographically."""
    return ((np.asarray(V, dtype=np.int64) + 16) * 32 ** np.arange(5, -1, -1)).sum(-1)


ORDERS = ("charges", "index")


def canonical_form(V, order: str = "charges") -> np.ndarray:
    """The canonical representative of models (..., 5, 6) up to bundle order and symmetry.

    Over the 48 symmetries, permute the charges, sort the five bundles, and keep the
    lexicographically smallest matrix. Two models are the same exactly when their canonical
    forms are equal. Returns an array of the input's shape.

    ``order`` says how the bundles are sorted: "charges" (the scan's form, lexicographic in
    the charges) or "index" (by the index ind(L_a) first, most families first, then by the
    charges). Both are functions of the model alone, since the 48 symmetries leave every
    index unchanged; "index" puts bundles with the same role in the same rows, which is the
    form chapter 6's networks see.
    """
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    V = np.asarray(V, dtype=np.int64)
    flat = V.reshape(-1, 5, 6)
    out = np.empty_like(flat)
    for i in range(0, len(flat), 8192):
        out[i:i + 8192] = _canonical_chunk(flat[i:i + 8192], order)
    return out.reshape(V.shape)


def _canonical_chunk(flat: np.ndarray, order: str) -> np.ndarray:
    images = np.moveaxis(flat[:, :, SYMMETRIES], 2, 1)  # (m, 48, 5, 6)
    codes = _row_codes(images)  # (m, 48, 5), each in [0, 32**6)
    if order == "index":  # the index as the leading digit (|ind| < 2e5 for |k| <= 16)
        codes = codes + index(images) * 32**6
    rank = np.argsort(codes, axis=-1)
    codes = np.take_along_axis(codes, rank, -1)
    alive = np.ones(codes.shape[:2], dtype=bool)
    for column in range(5):
        values = np.where(alive, codes[:, :, column], np.iinfo(np.int64).max)
        alive &= values == values.min(1, keepdims=True)
    best = alive.argmax(1)
    m = np.arange(len(flat))
    return images[m, best][m[:, None], rank[m, best]]


def unique_models(V) -> np.ndarray:
    """The distinct models among (n, 5, 6), canonical and sorted: (m, 5, 6)."""
    V = canonical_form(np.asarray(V, dtype=np.int64).reshape(-1, 5, 6))
    if len(V) == 0:
        return V
    return np.unique(V.reshape(len(V), 30), axis=0).reshape(-1, 5, 6)


@dataclass
class ScanResult:
    """Models found by :func:`scan_models` and the numbers of each stage."""

    max_charge: int
    models: np.ndarray  # (n, 5, 6) canonical, sorted: the models of conditions 1-5
    counts: dict = field(default_factory=dict)
    seconds: float = 0.0
    spectrum: np.ndarray | None = None  # (n, 4): n_10, n_10bar, n_5bar, n_5 (= n_H)
    flags: dict | None = None  # name in FLAGS -> boolean (n,), see slm.model_flags

    def __len__(self) -> int:
        return len(self.models)

    @property
    def passes_condition_6(self) -> np.ndarray:
        """Boolean (n,): no anti-10 and n_H >= 1 (needs the spectrum)."""
        if self.spectrum is None:
            raise ValueError("this scan was made without cohomology (cohomology=False)")
        return cohomology_condition(spectra=self.spectrum)

    @property
    def n_higgs(self) -> np.ndarray:
        """Number of Higgs pairs n_H of every model (n,), before the quotient by Gamma."""
        if self.spectrum is None:
            raise ValueError("this scan was made without cohomology (cohomology=False)")
        return self.spectrum[:, 3]


def _stable_mask(V: np.ndarray, workers: int) -> np.ndarray:
    """Condition 5 for candidates (m, 5, 6), on ``workers`` processes when there are many."""
    if workers > 1 and len(V) > 20000:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as pool:
            return np.concatenate(list(pool.map(stability_mask, np.array_split(V, workers))))
    return stability_mask(V)


def compatibility_matrix(S: np.ndarray) -> np.ndarray:
    """Boolean (n, n): ind(k_a + k_b) <= 0 (condition 3) for every pair of bundles (n, 6).

    Uses ind(a + b) = ind(a) + ind(b) + 2 (a . E(b) + b . E(a)) with E(k)_r = e2(k without
    k_r) = -c2_contribution(k)_r / 2, so a block of rows is one matrix product.
    """
    S = np.asarray(S, dtype=np.int64)
    ind = index(S)
    half_c2 = c2_contribution(S)  # -2 E(k)
    out = np.empty((len(S), len(S)), dtype=bool)
    Sf, Cf = S.astype(np.float64), half_c2.astype(np.float64)  # exact: small integers
    for i in range(0, len(S), 1024):
        cross = Sf[i:i + 1024] @ Cf.T + Cf[i:i + 1024] @ Sf.T  # -2 (a.E(b) + b.E(a))
        out[i:i + 1024] = ind[i:i + 1024, None] + ind[None] - cross <= 0
    return out


def _ranges(starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (i, j) with starts[i] <= j < stops[i], as two flat arrays (row i, value j)."""
    lengths = np.maximum(stops - starts, 0)
    rows = np.repeat(np.arange(len(starts)), lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return rows, starts[rows] + offsets


def _sorted_with_order(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.sort(values)`` and the order that sorts them, for int64 ``values``.

    Packs value and position into one int64 when they fit (a plain sort is several times
    faster than ``argsort``); ties keep their order either way.
    """
    if len(values) == 0:
        return values, np.zeros(0, dtype=np.int64)
    low = int(values.min())
    bits = max(int(len(values) - 1).bit_length(), 1)
    if (int(values.max()) - low).bit_length() + bits > 62:
        order = np.argsort(values, kind="stable")
        return values[order], order
    packed = ((values - low) << bits) | np.arange(len(values), dtype=np.int64)
    packed.sort()
    return (packed >> bits) + low, packed & ((1 << bits) - 1)


def scan_models(max_charge: int = 2, bundles=None, workers: int | None = None,
                progress: bool = False, cohomology: bool = True) -> ScanResult:
    """Every model (conditions 1-5) with charges |k| <= max_charge, once each.

    bundles: an explicit list of candidate charge vectors (n, 6) instead of the whole box
    (it must be closed under the 48 symmetries; used by the tests to compare with a brute
    force). Returns a :class:`ScanResult` whose counts give, for each stage, how many
    candidates were left: single bundles, first-bundle representatives, first-half pairs
    searched, the largest table of second-half pairs, matches of the meet in the middle
    after conditions 1-4 (with repetitions), distinct models after 1-4, models after 1-5
    and (with ``cohomology``) models after 1-6; ``spectrum`` holds every 1-5 model's
    multiplet counts.
    """
    start = time.perf_counter()
    if bundles is None:
        S = single_bundle_candidates(max_charge)
    else:
        S = np.unique(np.asarray(bundles, dtype=np.int64).reshape(-1, 6), axis=0)
        if np.abs(S).max(initial=0) > max_charge:
            raise ValueError(f"bundles has charges above max_charge = {max_charge}")
        closure = np.unique(S[:, SYMMETRIES].reshape(-1, 6), axis=0)
        if len(closure) != len(S):
            raise ValueError("bundles must be closed under the 48 symmetries of CICY 5302 "
                             "(add the images k[sigma] of every bundle)")
        S = _possible_bundles(S)
    workers = workers or min(2, os.cpu_count() or 1)
    counts = {"single bundles": len(S)}

    # Order: anomaly weight first, then orbit, then the bundle itself (see the docstring).
    w = anomaly_weight(S)
    own = _row_codes(S)
    orbit = _row_codes(orbit_representatives(S, SYMMETRIES))
    order = np.lexsort((own, orbit, w))
    S, w, own, orbit = S[order], w[order], own[order], orbit[order]
    n = len(S)
    ind = index(S)
    u = w - ind  # index-shifted weight: sum_a u = sum_a w + 12 <= 48
    u_min = int(u.min(initial=0))
    c_single = c2_contribution(S)
    # Ascending positions in S, which is sorted by w: the representatives come grouped by w
    # (one pair table per level) without another sort.
    reps = np.flatnonzero((own == orbit) & (5 * w <= ANOMALY_BUDGET))
    counts["first-bundle representatives"] = len(reps)
    compatible = compatibility_matrix(S)
    # A scalar key per bundle, additive over bundles: 64 (k . powers) - ind(k). Equal keys
    # of (k_4, k_5) and of the completion -(k_1 + k_2 + k_3) mean equal sums and index sums
    # (up to aliasing outside the box, which the exact c1 check below removes).
    span = 4 * max_charge + 1
    key = 64 * (S * span ** np.arange(5, -1, -1)).sum(-1) - ind

    found = []
    matches = searched = largest_table = 0
    def pair_table(level: int, base=None) -> tuple:
        """Second-half pairs (k_4 <= k_5) for every first bundle with w_1 = level: both
        weights >= w_1, w_4 + w_5 <= 36 - 3 w_1, the u and index budgets of the level's
        first bundles, and condition 3. Returns (keys, k_4, k_5, u_4 + u_5, ind_4 + ind_5,
        u cap, index floor), sorted by key. A smaller table is only a speed-up: the exact
        checks after the search decide. A looser ``base`` table is filtered, which keeps
        its order, instead of building and sorting anew."""
        at_level = reps[w[reps] == level]
        u_cap = INDEX_BUDGET - int(u[at_level].min()) - 2 * u_min
        ind_floor = INDEX_TARGET - int(ind[at_level].max())
        w_cap = ANOMALY_BUDGET - 3 * level
        if base is not None and base[5] >= u_cap and base[6] <= ind_floor:
            keys, T4, T5, U45, I45 = base[:5]
            ok = ((w[T4] >= level) & (w[T4] + w[T5] <= w_cap) & (U45 <= u_cap)
                  & (I45 >= ind_floor))
            return keys[ok], T4[ok], T5[ok], U45[ok], I45[ok], u_cap, ind_floor
        lo = int(np.searchsorted(w, level, "left"))
        a = np.arange(lo, n)
        b_stop = np.searchsorted(w, w_cap - w[a], "right")
        parts = []
        for i in range(0, len(a), 2048):
            rows, b = _ranges(a[i:i + 2048], b_stop[i:i + 2048])
            aa = a[i:i + 2048][rows]
            ok = (u[aa] + u[b] <= u_cap) & (ind[aa] + ind[b] >= ind_floor)
            aa, b = aa[ok], b[ok]
            ok = compatible[aa, b]
            parts.append((aa[ok].astype(np.int32), b[ok].astype(np.int32)))
        T4 = np.concatenate([p[0] for p in parts])
        T5 = np.concatenate([p[1] for p in parts])
        del parts
        keys, order = _sorted_with_order(key[T4] + key[T5])
        T4, T5 = T4[order], T5[order]
        return (keys, T4, T5, (u[T4] + u[T5]).astype(np.int16),
                (ind[T4] + ind[T5]).astype(np.int16), u_cap, ind_floor)

    current_level = loosest = None  # loosest: the first table with w_1 >= 0
    for step, p1 in enumerate(reps):
        w1, u1, i1 = int(w[p1]), int(u[p1]), int(ind[p1])
        if current_level != w1:
            current_level = w1
            table_key = T4 = T5 = None  # free the previous table first
            table = pair_table(w1, loosest if w1 >= 0 else None)
            if w1 >= 0 and loosest is None:
                loosest = table  # later levels (larger w_1) filter it
            table_key, T4, T5 = table[:3]
            del table
            largest_table = max(largest_table, len(table_key))
            if progress:
                print(f"  pair table for first bundles with w = {w1}: {len(table_key):,} "
                      f"pairs ({time.perf_counter() - start:.0f} s)", flush=True)
        # the bundles that can follow k_1 (in the scan order) in one model
        rest = np.arange(p1, n)
        rest = rest[(w[rest] <= ANOMALY_BUDGET - 4 * w1) & (u[rest] <= INDEX_BUDGET - u1 - 3 * u_min)
                    & (ind[rest] >= INDEX_TARGET - i1)]
        rest = rest[compatible[p1, rest]]
        allowed = np.zeros(n, dtype=bool)
        allowed[rest] = True
        # first half (k_2 <= k_3): w_1 + w_2 + 3 w_3 <= 36, since w_4, w_5 >= w_3
        stop = np.searchsorted(w[rest], (ANOMALY_BUDGET - w1 - w[rest]) // 3, "right")
        i2, i3 = _ranges(np.arange(len(rest)), stop)
        k2, k3 = rest[i2], rest[i3]
        del i2, i3
        index3 = i1 + ind[k2] + ind[k3]
        ok = ((index3 >= INDEX_TARGET)
              & (w1 + w[k2] + w[k3] + np.maximum(2 * w[k3], INDEX_TARGET - index3)
                 <= ANOMALY_BUDGET)
              & (u1 + u[k2] + u[k3] <= INDEX_BUDGET - 2 * u_min))
        k2, k3 = k2[ok], k3[ok]
        ok = compatible[k2, k3]
        k2, k3 = k2[ok], k3[ok]
        searched += len(k2)
        # sorted needles keep the binary search in cache
        wanted, order = _sorted_with_order(-(key[p1] + key[k2] + key[k3]) - INDEX_TARGET)
        k2, k3 = k2[order], k3[order]
        lo = np.searchsorted(table_key, wanted, "left")
        hits = np.searchsorted(table_key, wanted, "right") - lo
        has = hits > 0
        k2, k3, lo, hits = k2[has], k3[has], lo[has], hits[has]
        which, pos = _ranges(lo, lo + hits)
        k2, k3, k4, k5 = k2[which], k3[which], T4[pos], T5[pos]
        ok = (k4 >= k3) & allowed[k4] & allowed[k5]
        for x, y in ((k2, k4), (k2, k5), (k3, k4), (k3, k5)):
            ok &= compatible[x, y]
        k2, k3, k4, k5 = k2[ok], k3[ok], k4[ok], k5[ok]
        # the key can alias vectors outside the box: check c1 = 0 itself
        ok = np.all(S[p1] + S[k2] + S[k3] + S[k4] + S[k5] == 0, axis=1)
        c2 = c_single[p1] + c_single[k2] + c_single[k3] + c_single[k4] + c_single[k5]
        ok &= np.all(c2 <= C2_TX, axis=1)
        matches += int(ok.sum())
        if ok.any():
            rows = np.stack([np.full(ok.sum(), p1), k2[ok], k3[ok], k4[ok], k5[ok]], axis=1)
            found.append(unique_models(S[rows]))
        if progress and (step % 10 == 0 or step == len(reps) - 1):
            print(f"  first bundle {step + 1}/{len(reps)}: {searched:,} half pairs searched, "
                  f"{matches:,} matches ({time.perf_counter() - start:.0f} s)", flush=True)
    counts["first-half pairs searched"] = searched
    counts["largest pair table"] = largest_table
    counts["matches after 1-4"] = matches
    candidates = unique_models(np.concatenate(found)) if found else np.zeros((0, 5, 6), np.int64)
    counts["models after 1-4"] = len(candidates)
    stable = _stable_mask(candidates, workers) if len(candidates) else np.zeros(0, bool)
    models = candidates[stable]
    counts["models after 1-5"] = len(models)
    spectra = None
    if cohomology:
        spectra = spectrum(models) if len(models) else np.zeros((0, 4), np.int64)
        counts["models after 1-6"] = int(cohomology_condition(spectra=spectra).sum())
    flags = model_flags(models, spectra) if spectra is not None else None
    return ScanResult(max_charge, models.astype(np.int8), counts, time.perf_counter() - start,
                      spectra, flags)


# --------------------------------------------------------------------------------------
# The scan on disk: a committed result for the book, or a fresh scan into the cache
# --------------------------------------------------------------------------------------

SCAN_FILE = course_file("notebooks/data/slm_models.npz")


def save_scan(result: ScanResult, path: str | os.PathLike) -> Path:
    """Write a scan to ``path`` in the course's array-cache format
    (:func:`utils.storage.save_arrays`), with the parameters it was made with."""
    arrays = {"models": result.models.astype(np.int8)}
    if result.spectrum is not None:
        arrays["spectrum"] = result.spectrum.astype(np.int16)
    for name, values in (result.flags or {}).items():
        arrays[f"flag_{name}"] = np.asarray(values, bool)
    meta = dict(scan_version=SCAN_VERSION, max_charge=int(result.max_charge),
                manifold="CICY 5302", group_order=GROUP_ORDER,
                counts=[[k, int(v)] for k, v in result.counts.items()],  # in stage order
                seconds=float(result.seconds))
    return save_arrays(path, arrays, meta)  # never a half-written scan under the real name


def load_scan(path: str | os.PathLike = SCAN_FILE) -> ScanResult:
    """Read a scan written by :func:`save_scan`; a clear error if it is missing or stale."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"No scan at {path}. Make one with `python -m utils.physics.slm_scan "
            f"--max-charge 5 --out {path}` (the course's scan: about 5 minutes and 13 GB on "
            "two cores; --max-charge 2 takes about 30 seconds and 1 GB)."
        )
    found = load_arrays(path)
    if found is None:
        raise ValueError(f"{path} is not a scan file of this course (unreadable, or written "
                         "by an older version): rerun python -m utils.physics.slm_scan")
    arrays, meta = found
    if meta.get("scan_version") != SCAN_VERSION:
        raise ValueError(f"{path} was made by scan version {meta.get('scan_version')}, this "
                         f"code is version {SCAN_VERSION}: rerun python -m utils.physics.slm_scan")
    spectra = arrays["spectrum"].astype(np.int64) if "spectrum" in arrays else None
    flags = ({name: arrays[f"flag_{name}"] for name in FLAGS}
             if all(f"flag_{name}" in arrays for name in FLAGS) else None)
    return ScanResult(int(meta["max_charge"]), arrays["models"].astype(np.int64),
                      dict(meta["counts"]), float(meta["seconds"]), spectra, flags)


VARIANTS = {
    "conditions 1-5": (),
    "+ Q on bundles": ("quotient_single",),
    "+ Q on pairs": ("quotient_single", "quotient_pairs"),
    "+ no anti-10": ("quotient_single", "quotient_pairs", "no_10bar"),
    "+ Higgs pair": ("quotient_single", "quotient_pairs", "no_10bar", "higgs"),
    "1-5, no anti-10 (no Q)": ("no_10bar",),
    "1-6 (no Q)": ("no_10bar", "higgs"),
}
"""Variants of the count: the flags (:data:`~utils.physics.slm.FLAGS`) a model must have on
top of conditions 1-5. The first five add one requirement each; the last two leave out
the quotient condition Q. "+ Q on pairs" is the physical set of chapter 6: the quotient
condition in full, as every L_a being equivariant requires."""
PHYSICAL_VARIANT = "+ Q on pairs"


def variant_mask(scan: ScanResult, variant: str) -> np.ndarray:
    """Boolean (n,): which models of the scan belong to ``variant`` (a key of VARIANTS)."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {list(VARIANTS)}, not {variant!r}")
    if scan.flags is None:
        raise ValueError("this scan has no flags (it was made without cohomology)")
    mask = np.ones(len(scan), dtype=bool)
    for name in VARIANTS[variant]:
        mask &= scan.flags[name]
    return mask


def count_table(scan: ScanResult) -> dict[str, dict[int, int]]:
    """Number of models per variant (VARIANTS) and charge bound b = 1 .. max_charge (all
    charges |k| <= b), up to the 48 symmetries and the order of the bundles."""
    largest = np.abs(scan.models).max(axis=(1, 2)) if len(scan) else np.zeros(0, int)
    return {variant: {b: int((variant_mask(scan, variant) & (largest <= b)).sum())
                      for b in range(1, scan.max_charge + 1)} for variant in VARIANTS}


def model_index(models, V) -> np.ndarray:
    """Where each matrix of ``V`` (..., 5, 6) sits in ``models`` (n, 5, 6), or -1.

    Both must be in :func:`canonical_form` (the stored scan is); returns an integer array
    of shape (...). ``model_index(scan.models, canonical_form(V)) >= 0`` asks "is this a
    model of the scan?".
    """
    models = np.asarray(models, dtype=np.int64)
    V = np.asarray(V, dtype=np.int64)
    position = {m.tobytes(): i for i, m in enumerate(models.reshape(-1, 30))}
    flat = V.reshape(-1, 30)
    found = np.array([position.get(v.tobytes(), -1) for v in flat], dtype=np.int64)
    return found.reshape(V.shape[:-2])


def counts_by_charge_bound(models) -> dict[int, int]:
    """How many of the models have all charges |k| <= b, for b = 1 .. max |k|."""
    models = np.asarray(models)
    largest = np.abs(models).max(axis=(1, 2)) if len(models) else np.zeros(0, int)
    top = int(largest.max(initial=1))
    return {b: int((largest <= b).sum()) for b in range(1, top + 1)}


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-charge", type=int, default=2, help="charge bound |k| (1-6)")
    parser.add_argument("--out", default=str(SCAN_FILE), help="where to write the .npz")
    parser.add_argument("--workers", type=int, default=None, help="processes for the LPs")
    args = parser.parse_args(argv)
    result = scan_models(args.max_charge, workers=args.workers, progress=True)
    for name, value in result.counts.items():
        print(f"{name:>24}: {value:,}")
    print(f"{'seconds':>24}: {result.seconds:.0f}")
    print(f"written to {save_scan(result, args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
