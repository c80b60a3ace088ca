"""Numbers that judge reconstructions and latent spaces: per-image errors, PSNR, and how
well a latent space separates two classes."""

from __future__ import annotations

import numpy as np
import torch


def per_image_mse(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error of each image pair: (N, ...) and (N, ...) -> (N,)."""
    if x.shape != y.shape:
        raise ValueError(f"shapes differ: {tuple(x.shape)} vs {tuple(y.shape)}")
    return ((x - y) ** 2).flatten(1).mean(dim=1)


def psnr(clean: torch.Tensor, other: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Peak signal-to-noise ratio of each image in dB: 10 log10(range^2 / MSE), (N,).

    Higher is better; identical images give +inf. Averages over a data set are usually
    taken over these per-image values, as the course does.
    """
    return 10.0 * torch.log10(data_range**2 / per_image_mse(clean, other))


def cross_validated_scores(features: np.ndarray, labels: np.ndarray, classifier=None,
                           seed: int = 0) -> np.ndarray:
    """Out-of-fold probabilities of class 1, (n,), for features (n, d) and binary labels (n,).

    5-fold stratified cross-validation (shuffled with ``seed``): every point is scored by a
    copy of ``classifier`` (any scikit-learn classifier; default the 25-nearest-neighbour
    classifier) fitted on the other four folds, so no point votes for itself.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.neighbors import KNeighborsClassifier

    classifier = KNeighborsClassifier(25) if classifier is None else classifier
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    return cross_val_predict(classifier, features, labels, cv=folds,
                             method="predict_proba")[:, 1]


def latent_separation_auc(z: np.ndarray, labels: np.ndarray, k: int = 25, seed: int = 0) -> float:
    """ROC AUC of a k-nearest-neighbour classifier on latent coordinates z (n, d) for binary
    labels (n,), from 5-fold cross-validated predictions (:func:`cross_validated_scores`)."""
    from sklearn.metrics import roc_auc_score
    from sklearn.neighbors import KNeighborsClassifier

    scores = cross_validated_scores(z, labels, KNeighborsClassifier(k), seed)
    return float(roc_auc_score(labels, scores))


def auc_by_bin(scores: np.ndarray, labels: np.ndarray, values: np.ndarray,
               edges: tuple[float, ...]) -> list[tuple[str, int, float]]:
    """ROC AUC of ``scores`` (n,) for binary ``labels`` (n,) within bins of ``values`` (n,).

    ``edges`` (increasing) cut the real line into ``len(edges) + 1`` bins, the first
    ``values < edges[0]``, the last ``values >= edges[-1]``. Returns ``(bin label, number of
    positives, AUC)`` per bin, e.g. ``("5-6", 16816, 0.98)``; chapter 6 bins by the norm K.
    A bin without both classes has no AUC; it raises ``ValueError`` naming the bin.
    """
    from sklearn.metrics import roc_auc_score

    edges = tuple(edges)
    if not edges or any(b <= a for a, b in zip(edges, edges[1:])):
        raise ValueError(f"edges must be a non-empty increasing sequence, got {edges}")
    labels = np.asarray(labels, bool)
    which = np.searchsorted(np.asarray(edges, float), values, side="right")
    names = ([f"<{edges[0]:g}"] + [f"{a:g}-{b:g}" for a, b in zip(edges, edges[1:])]
             + [f">={edges[-1]:g}"])
    table = []
    for i, name in enumerate(names):
        rows = which == i
        if labels[rows].all() or not labels[rows].any():
            raise ValueError(f"bin {name} holds {int(rows.sum())} points, not of both classes; "
                             "choose edges that leave both classes in every bin")
        table.append((name, int(labels[rows].sum()), float(roc_auc_score(labels[rows], scores[rows]))))
    return table
