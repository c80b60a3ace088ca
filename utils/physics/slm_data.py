"""The data of chapter 6: the scanned models and random matrices of the same width.

:func:`slm_dataset` mixes the models of one variant of the stored scan (by default the
physical set, conditions 1-5 and the quotient condition Q on bundles and pairs; see
:data:`utils.physics.slm_scan.VARIANTS`) with as many random c1 = 0 integer matrices of
the same norms K
(:func:`utils.physics.slm.random_matrices_like`), none of them a model, writes both in the
same canonical form (:func:`utils.physics.slm_scan.canonical_form`, by default with the
bundles ordered by their index), labels them, and splits them 80/20 into training and
validation sets with a fixed seed. ``subset="K<5"`` keeps the matrices with K < 5 (the
left panel of the lecture's figure), ``"all"`` all of them. The random set takes about a
minute to draw, so it is cached under the course cache with the scan it matches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..storage import cache_dir, load_arrays, save_arrays, sha256_bytes
from .slm import charge_norm, one_hot, random_matrices_like
from .slm_scan import (
    ORDERS, PHYSICAL_VARIANT, SCAN_FILE, canonical_form, load_scan, model_index, variant_mask,
)

SUBSETS = {"K<5": 5.0, "all": None}
# Bins of the norm K in which chapter 6 and ``evaluate slm`` score the latent separation:
# K < 5, 5-6, 6-7, >= 7 (the last holds about 1.5 % of the models).
NORM_EDGES = (5, 6, 7)


@dataclass
class SLMDataset:
    """Matrices (n, 5, 6), labels (1 = model, 0 = random) and the split, all numpy."""

    matrices: np.ndarray
    is_model: np.ndarray
    train: np.ndarray  # indices
    val: np.ndarray
    source: str
    variant: str = PHYSICAL_VARIANT

    def one_hot(self, which: str = "all") -> torch.Tensor:
        """One-hot tensors (m, 30, 11) of the training, validation or all matrices."""
        rows = {"train": self.train, "val": self.val, "all": slice(None)}[which]
        return torch.from_numpy(one_hot(self.matrices[rows]))


def random_comparison(models: np.ndarray, seed: int = 0, exclude: np.ndarray | None = None) -> np.ndarray:
    """Random matrices of the same norms as ``models`` that are not models themselves.

    :func:`random_matrices_like`, then every draw whose canonical form is one of
    ``exclude`` (default ``models``; a random matrix can be a consistent model: at small K a
    few are) is redrawn with the next seed. ``exclude`` must be the complete scan in
    canonical form. Returned in canonical form, cached on disk by content and seed.
    """
    exclude = models if exclude is None else exclude
    digest = lambda a: sha256_bytes(np.ascontiguousarray(a, dtype=np.int8).tobytes())  # noqa: E731
    meta = dict(models_sha256=digest(models), exclude_sha256=digest(exclude), seed=int(seed),
                version=4)
    path = cache_dir() / "slm" / f"random_like_{meta['models_sha256'][:16]}_seed{seed}_v4.npz"
    found = load_arrays(path, meta)
    if found is not None and found[0]["random"].shape == models.shape:
        return found[0]["random"].astype(np.int64)
    random = canonical_form(random_matrices_like(models, seed=seed))
    for attempt in range(1, 100):
        clash = model_index(exclude, random) >= 0
        if not clash.any():
            break
        random[clash] = canonical_form(random_matrices_like(models[clash], seed=seed + attempt))
    else:
        raise RuntimeError("could not draw random matrices that are not models")
    save_arrays(path, {"random": random.astype(np.int8)}, meta)
    return random


def slm_dataset(subset: str = "all", seed: int = 0, order: str = "index",
                variant: str = PHYSICAL_VARIANT, path=SCAN_FILE) -> SLMDataset:
    """Models and random matrices of equal K, labelled and split 80/20 (see the module).

    ``order``: the canonical form the matrices are written in (:func:`canonical_form`):
    "index" (bundles by their index, most families first; the default, what chapter 6's
    networks are trained on) or "charges" (the scan's lexicographic form). ``variant``:
    which models (a key of :data:`~utils.physics.slm_scan.VARIANTS`); the random matrices
    are never a model of conditions 1-5 of any variant.
    """
    if subset not in SUBSETS:
        raise ValueError(f"subset must be one of {sorted(SUBSETS)}, got {subset!r}")
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    scan = load_scan(path)
    models = scan.models[variant_mask(scan, variant)]
    # Models and random matrices go through the same canonical form (bundles sorted,
    # smallest symmetry image), or a network could tell them apart by the convention alone.
    random = random_comparison(models, seed, exclude=scan.models)
    matrices = np.concatenate([models, random])
    if order != "charges":  # the scan's own form
        matrices = canonical_form(matrices, order=order)
    is_model = np.concatenate([np.ones(len(models), bool), np.zeros(len(random), bool)])
    cut = SUBSETS[subset]
    if cut is not None:
        keep = charge_norm(matrices) < cut
        matrices, is_model = matrices[keep], is_model[keep]
    shuffled = np.random.default_rng(seed).permutation(len(matrices))
    n_train = int(round(0.8 * len(shuffled)))
    form = "canonical form" + (", bundles ordered by index" if order == "index" else "")
    source = (f"{len(models):,} models ({variant}) of the |k| <= {scan.max_charge} scan and "
              f"as many random matrices of equal K in {form} (seed {seed}); subset {subset}")
    return SLMDataset(matrices, is_model, np.sort(shuffled[:n_train]), np.sort(shuffled[n_train:]),
                      source, variant)
