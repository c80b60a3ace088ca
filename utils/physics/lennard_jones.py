"""Metropolis Monte Carlo of a 2-D Lennard-Jones fluid under gravity (chapter 8).

Reduced units: lengths in the Lennard-Jones diameter sigma, energies in the well depth
epsilon, temperature as k_B T / epsilon. N particles in a square box [0, L] x [0, L] with
hard walls interact through

    U = sum_{i<j} 4 (r_ij^-12 - r_ij^-6) + gamma * sum_i y_i,    gamma = m g sigma / epsilon,

the pair term truncated (not shifted) at the cut-off r_c. The ``"fake"`` potential of the
source's anomaly test replaces the pair term by 4 (r^-4 - r^-2).

The sampler runs many independent chains at once: the positions of B chains form one
array (B, N, 2), and a Metropolis step moves particle i in all B chains with NumPy
operations over (B, N). A sweep proposes a move for every particle in turn (i = 0..N-1),
as in the source. Two modes:

* ``"restart"`` (the source's protocol): every configuration is the end point of its own
  chain, started from uniformly random positions and run for ``n_sweeps`` sweeps;
* ``"chain"`` (standard equilibrium sampling): ``n_chains`` chains are equilibrated for
  ``n_sweeps`` sweeps, then a configuration is stored every ``n_decorrelation`` sweeps.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..storage import cache_dir, content_key, load_arrays, save_arrays

POTENTIALS = {"lj": (12, 6), "fake": (4, 2)}


@dataclass(frozen=True)
class LJSystem:
    """The physical system, in reduced units.

    Attributes:
        n_particles: N.
        box: side L of the square box (units of sigma).
        temperature: k_B T / epsilon.
        gamma: m g sigma / epsilon, the strength of gravity.
        cutoff: r_c (units of sigma); pairs further apart do not interact.
        potential: ``"lj"`` for 4 (r^-12 - r^-6) or ``"fake"`` for 4 (r^-4 - r^-2).
    """

    n_particles: int = 30
    box: float = 10.0
    temperature: float = 1.0
    gamma: float = 0.4
    cutoff: float = 3.0
    potential: str = "lj"

    def __post_init__(self):
        if self.potential not in POTENTIALS:
            raise ValueError(
                f"unknown potential {self.potential!r}; use one of {sorted(POTENTIALS)}"
            )
        if self.n_particles < 2 or self.box <= 0 or self.temperature <= 0 or self.cutoff <= 0:
            raise ValueError(
                "need n_particles >= 2 and a positive box, temperature and cut-off; got "
                f"{self}"
            )


def pair_potential(r2: np.ndarray, potential: str = "lj", cutoff: float = math.inf) -> np.ndarray:
    """Pair energy 4 (r^-a - r^-b) as a function of the squared distance r2 (units of
    sigma^2); zero for r >= cutoff. (a, b) = (12, 6) for ``"lj"``, (4, 2) for ``"fake"``.

    Written for the sampler's hot loop: a few in-place NumPy operations, no ``np.where``.
    """
    if potential not in POTENTIALS:
        raise ValueError(f"unknown potential {potential!r}; use one of {sorted(POTENTIALS)}")
    r2 = np.asarray(r2, dtype=np.float64)
    inv = 1.0 / np.maximum(r2, 1e-12)  # coincident points: huge, finite
    if potential == "lj":
        inv = inv * inv * inv  # r^-6; the fake potential's r^-2 is 1 / r2 itself
    energy = inv * (inv - 1.0)  # r^-a = (r^-b)^2 for both potentials
    energy *= r2 < cutoff * cutoff
    return 4.0 * energy


def _squared_distances(positions: np.ndarray) -> np.ndarray:
    diff = positions[..., :, None, :] - positions[..., None, :, :]
    return np.einsum("...k,...k->...", diff, diff)


def potential_energy(positions: np.ndarray, system: LJSystem) -> np.ndarray:
    """Total energy U (units of epsilon) of configurations (..., N, 2) -> (...).

    Infinite for a configuration with a particle outside the box (hard walls).
    """
    positions = np.asarray(positions, dtype=np.float64)
    r2 = _squared_distances(positions)
    n = positions.shape[-2]
    upper = np.triu(np.ones((n, n), dtype=bool), k=1)
    pairs = pair_potential(r2[..., upper], system.potential, system.cutoff).sum(axis=-1)
    gravity = system.gamma * positions[..., 1].sum(axis=-1)
    inside = ((positions >= 0) & (positions <= system.box)).all(axis=(-1, -2))
    return np.where(inside, pairs + gravity, np.inf)


def _energy_of_particle(x: np.ndarray, y: np.ndarray, i: int, at_x, at_y, system: LJSystem):
    """Energy of particle i placed at (at_x, at_y) (B,) with all other particles of each
    chain, pair terms plus gravity. x, y: (B, N) coordinates -> (B,)."""
    r2 = (x - at_x[:, None]) ** 2 + (y - at_y[:, None]) ** 2
    r2[:, i] = np.inf
    return pair_potential(r2, system.potential, system.cutoff).sum(axis=1) + system.gamma * at_y


def random_configurations(n: int, system: LJSystem, rng: np.random.Generator) -> np.ndarray:
    """``n`` configurations of independent uniform positions in the box: (n, N, 2)."""
    return rng.uniform(0.0, system.box, size=(n, system.n_particles, 2))


def metropolis_sweeps(
    positions: np.ndarray,
    system: LJSystem,
    n_sweeps: int,
    step: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, float]:
    """Run ``n_sweeps`` Metropolis sweeps on B independent chains.

    In a sweep every particle i = 0..N-1 in turn gets a trial displacement uniform in
    [-step, step]^2 (units of sigma). A move out of the box is rejected (hard walls);
    otherwise it is accepted with probability min(1, exp(-Delta U / T)).

    Args:
        positions: (B, N, 2) starting configurations (not modified).
        system: the physical system.
        n_sweeps: sweeps to run.
        step: maximum displacement per coordinate.
        rng: NumPy generator (the only source of randomness).

    Returns:
        (positions after the sweeps (B, N, 2), fraction of accepted moves).
    """
    pos = np.array(positions, dtype=np.float64, copy=True)
    if pos.ndim != 3 or pos.shape[1:] != (system.n_particles, 2):
        raise ValueError(
            f"positions must have shape (chains, {system.n_particles}, 2); got {pos.shape}"
        )
    chains = len(pos)
    x, y = np.ascontiguousarray(pos[..., 0]), np.ascontiguousarray(pos[..., 1])
    accepted = 0
    beta = 1.0 / system.temperature
    for _ in range(n_sweeps):
        for i in range(system.n_particles):
            shift = rng.uniform(-step, step, size=(2, chains))
            log_u = np.log(rng.uniform(size=chains))
            old_x, old_y = x[:, i].copy(), y[:, i].copy()
            new_x, new_y = old_x + shift[0], old_y + shift[1]
            inside = (new_x >= 0.0) & (new_x <= system.box) & (new_y >= 0.0) & (new_y <= system.box)
            delta = _energy_of_particle(x, y, i, new_x, new_y, system) - _energy_of_particle(
                x, y, i, old_x, old_y, system
            )
            accept = inside & (log_u < -beta * delta)
            x[:, i] = np.where(accept, new_x, old_x)
            y[:, i] = np.where(accept, new_y, old_y)
            accepted += int(accept.sum())
    total = n_sweeps * system.n_particles * chains
    return np.stack([x, y], axis=-1), accepted / max(total, 1)


@dataclass
class Samples:
    """Configurations drawn by :func:`sample_configurations`.

    Attributes:
        positions: (n, N, 2) float32 coordinates in units of sigma.
        acceptance: fraction of accepted Metropolis moves over the whole run.
        system: the simulated :class:`LJSystem`.
        protocol: the sampling parameters (mode, sweeps, step, seed, ...).
    """

    positions: np.ndarray
    acceptance: float
    system: LJSystem
    protocol: dict = field(default_factory=dict)


def _progress_bar(total: int, description: str):
    """A tqdm bar of configurations on a terminal (a few minutes of sampling are otherwise
    silent); disabled in notebooks, where the book would show it, in CI and with
    ``COURSE_PROGRESS=0`` (:func:`utils.config.show_progress`)."""
    import sys

    from tqdm import tqdm

    from utils.config import show_progress

    return tqdm(total=total, desc=description, unit="config", leave=False,
                disable=not (show_progress() and sys.stderr.isatty()))


def sample_configurations(
    n_samples: int,
    system: LJSystem,
    mode: str = "restart",
    n_sweeps: int = 800,
    step: float = 0.8,
    n_chains: int = 100,
    n_decorrelation: int = 20,
    seed: int = 0,
    batch: int = 2000,
) -> Samples:
    """Draw ``n_samples`` configurations of ``system`` by Metropolis Monte Carlo.

    ``mode="restart"``: each sample is the last configuration of a chain started from
    uniform random positions and run for ``n_sweeps`` sweeps (chains run ``batch`` at a
    time). ``mode="chain"``: ``n_chains`` chains are equilibrated for ``n_sweeps`` sweeps,
    then every ``n_decorrelation`` sweeps each chain contributes one sample.

    The defaults equilibrate the chapter's system (N = 30, L = 10, T = 1): the mean
    height and pair energy stop drifting after about 800 sweeps of step 0.8 at gamma =
    0.1 (400 at gamma = 1), with acceptance rates of about 0.40 (gamma = 0.1) to 0.20
    (gamma = 1). Deterministic for a given ``seed`` and arguments.
    """
    protocol = dict(mode=mode, n_sweeps=n_sweeps, step=step, seed=seed)
    rng = np.random.default_rng(seed)
    if mode == "restart":
        protocol["batch"] = batch
        parts, accepted = [], 0.0
        bar = _progress_bar(n_samples, f"Metropolis, gamma = {system.gamma:g}")
        for start in range(0, n_samples, batch):
            size = min(batch, n_samples - start)
            pos, rate = metropolis_sweeps(
                random_configurations(size, system, rng), system, n_sweeps, step, rng
            )
            parts.append(pos)
            accepted += rate * size
            bar.update(size)
        bar.close()
        positions = np.concatenate(parts)
        acceptance = accepted / n_samples
    elif mode == "chain":
        protocol |= dict(n_chains=n_chains, n_decorrelation=n_decorrelation)
        pos, rate = metropolis_sweeps(
            random_configurations(n_chains, system, rng), system, n_sweeps, step, rng
        )
        rates, parts = [rate], []
        for _ in range(-(-n_samples // n_chains)):
            pos, rate = metropolis_sweeps(pos, system, n_decorrelation, step, rng)
            parts.append(pos)
            rates.append(rate)
        # sample k of chain c sits at row k * n_chains + c; keep whole rounds first
        positions = np.concatenate(parts)[:n_samples]
        acceptance = float(np.mean(rates[1:])) if len(rates) > 1 else rate
    else:
        raise ValueError(f"unknown mode {mode!r}; use 'restart' or 'chain'")
    return Samples(positions.astype(np.float32), float(acceptance), system, protocol)


# --------------------------------------------------------------------------------------
# Cached data sets
# --------------------------------------------------------------------------------------

GAMMAS = (0.1, 0.4, 0.7, 1.0)


def _cache_root() -> Path:
    return cache_dir() / "lennard_jones"


def lj_dataset(
    gamma: float,
    n_samples: int = 10_000,
    potential: str = "lj",
    seed: int = 0,
    cache: bool = True,
    **protocol,
) -> Samples:
    """Configurations of the chapter's system (N = 30, L = 10, T = 1, r_c = 3) at one
    ``gamma``, cached under the course cache (:func:`utils.storage.cache_dir`) in the
    course's array-cache format (:func:`utils.storage.save_arrays`).

    The cache file is named after a hash of every parameter and stores them, so a change
    of any parameter makes a new file; a file that cannot be read is regenerated. The
    random stream depends on ``seed``, ``gamma`` and ``potential``, so the data sets of
    different gammas are independent. ``protocol`` goes to :func:`sample_configurations`.
    """
    system = LJSystem(gamma=float(gamma), potential=potential)
    params = dict(system=asdict(system), n_samples=int(n_samples), seed=int(seed),
                  protocol=dict(sorted(protocol.items())), format=2)
    path = _cache_root() / f"lj_gamma{gamma:g}_{potential}_{n_samples}_{content_key(params)}.npz"
    found = load_arrays(path, {"params": params}) if cache else None
    if found is not None:
        arrays, meta = found
        return Samples(arrays["positions"], float(meta["acceptance"]), system, meta["protocol"])
    stream = int(np.random.SeedSequence([int(seed), round(gamma * 1e6),
                                         list(POTENTIALS).index(potential)])
                 .generate_state(1)[0])
    samples = sample_configurations(n_samples, system, seed=stream, **protocol)
    if cache:
        save_arrays(path, {"positions": samples.positions},
                    {"params": params, "acceptance": float(samples.acceptance),
                     "protocol": samples.protocol})
    return samples


# --------------------------------------------------------------------------------------
# Representations: sorted distance matrices and occupancy grids
# --------------------------------------------------------------------------------------


def sort_by_height(positions: np.ndarray) -> np.ndarray:
    """Relabel the particles of each configuration from the lowest (smallest y) to the
    highest, ties broken by x. (..., N, 2) -> (..., N, 2)."""
    positions = np.asarray(positions)
    order = np.lexsort((positions[..., 0], positions[..., 1]), axis=-1)
    return np.take_along_axis(positions, order[..., None], axis=-2)


def distance_matrices(positions: np.ndarray, sort: bool = True) -> np.ndarray:
    """Pairwise distances d_ij = |x_i - x_j| of configurations (..., N, 2) -> (..., N, N),
    with the particles first sorted by height (``sort=True``) so that the same
    configuration always gives the same matrix, whatever the order of its labels."""
    positions = np.asarray(positions, dtype=np.float64)
    if sort:
        positions = sort_by_height(positions)
    return np.sqrt(_squared_distances(positions)).astype(np.float32)


CONTACT_CLIP = 4.0
"""Largest value of (sigma / r)^6 kept in the contact channel (reached at r = 0.79 sigma,
closer than any pair of an equilibrated configuration at T = 1)."""


def distance_channels(positions: np.ndarray, box: float, sort: bool = True) -> np.ndarray:
    """The network input: two 30 x 30 images per configuration, (n, N, 2) -> (n, 2, N, N)
    float32, particles sorted by height.

    Channel 0 holds the distances d_ij / L (the global shape, from which the coordinates
    are rebuilt); channel 1 the contacts min((sigma / d_ij)^6, CONTACT_CLIP), the r^-6
    part of the potential: 0.5 at the potential minimum, 0.09 at 1.5 sigma, negligible
    beyond 2 sigma. It shows the local structure that distances divided by L resolve
    poorly, and makes overlapping particles stand out. Both vanish on the diagonal.
    """
    d = distance_matrices(positions, sort=sort).astype(np.float64)
    n = d.shape[-1]
    off = ~np.eye(n, dtype=bool)
    inv6 = np.zeros_like(d)
    inv6[..., off] = np.minimum(1.0 / np.maximum(d[..., off], 1e-6) ** 6, CONTACT_CLIP)
    return np.stack([d / box, inv6], axis=-3).astype(np.float32)


def height_channel(positions: np.ndarray, box: float) -> np.ndarray:
    """The optional third input channel: the mean height of each pair,
    h_ij = (y_i + y_j) / (2 L), zero on the diagonal, particles sorted by height.
    (n, N, 2) -> (n, 1, N, N) float32.

    The distances are unchanged by a vertical shift; this channel is not, so with it the
    network sees the heights, and with them the gravitational energy gamma * sum_i y_i.
    :func:`heights_from_channel` inverts it.
    """
    y = sort_by_height(positions)[..., 1].astype(np.float64) / box
    h = 0.5 * (y[..., :, None] + y[..., None, :])
    n = h.shape[-1]
    h[..., np.arange(n), np.arange(n)] = 0.0
    return h[:, None].astype(np.float32)


def heights_from_channel(channel: np.ndarray, box: float) -> np.ndarray:
    """Heights y_i (units of sigma) from a height channel (..., N, N) as made by
    :func:`height_channel`, exact for an exact channel and the least-squares heights of
    a noisy one: with row sums S_i = sum_{j != i} h_ij = ((N - 2) y_i + Y) / 2 and
    Y = sum_i y_i = sum_i S_i / (N - 1), y_i = (2 S_i - Y) / (N - 2)."""
    h = np.asarray(channel, dtype=np.float64)
    n = h.shape[-1]
    h = 0.5 * (h + np.swapaxes(h, -1, -2))
    h = h * (1.0 - np.eye(n))
    row = h.sum(axis=-1)
    total = row.sum(axis=-1, keepdims=True) / (n - 1)
    return (2.0 * row - total) / (n - 2) * box


def occupancy_grids(positions: np.ndarray, box: float, cells: int = 32) -> np.ndarray:
    """Image-like alternative: the number of particles in each of cells x cells squares of
    the box. (n, N, 2) -> (n, cells, cells) float32, row 0 at the bottom (y = 0)."""
    positions = np.asarray(positions)
    index = np.clip((positions / box * cells).astype(int), 0, cells - 1)
    grids = np.zeros((len(positions), cells, cells), dtype=np.float32)
    n = np.repeat(np.arange(len(positions)), positions.shape[1])
    np.add.at(grids, (n, index[..., 1].ravel(), index[..., 0].ravel()), 1.0)
    return grids


# --------------------------------------------------------------------------------------
# From distances back to coordinates
# --------------------------------------------------------------------------------------


def gram_from_distances(distances: np.ndarray) -> np.ndarray:
    """Gram matrix with particle 0 at the origin, G_ij = (d_i0^2 + d_j0^2 - d_ij^2) / 2 =
    x_i . x_j. (..., N, N) -> (..., N, N)."""
    d2 = np.asarray(distances, dtype=np.float64) ** 2
    return 0.5 * (d2[..., :, :1] + d2[..., :1, :] - d2)


def double_centred_gram(distances: np.ndarray) -> np.ndarray:
    """Torgerson's Gram matrix of the centred points, B = -1/2 J D^2 J with
    J = I - 11^T / N: B_ij = (x_i - xbar) . (x_j - xbar) for exact distances. Unlike
    :func:`gram_from_distances` no particle is singled out as the origin, so an error in
    one row of a noisy matrix is not copied into every entry. (..., N, N) -> (..., N, N).
    """
    d2 = np.asarray(distances, dtype=np.float64) ** 2
    centred = d2 - d2.mean(axis=-1, keepdims=True) - d2.mean(axis=-2, keepdims=True)
    centred += d2.mean(axis=(-1, -2), keepdims=True)
    return -0.5 * centred


def coordinates_from_distances(distances: np.ndarray, dim: int = 2) -> np.ndarray:
    """Classical multidimensional scaling (Torgerson 1952): coordinates whose pairwise
    distances are ``distances`` (exactly, if they come from points in ``dim``
    dimensions; the best rank-``dim`` fit of the double-centred Gram matrix otherwise).

    B = U S U^T (:func:`double_centred_gram`) is diagonalised and X = U_k sqrt(S_k) keeps
    the ``dim`` largest eigenvalues (negative ones, from noisy distances, are set to
    zero). X equals the original coordinates up to a rotation and a reflection, with the
    centroid at the origin. (..., N, N) -> (..., N, dim).
    """
    distances = np.asarray(distances, dtype=np.float64)
    sym = 0.5 * (distances + np.swapaxes(distances, -1, -2))
    values, vectors = np.linalg.eigh(double_centred_gram(sym))
    values, vectors = values[..., ::-1][..., :dim], vectors[..., ::-1][..., :dim]
    return vectors * np.sqrt(np.clip(values, 0.0, None))[..., None, :]


def orient_by_height_order(coordinates: np.ndarray, box: float | None = None) -> np.ndarray:
    """Orient coordinates known up to a rotation, a reflection and a translation, when
    their rows are sorted by height (row 0 the lowest particle, as in the chapter's
    distance matrices), without looking at the true configuration.

    "Up" is the direction of the least-squares regression of the height rank on the
    position: u is proportional to (X_c^T X_c)^-1 X_c^T (k - kbar), X_c the centred
    coordinates and k = 0..N-1 the rank. The configuration is turned so that u points
    along +y, lowered until its lowest particle sits on the floor y = 0
    (the floor's height above the lowest centre is not in the distances and is set to
    zero), and centred horizontally in [0, box] if ``box`` is given. The mirror image
    x -> -x is not fixed. (..., N, 2) -> (..., N, 2).
    """
    x = np.asarray(coordinates, dtype=np.float64)
    n = x.shape[-2]
    centred = x - x.mean(axis=-2, keepdims=True)
    rank = np.arange(n) - (n - 1) / 2.0
    scatter = np.einsum("...ia,...ib->...ab", centred, centred) + 1e-12 * np.eye(2)
    covariance = np.einsum("...ia,i->...a", centred, rank)
    up = np.linalg.solve(scatter, covariance[..., None])[..., 0]
    up /= np.maximum(np.linalg.norm(up, axis=-1, keepdims=True), 1e-12)
    side = np.stack([up[..., 1], -up[..., 0]], axis=-1)
    out = np.stack([np.einsum("...ia,...a->...i", centred, side),
                    np.einsum("...ia,...a->...i", centred, up)], axis=-1)
    out[..., 1] -= out[..., 1].min(axis=-1, keepdims=True)
    if box is not None:
        low, high = out[..., 0].min(axis=-1, keepdims=True), out[..., 0].max(axis=-1, keepdims=True)
        out[..., 0] += box / 2 - 0.5 * (low + high)
    return out


def configurations_from_distances(distances: np.ndarray, box: float | None = None) -> np.ndarray:
    """Distance matrices sorted by height (n, N, N) -> configurations (n, N, 2): classical
    MDS (:func:`coordinates_from_distances`) then :func:`orient_by_height_order`. This is
    how the chapter turns a network's output into atoms, using only what the network
    sees."""
    return orient_by_height_order(coordinates_from_distances(distances), box)


def orient_by_gravity(coordinates: np.ndarray, box: float | None = None) -> np.ndarray:
    """Put a configuration known up to a rigid motion back into a gravity-like pose.

    The configuration is rotated to rest on the side of its convex hull nearest to its
    centre of mass (the pose of least potential energy among the stable ones), then
    shifted so that this side lies on y = 0 and, if ``box`` is given, centred
    horizontally in [0, box]. A mirror image x -> -x cannot be told apart by gravity and
    is left as it is. The points must not all lie on one line (scipy's ConvexHull).
    (N, 2) -> (N, 2).
    """
    from scipy.spatial import ConvexHull

    x = np.asarray(coordinates, dtype=np.float64)
    hull = ConvexHull(x).vertices  # counter-clockwise in 2-D
    centre = x.mean(axis=0)
    best, best_distance = None, math.inf
    for a, b in zip(hull, np.roll(hull, -1)):
        edge = x[b] - x[a]
        length = np.hypot(*edge)
        if length == 0:
            continue
        # distance from the centre of mass to the line through the edge
        distance = abs(edge[0] * (centre[1] - x[a][1]) - edge[1] * (centre[0] - x[a][0])) / length
        if distance < best_distance:
            best, best_distance = (a, b), distance
    a, b = best
    edge = x[b] - x[a]
    angle = -math.atan2(edge[1], edge[0])  # make the edge horizontal ...
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    y = (x - x[a]) @ rotation.T
    if y[:, 1].mean() < 0:  # ... with the centre of mass above it
        y = -y
    y[:, 1] -= y[:, 1].min()
    if box is not None:
        y[:, 0] += box / 2 - 0.5 * (y[:, 0].min() + y[:, 0].max())
    else:
        y[:, 0] -= y[:, 0].min()
    return y


def align(coordinates: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, float]:
    """Best rigid superposition (rotation, reflection and translation; Kabsch/Procrustes)
    of ``coordinates`` onto ``reference``, both (N, 2) with the same particle order.

    Returns (aligned coordinates (N, 2), root-mean-square deviation in units of sigma).
    """
    from scipy.linalg import orthogonal_procrustes

    x = np.asarray(coordinates, dtype=np.float64)
    ref = np.asarray(reference, dtype=np.float64)
    xc, rc = x - x.mean(axis=0), ref - ref.mean(axis=0)
    rotation, _ = orthogonal_procrustes(xc, rc)
    aligned = xc @ rotation + ref.mean(axis=0)
    return aligned, float(np.sqrt(((aligned - ref) ** 2).sum(axis=1).mean()))


def density_profile(positions: np.ndarray, box: float, bins: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Number density of particles per unit height, averaged over configurations: returns
    (bin centres in sigma, particles per unit height and per configuration)."""
    y = np.asarray(positions)[..., 1].ravel()
    counts, edges = np.histogram(y, bins=bins, range=(0.0, box))
    width = edges[1] - edges[0]
    n_configs = np.asarray(positions).shape[0]
    return 0.5 * (edges[1:] + edges[:-1]), counts / (width * n_configs)


def pair_distance_density(positions: np.ndarray, r_max: float = 5.0, bins: int = 50):
    """Pair-distance density n(r): the number of other particles at distance r per unit
    r, per particle, averaged over configurations (n, N, 2) -> (bin centres in sigma,
    n(r) in sigma^-1). Its integral up to R is the mean number of neighbours within R.
    For a homogeneous fluid of density rho, n(r) = 2 pi r rho g(r); in a fluid stratified
    by gravity and bounded by walls rho is not constant, so the chapter compares n(r)
    itself instead of a radial distribution function g(r).
    """
    pos = np.asarray(positions, dtype=np.float64)
    n_configs, n = pos.shape[:2]
    d = distance_matrices(pos, sort=False)
    iu = np.triu_indices(n, k=1)
    counts, edges = np.histogram(d[:, iu[0], iu[1]].ravel(), bins=bins, range=(0.0, r_max))
    width = edges[1] - edges[0]
    return 0.5 * (edges[1:] + edges[:-1]), 2.0 * counts / (width * n_configs * n)


def capped_pair_energy(positions: np.ndarray, cap: float = 1.0, cutoff: float = 3.0,
                       potential: str = "lj") -> np.ndarray:
    """Pair energy of each configuration (n, N, 2) -> (n,) in units of epsilon, with every
    pair term capped at ``cap`` (the source caps the Lennard-Jones term at U = 1 so that
    one overlapping pair of a rebuilt configuration, which costs up to 10^20, does not
    swamp the distribution), truncated at ``cutoff``. Gravity is not included."""
    pos = np.asarray(positions, dtype=np.float64)
    n = pos.shape[-2]
    iu = np.triu_indices(n, k=1)
    r2 = _squared_distances(pos)[..., iu[0], iu[1]]
    return np.minimum(pair_potential(r2, potential, cutoff), cap).sum(axis=-1)


def integrated_autocorrelation_time(series: np.ndarray, window_factor: float = 5.0,
                                    min_length_factor: float = 50.0) -> float:
    """Integrated autocorrelation time tau_int = 1/2 + sum_{t>=1} rho(t) (in units of the
    sampling interval) of stationary time series (n_chains, T), with Sokal's automatic
    window: the sum stops at the first W with W >= window_factor * tau_int(W). The
    autocorrelation rho(t) is averaged over chains; each chain is centred on its own
    mean. The variance of a mean over T samples is 2 tau_int / T times that of one
    sample. Requires T >= min_length_factor * tau_int (50 by default, emcee's rule; a
    ValueError says when it is not)."""
    x = np.atleast_2d(np.asarray(series, dtype=np.float64))
    x = x - x.mean(axis=1, keepdims=True)
    n_chains, length = x.shape
    size = 1 << (2 * length - 1).bit_length()
    spectrum = np.fft.rfft(x, n=size, axis=1)
    acf = np.fft.irfft(spectrum * np.conj(spectrum), n=size, axis=1)[:, :length].mean(axis=0)
    if acf[0] <= 0:
        raise ValueError("the series is constant: its autocorrelation time is undefined")
    rho = acf / acf[0]
    tau = 0.5
    for window in range(1, length):
        tau += rho[window]
        if window >= window_factor * tau:
            break
    else:
        tau = math.inf
    if length < min_length_factor * tau:  # the estimate is biased low unless T >> tau
        raise ValueError(f"series of length {length} too short for an autocorrelation time of "
                         f"about {tau:.0f} or more: record at least {min_length_factor:g} tau_int steps")
    return float(tau)


# --------------------------------------------------------------------------------------
# The chapter's training data
# --------------------------------------------------------------------------------------


@dataclass
class DistanceData:
    """Network inputs of several gammas (:func:`distance_channels`), split in two.

    Attributes:
        x_train, x_test: (n, 2, N, N) float32 arrays: d_ij / L and the contact channel.
        gamma_train, gamma_test: (n,) the gamma of each configuration.
        positions_train, positions_test: (n, N, 2) the configurations, sorted by height.
        box: L, the scale of the distances.
    """

    x_train: np.ndarray
    x_test: np.ndarray
    gamma_train: np.ndarray
    gamma_test: np.ndarray
    positions_train: np.ndarray
    positions_test: np.ndarray
    box: float

    def with_heights(self, split: str = "test") -> np.ndarray:
        """The inputs of ``split`` ("train" or "test") with :func:`height_channel` as a
        third channel: (n, 3, N, N) float32."""
        x, positions = ((self.x_train, self.positions_train) if split == "train"
                        else (self.x_test, self.positions_test))
        return np.concatenate([x, height_channel(positions, self.box)], axis=1)

    def distance_mse(self, reconstruction) -> float:
        """Mean squared error of the distance channel of a reconstruction (n, 2, N, N) of
        ``x_test`` (NumPy or torch), in units of sigma^2."""
        recon = np.asarray(reconstruction)[:, 0]
        return float(np.mean((recon - self.x_test[:, 0]) ** 2) * self.box**2)

    def mean_matrix_mse(self) -> float:
        """The baseline of :meth:`distance_mse`: predict every test matrix by the mean
        training matrix of its gamma (sigma^2)."""
        errors = [np.mean((self.x_test[self.gamma_test == g, 0]
                           - self.x_train[self.gamma_train == g, 0].mean(axis=0)) ** 2)
                  * np.sum(self.gamma_test == g) for g in np.unique(self.gamma_test)]
        return float(np.sum(errors) / len(self.gamma_test) * self.box**2)

    def pca_mse(self, n_components: int) -> float:
        """The linear baseline of :meth:`distance_mse`: principal component analysis of
        the training distance matrices with ``n_components`` components (as many as a
        VAE's latent dimensions), test matrices projected and rebuilt (sigma^2)."""
        from sklearn.decomposition import PCA

        train = self.x_train[:, 0].reshape(len(self.x_train), -1)
        test = self.x_test[:, 0].reshape(len(self.x_test), -1)
        pca = PCA(n_components, random_state=0).fit(train)
        rebuilt = pca.inverse_transform(pca.transform(test))
        return float(np.mean((rebuilt - test) ** 2) * self.box**2)


def distance_data(
    gammas=GAMMAS, n_per_gamma: int = 10_000, test_fraction: float = 0.2, seed: int = 0
) -> DistanceData:
    """The chapter's data set: :func:`lj_dataset` for each gamma, as the two-channel
    sorted distance images of :func:`distance_channels`, shuffled and split with ``seed``
    (the same split for the same arguments)."""
    positions, labels = [], []
    for gamma in gammas:
        samples = lj_dataset(gamma, n_per_gamma, seed=seed)
        positions.append(sort_by_height(samples.positions))
        labels.append(np.full(len(samples.positions), gamma, dtype=np.float32))
    box = samples.system.box
    positions, labels = np.concatenate(positions), np.concatenate(labels)
    order = np.random.default_rng(seed).permutation(len(positions))
    n_test = int(round(test_fraction * len(positions)))
    test, train = order[:n_test], order[n_test:]
    x = distance_channels(positions, box, sort=False)
    return DistanceData(x[train], x[test], labels[train], labels[test],
                        positions[train], positions[test], box)


# --------------------------------------------------------------------------------------
# Anomalies for chapter 8
# --------------------------------------------------------------------------------------


def corrupt_configurations(
    positions: np.ndarray, box: float, n_moved: int = 4, max_step: float = 0.2, seed: int = 0
) -> np.ndarray:
    """Move ``n_moved`` randomly chosen particles of each configuration by a step of
    length uniform in [0, max_step] (units of sigma) in a random direction, staying in
    the box. (n, N, 2) -> (n, N, 2)."""
    rng = np.random.default_rng(seed)
    out = np.array(positions, dtype=np.float64, copy=True)
    n, particles = out.shape[:2]
    chosen = np.argsort(rng.random((n, particles)), axis=1)[:, :n_moved]
    angle = rng.uniform(0, 2 * np.pi, size=(n, n_moved))
    length = rng.uniform(0, max_step, size=(n, n_moved))
    step = np.stack([np.cos(angle), np.sin(angle)], axis=-1) * length[..., None]
    rows = np.arange(n)[:, None]
    out[rows, chosen] = np.clip(out[rows, chosen] + step, 0.0, box)
    return out.astype(np.float32)


UNSEEN_GAMMA = 1.3


def anomaly_sets(test_positions: np.ndarray, n: int, box: float = 10.0, seed: int = 0) -> dict:
    """The four kinds of unusual configurations of chapter 8, ``n`` of each (n, N, 2):

    * ``"unseen gamma"``: the same fluid at gamma = UNSEEN_GAMMA, outside the training
      range (:func:`lj_dataset`, cached);
    * ``"fake potential"``: the pair term 4 (r^-4 - r^-2), n / 4 at each training gamma;
    * ``"uniform random"``: positions drawn uniformly in the box, no physics at all;
    * ``"corrupted"``: the first n test configurations with four particles moved by up
      to 0.2 sigma (:func:`corrupt_configurations`).
    """
    quarter = -(-n // len(GAMMAS))
    fake = np.concatenate([lj_dataset(g, quarter, potential="fake", seed=seed).positions
                           for g in GAMMAS])[:n]
    rng = np.random.default_rng(seed + 1)
    return {
        "unseen gamma": lj_dataset(UNSEEN_GAMMA, n, seed=seed).positions,
        "fake potential": fake,
        "uniform random": random_configurations(n, LJSystem(), rng).astype(np.float32),
        "corrupted": corrupt_configurations(test_positions[:n], box, seed=seed),
    }
