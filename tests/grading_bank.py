"""A bank of student submissions and the score each must get, per assignment.

Each entry names a student, what the student wrote into the released notebook (answers
by grade id, edits of other cells, or a raw file), and the expected points per test. The
robustness test in ``tests/test_grading.py`` grades each assignment's bank as one class
with ``python -m utils.grading autograde``, and ``benchmarks/grading.py`` times a class of
100 drawn from it.

Every assignment has a correct submission, one written differently (full marks), one
partly wrong (loses the points of a visible test), one that passes the visible tests but
not the hidden ones, and the everyday accidents of :func:`everyday` (a deleted test cell,
invalid JSON, another assignment's notebook, the untouched exercise). ``ch03_tools`` also
has the hostile ones: exceptions, endless loops, loops that swallow the interrupt, memory
exhaustion, edited tests, monkey-patched numpy, stray files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Submission:
    student: str
    answers: dict[str, str] = field(default_factory=dict)  # grade id -> cell source
    use_instructor_answers: bool = True  # start from the instructor's answers
    edits: dict[str, str | None] = field(default_factory=dict)  # non-answer cell -> source (None: delete)
    raw: str | None = None  # write this text as the notebook file instead
    other_assignment: str | None = None  # submit this assignment's released notebook
    expected: dict[str, float] = field(default_factory=dict)  # test grade id -> points
    message: str | None = None  # expected in the gradebook's grading notes


def notebook_name(assignment: str) -> str:
    (path,) = (REPO / "solutions" / assignment).glob("*.ipynb")
    return path.name


def instructor_answers(course: Path, assignment: str) -> dict[str, str]:
    """The instructor's answer cells, without the solution markers, by grade id."""
    source = nbformat.read(course / "solutions" / assignment / notebook_name(assignment), as_version=4)
    return {
        c.metadata["nbgrader"]["grade_id"]: "\n".join(
            line for line in c.source.splitlines()
            if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }


def hidden_test_lines(assignment: str) -> list[str]:
    """The non-trivial lines of the hidden tests of an assignment's source: none of them
    may appear in a student's feedback."""
    lines = []
    for path in (REPO / "solutions" / assignment).glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            for block in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source, re.S):
                lines += [line.strip() for line in block.splitlines() if len(line.strip()) > 12]
    return lines


def write_submission(course: Path, assignment: str, sub: Submission, path: Path | None = None) -> None:
    """Write ``sub`` as a notebook file: by default into nbgrader's
    ``submitted/<student>/<assignment>/`` of ``course``, with a timestamp; or to ``path``
    (a folder of submissions as they arrive). ``course`` provides the released notebooks
    and the instructor's answers."""
    name = notebook_name(assignment)
    if path is None:
        target = course / "submitted" / sub.student / assignment
        target.mkdir(parents=True)
        (target / "timestamp.txt").write_text("2026-11-01 12:00:00.000000 UTC")
        path = target / name
    if sub.raw is not None:
        path.write_text(sub.raw)
        return
    if sub.other_assignment:
        other = course / "exercises" / sub.other_assignment / notebook_name(sub.other_assignment)
        path.write_bytes(other.read_bytes())
        return
    answers = (instructor_answers(course, assignment) if sub.use_instructor_answers else {}) | sub.answers
    nb = nbformat.read(course / "exercises" / assignment / name, as_version=4)
    cells = []
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in sub.edits:
            if sub.edits[grade_id] is None:
                continue  # the student deleted this cell
            cell.source = sub.edits[grade_id]
        elif grade_id in answers:
            cell.source = answers[grade_id].strip()
        cells.append(cell)
    nb.cells = cells
    nbformat.write(nb, path)


def everyday(full: dict[str, float], other_assignment: str) -> list[Submission]:
    """Accidents that happen in every class, with the scores they must get."""
    zero = dict.fromkeys(full, 0)
    return [
        Submission("alice", expected=full),
        Submission("jane", edits={list(full)[-1]: None}, expected=full),  # deleted a test cell
        Submission("ned", raw='{"cells": [ {"cell_type": "code", ', message="not a valid notebook",
                   expected=zero),
        Submission("olga", other_assignment=other_assignment, message="not this assignment",
                   expected=zero),
        Submission("pat", use_instructor_answers=False, expected=zero),  # the untouched exercise
    ]


CH03_FULL = {"test_mask_pixels": 2, "test_psnr": 2, "test_roc": 4}

CH03 = [
    Submission("alice", expected=CH03_FULL),
    Submission("bob", answers={  # correct, written with loops and other functions
        "mask_pixels": '''
def mask_pixels(x, fraction, rng):
    out = np.array(x, dtype=float, copy=True)
    keep = rng.random(out.shape) >= fraction
    out *= keep
    return out
''',
        "psnr": '''
def psnr(clean, other):
    values = []
    for a, b in zip(np.asarray(clean, float), np.asarray(other, float)):
        values.append(-10 * np.log10(np.mean((a - b) ** 2)))
    return np.array(values)
''',
        "roc": '''
def roc_points(scores_normal, scores_anomalous):
    n, a = np.sort(scores_normal), np.sort(scores_anomalous)
    fpr, tpr = [0.0], [0.0]
    for t in sorted(set(n) | set(a), reverse=True):
        fpr.append(np.sum(n >= t) / len(n))
        tpr.append(np.sum(a >= t) / len(a))
    return np.array(fpr), np.array(tpr)

def area_under_curve(fpr, tpr):
    return float(np.trapezoid(tpr, fpr))
'''}, expected=CH03_FULL),
    Submission("carol", answers={  # PSNR in the wrong units (natural log): partly wrong
        "psnr": '''
def psnr(clean, other):
    mse = ((np.asarray(clean) - np.asarray(other)) ** 2).reshape(len(clean), -1).mean(1)
    return -np.log(mse)
'''}, expected=CH03_FULL | {"test_psnr": 0}),
    Submission("dan", answers={  # passes the visible test only: AUC ignores ties
        "roc": '''
def roc_points(scores_normal, scores_anomalous):
    normal, anomalous = np.asarray(scores_normal, float), np.asarray(scores_anomalous, float)
    thresholds = np.unique(np.concatenate([normal, anomalous]))[::-1]
    return (np.array([0.0] + [np.mean(normal >= t) for t in thresholds]),
            np.array([0.0] + [np.mean(anomalous >= t) for t in thresholds]))

def area_under_curve(fpr, tpr):
    fpr, tpr = np.asarray(fpr), np.asarray(tpr)
    return float(np.sum(np.diff(fpr) * tpr[:-1]))  # left Riemann sum: wrong with ties
'''}, expected=CH03_FULL | {"test_roc": 0}),
    Submission("erin", answers={"mask_pixels": '''
def mask_pixels(x, fraction, rng):
    raise RuntimeError("I gave up")
'''}, expected=CH03_FULL | {"test_mask_pixels": 0}),
    Submission("frank", answers={"psnr": '''
def psnr(clean, other):
    return 0
while True:  # an endless loop that an interrupt stops
    pass
'''}, expected=CH03_FULL | {"test_psnr": 0}),
    Submission("gina", answers={"psnr": '''
import time
while True:  # an endless loop that swallows the interrupt
    try:
        while True:
            time.sleep(0.01)
    except BaseException:
        pass
'''}, expected=CH03_FULL | {"test_psnr": 0}, message="timed out"),
    Submission("hugo", answers={"roc": '''
hog = []
while True:  # allocates memory until the grading limit stops it
    hog.append(np.ones(25_000_000))
'''}, expected=CH03_FULL | {"test_roc": 0}),
    Submission("ivan", answers={"psnr": '''
def psnr(clean, other):
    return np.array([20.0, 40.0])
'''}, edits={"test_psnr": "pass  # I removed the test"}, expected=CH03_FULL | {"test_psnr": 0}),
    Submission("jane", edits={"test_roc": None}, expected=CH03_FULL),  # deleted a test cell
    Submission("kim", answers={"mask_pixels": '''
np.allclose = lambda *args, **kwargs: True
np.array_equal = lambda *args, **kwargs: True
def mask_pixels(x, fraction, rng):
    return np.zeros_like(np.asarray(x, dtype=float))
'''}, expected={"test_mask_pixels": 0, "test_psnr": 0, "test_roc": 0}),
    Submission("lee", answers={"mask_pixels": '''
import pathlib
pathlib.Path("timestamp.txt").write_text("2020-01-01 00:00:00.000000 UTC")
pathlib.Path("notes.txt").write_text("left here by the student")
def mask_pixels(x, fraction, rng):
    x = np.asarray(x, dtype=float)
    return np.where(rng.random(x.shape) < fraction, 0.0, x)
'''}, expected=CH03_FULL),
    Submission("mia", raw="", expected={"test_mask_pixels": 0, "test_psnr": 0, "test_roc": 0},
               message="is empty"),
    Submission("ned", raw='{"cells": [ {"cell_type": "code", ', message="not a valid notebook",
               expected={"test_mask_pixels": 0, "test_psnr": 0, "test_roc": 0}),
    Submission("olga", other_assignment="ch02_encoder", message="not this assignment",
               expected={"test_mask_pixels": 0, "test_psnr": 0, "test_roc": 0}),
    Submission("pat", use_instructor_answers=False,  # hands in the untouched exercise
               expected={"test_mask_pixels": 0, "test_psnr": 0, "test_roc": 0}),
]


# --------------------------------------------------------------------------------------
# ch01_pca
# --------------------------------------------------------------------------------------

CH01_FULL = {"test_pca_fit": 3, "test_pca_codec": 2, "test_components_needed": 2}

CH01 = everyday(CH01_FULL, "ch02_encoder") + [
    # eigen-decomposition of the covariance matrix and explicit loops: full marks
    Submission("bob", answers={
        "pca_fit": '''
def pca_fit(X, k):
    X = np.array(X, dtype=float)
    mean = np.zeros(X.shape[1])
    for row in X:
        mean += row
    mean /= len(X)
    cov = (X - mean).T @ (X - mean) / (len(X) - 1)
    values, vectors = np.linalg.eigh(cov)
    order = np.argsort(values)[::-1][:k]
    return mean, vectors[:, order].T, values[order]
''',
        "pca_codec": '''
def pca_encode(X, mean, components):
    X = np.asarray(X, dtype=float)
    Z = np.zeros((len(X), len(components)))
    for i in range(len(X)):
        for j in range(len(components)):
            Z[i, j] = np.dot(X[i] - mean, components[j])
    return Z

def pca_decode(Z, mean, components):
    return np.array([mean + np.dot(z, components) for z in Z])
''',
        "components_needed": '''
def components_needed(variances_all, fraction):
    total = sum(variances_all)
    running = 0.0
    for k, v in enumerate(variances_all, start=1):
        running += v
        if running >= fraction * total - 1e-12:
            return k
    return len(variances_all)
'''}, expected=CH01_FULL),
    # an off-by-one in components_needed: the visible test sees it
    Submission("carol", answers={"components_needed": '''
def components_needed(variances_all, fraction):
    return int(np.searchsorted(np.cumsum(variances_all) / np.sum(variances_all), fraction))
'''}, expected=CH01_FULL | {"test_components_needed": 0}),
    # variances divided by N: the visible test on 20,000 samples cannot see it, the hidden
    # test on 50 samples can
    Submission("dan", answers={"pca_fit": '''
def pca_fit(X, k):
    mean = X.mean(axis=0)
    _, s, vt = np.linalg.svd(X - mean, full_matrices=False)
    return mean, vt[:k], s[:k] ** 2 / len(X)
'''}, expected=CH01_FULL | {"test_pca_fit": 0}),
]

# --------------------------------------------------------------------------------------
# ch02_encoder
# --------------------------------------------------------------------------------------

CH02_FULL = {"test_conv_parameters": 2, "test_build_encoder": 4, "test_gaussian_nll": 3}

CH02 = everyday(CH02_FULL, "ch03_tools") + [
    # a Module subclass with functional ReLU and pooling, and torch.distributions: full marks
    Submission("bob", answers={
        "conv_parameters": '''
def conv_parameters(c_in, c_out, k):
    weights = c_out * c_in * k ** 2
    biases = c_out
    return weights + biases
''',
        "build_encoder": '''
import torch.nn.functional as F

class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 64, 3, padding=1)
        self.conv2 = nn.Conv2d(64, 64, 3)
        self.conv3 = nn.Conv2d(64, 64, 3)
        self.head = nn.Linear(64 * 4 * 4, 2)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.conv3(x))
        return self.head(x.flatten(1))

def build_encoder():
    return Encoder()
''',
        "gaussian_nll": '''
def gaussian_nll(x, x_hat, sigma):
    return -torch.distributions.Normal(x_hat, sigma).log_prob(x).flatten(1).sum(1)
'''}, expected=CH02_FULL),
    # forgets the biases: the visible test sees it
    Submission("carol", answers={"conv_parameters": '''
def conv_parameters(c_in, c_out, k):
    return k * k * c_in * c_out
'''}, expected=CH02_FULL | {"test_conv_parameters": 0}),
    # the normalisation hard-wired for 28 x 28 images: the hidden test on vectors fails
    Submission("dan", answers={"gaussian_nll": '''
def gaussian_nll(x, x_hat, sigma):
    squared = ((x - x_hat) ** 2).flatten(1).sum(dim=1)
    return squared / (2 * sigma**2) + 392 * math.log(2 * math.pi * sigma**2)
'''}, expected=CH02_FULL | {"test_gaussian_nll": 0}),
]

# --------------------------------------------------------------------------------------
# ch04_elbo
# --------------------------------------------------------------------------------------

CH04_FULL = {"test_kl_divergence": 3, "test_reparameterize": 3, "test_elbo_linear_gaussian": 4}

CH04 = everyday(CH04_FULL, "ch02_encoder") + [
    # addcmul for the sampler, scipy's Gaussian density for the expected log-likelihood
    Submission("bob", answers={
        "reparameterize": '''
def reparameterize(mu, logvar):
    std = torch.exp(logvar / 2)
    return torch.addcmul(mu, std, torch.randn(mu.shape, dtype=mu.dtype))
''',
        "elbo_linear_gaussian": '''
from scipy import stats

def elbo_linear_gaussian(x, W, b, sigma, m, V):
    x, W, b, m = (np.array(a, dtype=float) for a in (x, W, b, m))
    V = np.array(V, dtype=float).reshape(len(m), len(m))
    D = len(x)
    expected = (stats.multivariate_normal(W @ m + b, sigma**2 * np.eye(D)).logpdf(x)
                - np.sum((W @ V) * W) / (2 * sigma**2))
    kl = 0.5 * (np.trace(V) + m.dot(m) - len(m) - np.log(np.linalg.det(V)))
    return float(expected - kl)
'''}, expected=CH04_FULL),
    # the standard deviation taken as exp(logvar): the visible test sees it
    Submission("carol", answers={"reparameterize": '''
def reparameterize(mu, logvar):
    return mu + torch.exp(logvar) * torch.randn_like(mu)
'''}, expected=CH04_FULL | {"test_reparameterize": 0}),
    # right on the visible test, but log(exp(logvar)) is -inf once exp underflows: the
    # hidden test at logvar = -200 catches it
    Submission("dan", answers={"kl_divergence": '''
def kl_divergence(mu, logvar):
    var = torch.exp(logvar)
    return 0.5 * torch.sum(mu * mu + var - 1 - torch.log(var), dim=1)
'''}, expected=CH04_FULL | {"test_kl_divergence": 0}),
]

# --------------------------------------------------------------------------------------
# ch05_vae
# --------------------------------------------------------------------------------------

CH05_FULL = {"test_vae_loss": 4, "test_sample_from_prior": 2, "test_quantile_grid": 3}

CH05 = everyday(CH05_FULL, "ch02_encoder") + [
    # the Bernoulli log-likelihood written out, torch.normal, itertools.product: full marks
    Submission("bob", answers={
        "vae_loss": '''
def vae_loss(x, x_hat, mu, logvar, beta=1.0):
    log_lik = x * torch.log(x_hat) + (1 - x) * torch.log1p(-x_hat)
    reconstruction = -log_lik.reshape(len(x), -1).sum(dim=1)
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)
    return torch.mean(reconstruction + beta * kl)
''',
        "sample_from_prior": '''
def sample_from_prior(decoder, n, latent_dim, generator=None):
    with torch.inference_mode():
        z = torch.normal(0.0, 1.0, size=(n, latent_dim), generator=generator)
        return decoder(z)
''',
        "quantile_grid": '''
from itertools import product

def quantile_grid(n, p_min=0.05):
    levels = [float(stats.norm.ppf(p)) for p in np.linspace(p_min, 1 - p_min, n)]
    return torch.tensor(list(product(levels, levels)), dtype=torch.float32)
'''}, expected=CH05_FULL),
    # the grid in the other order: the visible test sees it
    Submission("carol", answers={"quantile_grid": '''
def quantile_grid(n, p_min=0.05):
    values = torch.tensor(stats.norm.ppf(np.linspace(p_min, 1 - p_min, n)), dtype=torch.float32)
    z1, z2 = torch.meshgrid(values, values, indexing="xy")
    return torch.stack([z1.reshape(-1), z2.reshape(-1)], dim=1)
'''}, expected=CH05_FULL | {"test_quantile_grid": 0}),
    # summed over the batch instead of averaged: a batch of one cannot tell, the hidden
    # test that duplicates a batch can
    Submission("dan", answers={"vae_loss": '''
def vae_loss(x, x_hat, mu, logvar, beta=1.0):
    bce = F.binary_cross_entropy(x_hat, x, reduction="sum")
    kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum()
    return bce + beta * kl
'''}, expected=CH05_FULL | {"test_vae_loss": 0}),
]

# --------------------------------------------------------------------------------------
# ch06_slm
# --------------------------------------------------------------------------------------

CH06_FULL = {"test_index": 2, "test_bundle_c2": 2, "test_conditions_1_to_4": 3,
             "test_has_common_zero_slope": 3}

CH06 = everyday(CH06_FULL, "ch02_encoder") + [
    # exact rational arithmetic with explicit loops, and a margin-maximising LP: full marks
    Submission("bob", answers={
        "index": '''
from fractions import Fraction

def index(d, c2, k):
    d = np.asarray(d)
    h = len(k)
    total = Fraction(0)
    for r in range(h):
        total += Fraction(int(c2[r]) * int(k[r]), 12)
        for s in range(h):
            for t in range(h):
                total += Fraction(int(d[r, s, t]) * int(k[r]) * int(k[s]) * int(k[t]), 6)
    assert total.denominator == 1
    return int(total)
''',
        "bundle_c2": '''
def bundle_c2(d, V):
    d = np.asarray(d)
    V = np.asarray(V)
    h = d.shape[0]
    out = []
    for r in range(h):
        twice = sum(int(d[r, s, t]) * int(k[s]) * int(k[t]) for k in V for s in range(h) for t in range(h))
        out.append(-twice // 2)
    return out
''',
        "has_common_zero_slope": '''
def has_common_zero_slope(V):
    # variables (s_1..s_6, m): maximise the margin m of the open cone's inequalities
    V = np.asarray(V, dtype=float)
    a_ub = np.hstack([np.vstack([-np.eye(6), 4 * np.eye(6) - np.ones((6, 6))]), np.ones((12, 1))])
    a_eq = np.vstack([np.hstack([V, np.zeros((len(V), 1))]), np.r_[np.ones(6), 0.0][None, :]])
    b_eq = np.r_[np.zeros(len(V)), 1.0]
    res = linprog(np.r_[np.zeros(6), -1.0], A_ub=a_ub, b_ub=np.zeros(12), A_eq=a_eq, b_eq=b_eq,
                  bounds=[(None, None)] * 6 + [(None, 1.0)], method="highs")
    return bool(res.status == 0 and -res.fun > 1e-9)
'''}, expected=CH06_FULL),
    # c2(V) without the factor -1/2: the visible test sees it, and the anomaly check of
    # conditions_1_to_4, which calls bundle_c2, fails with it
    Submission("carol", answers={"bundle_c2": '''
def bundle_c2(d, V):
    return np.einsum("rst,as,at->r", np.asarray(d), np.asarray(V), np.asarray(V))
'''}, expected=CH06_FULL | {"test_bundle_c2": 0, "test_conditions_1_to_4": 0}),
    # only the sum of the indices is checked: the hidden model whose bundles have indices
    # (4, 0, -4, -12, 0) slips through
    Submission("dan", answers={"conditions_1_to_4": '''
def conditions_1_to_4(d, c2, V, group_order=4):
    V = np.asarray(V)
    return {
        "c1": bool(np.all(V.sum(axis=0) == 0)),
        "index": sum(index(d, c2, k) for k in V) == -3 * group_order,
        "pairs": all(index(d, c2, V[a] + V[b]) <= 0 for a in range(5) for b in range(a + 1, 5)),
        "anomaly": bool(np.all(np.asarray(bundle_c2(d, V)) <= np.asarray(c2))),
    }
'''}, expected=CH06_FULL | {"test_conditions_1_to_4": 0}),
]

# --------------------------------------------------------------------------------------
# ch07_stars
# --------------------------------------------------------------------------------------

CH07_FULL = {"test_colours": 3, "test_build_star_encoder": 3, "test_anomaly": 4}

CH07 = everyday(CH07_FULL, "ch02_encoder") + [
    # np.diff, the population standard deviation by hand, and a rank statistic: full marks
    Submission("bob", answers={
        "colours": '''
def colours(mags):
    return -np.diff(np.asarray(mags, dtype=float), axis=1)


def standardize(train, x):
    train = np.asarray(train, dtype=float)
    mean = train.sum(axis=0) / len(train)
    std = np.sqrt(((train - mean) ** 2).sum(axis=0) / len(train))
    return (np.asarray(x, dtype=float) - mean) / std
''',
        "anomaly": '''
def anomaly_scores(model, x):
    with torch.inference_mode():
        errors = (model(x) - x).pow(2)
    return errors.mean(dim=1).cpu().numpy()


def roc_auc(normal, anomalous):
    # the Mann-Whitney U from mid-ranks of the pooled scores
    normal, anomalous = np.asarray(normal, dtype=float), np.asarray(anomalous, dtype=float)
    _, inverse, counts = np.unique(np.r_[normal, anomalous], return_inverse=True, return_counts=True)
    mid_ranks = np.cumsum(counts) - (counts - 1) / 2
    m = len(anomalous)
    u = mid_ranks[inverse][len(normal):].sum() - m * (m + 1) / 2
    return float(u / (len(normal) * m))
'''}, expected=CH07_FULL),
    # colours with the wrong sign: the visible test sees it
    Submission("carol", answers={"colours": '''
def colours(mags):
    mags = np.asarray(mags, dtype=float)
    return mags[:, 1:] - mags[:, :-1]


def standardize(train, x):
    train = np.asarray(train, dtype=float)
    return (np.asarray(x, dtype=float) - train.mean(axis=0)) / train.std(axis=0)
'''}, expected=CH07_FULL | {"test_colours": 0}),
    # ties ignored in the AUC: the visible tests have none, the hidden ones do
    Submission("dan", answers={"anomaly": '''
def anomaly_scores(model, x):
    with torch.no_grad():
        return ((model(x) - x) ** 2).mean(dim=1).numpy()


def roc_auc(normal, anomalous):
    normal, anomalous = np.asarray(normal, dtype=float), np.asarray(anomalous, dtype=float)
    return float(np.mean(anomalous[None, :] > normal[:, None]))
'''}, expected=CH07_FULL | {"test_anomaly": 0}),
]

# --------------------------------------------------------------------------------------
# ch08_lj
# --------------------------------------------------------------------------------------

CH08_FULL = {"test_total_energy": 3, "test_metropolis_accept": 3, "test_coordinates_from_distances": 4}

CH08 = everyday(CH08_FULL, "ch02_encoder") + [
    # double centring instead of particle 0 at the origin, and a loop for the energy
    Submission("bob", answers={
        "coordinates_from_distances": '''
def coordinates_from_distances(d):
    d2 = np.square(np.asarray(d, dtype=float))
    n = len(d2)
    centring = np.eye(n) - np.ones((n, n)) / n
    b = -0.5 * centring @ d2 @ centring
    w, v = np.linalg.eigh(b)
    w, v = w[::-1][:2], v[:, ::-1][:, :2]
    return v * np.sqrt(np.maximum(w, 0.0))
''',
        "total_energy": '''
def total_energy(positions, gamma, box):
    pts = [tuple(p) for p in positions]
    for x, y in pts:
        if not (0 <= x <= box and 0 <= y <= box):
            return float("inf")
    u = 0.0
    for i in range(len(pts)):
        for j in range(i + 1, len(pts)):
            r2 = (pts[i][0] - pts[j][0]) ** 2 + (pts[i][1] - pts[j][1]) ** 2
            u += 4 * (r2 ** -6 - r2 ** -3)
    return u + gamma * sum(y for _, y in pts)
'''}, expected=CH08_FULL),
    # gravity forgotten: the visible test sees it
    Submission("carol", answers={"total_energy": '''
def total_energy(positions, gamma, box):
    x = np.asarray(positions, dtype=float)
    if np.any(x < 0) or np.any(x > box):
        return np.inf
    r2 = ((x[:, None] - x[None]) ** 2).sum(-1)[np.triu_indices(len(x), 1)]
    return float(np.sum(4 * (r2**-6 - r2**-3)))
'''}, expected=CH08_FULL | {"test_total_energy": 0}),
    # right on the visible tests, but exp(-dU / T) overflows for dU = -1e6: the hidden test
    # that turns warnings into errors catches it
    Submission("dan", answers={"metropolis_accept": '''
def metropolis_accept(delta_u, temperature, u):
    return np.asarray(u) < np.exp(-np.asarray(delta_u) / temperature)
'''}, expected=CH08_FULL | {"test_metropolis_accept": 0}),
]

BANK = {"ch01_pca": CH01, "ch02_encoder": CH02, "ch03_tools": CH03, "ch04_elbo": CH04,
        "ch05_vae": CH05, "ch06_slm": CH06, "ch07_stars": CH07, "ch08_lj": CH08}
