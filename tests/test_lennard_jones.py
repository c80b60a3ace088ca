"""Tests of utils/physics/lennard_jones.py: energies against hand values, the sampler's
statistics against exact results, the distance representation and the reconstruction of
coordinates from distances."""

from __future__ import annotations

import math

import numpy as np
import pytest

from utils.physics.lennard_jones import (
    LJSystem,
    CONTACT_CLIP,
    align,
    anomaly_sets,
    coordinates_from_distances,
    corrupt_configurations,
    distance_channels,
    density_profile,
    distance_matrices,
    gram_from_distances,
    lj_dataset,
    metropolis_sweeps,
    occupancy_grids,
    orient_by_gravity,
    pair_potential,
    potential_energy,
    random_configurations,
    sample_configurations,
    sort_by_height,
)

R_MIN = 2 ** (1 / 6)  # minimum of 4 (r^-12 - r^-6)


def rotate(points, angle):
    c, s = math.cos(angle), math.sin(angle)
    return points @ np.array([[c, -s], [s, c]]).T


# ---------------------------------------------------------------------- energies


def test_pair_potential_at_hand_values():
    r = np.array([1.0, R_MIN, 1.5, 2.9, 3.1])
    expected = [0.0, -1.0, 4 * (1.5**-12 - 1.5**-6), 4 * (2.9**-12 - 2.9**-6), 0.0]
    assert np.allclose(pair_potential(r**2, "lj", cutoff=3.0), expected, atol=1e-12)
    assert pair_potential(np.array([1.5**2]), "lj")[0] == pytest.approx(-0.3203365, abs=1e-6)
    # the fake potential 4 (r^-4 - r^-2) has its minimum -1 at r = sqrt(2)
    assert pair_potential(np.array([2.0]), "fake")[0] == pytest.approx(-1.0)
    assert pair_potential(np.array([1.0]), "fake")[0] == pytest.approx(0.0)


def test_energy_of_an_equilateral_triangle_at_the_potential_minimum():
    system = LJSystem(n_particles=3, gamma=0.7)
    triangle = np.array([[2.0, 1.0], [2.0 + R_MIN, 1.0], [2.0 + R_MIN / 2, 1.0 + R_MIN * math.sqrt(3) / 2]])
    expected = -3.0 + 0.7 * triangle[:, 1].sum()
    assert potential_energy(triangle, system) == pytest.approx(expected, abs=1e-12)


def test_energy_of_a_square_counts_sides_diagonals_and_the_cutoff():
    square = np.array([[1.0, 1.0], [2.5, 1.0], [1.0, 2.5], [2.5, 2.5]])
    side, diagonal = 1.5, 1.5 * math.sqrt(2)
    phi = lambda r: 4 * (r**-12 - r**-6)  # noqa: E731
    no_gravity = LJSystem(n_particles=4, gamma=0.0)
    assert potential_energy(square, no_gravity) == pytest.approx(4 * phi(side) + 2 * phi(diagonal))
    short = LJSystem(n_particles=4, gamma=0.0, cutoff=2.0)  # diagonals 2.12 are cut off
    assert potential_energy(square, short) == pytest.approx(4 * phi(side))
    with_gravity = LJSystem(n_particles=4, gamma=1.0)
    assert potential_energy(square, with_gravity) - potential_energy(square, no_gravity) == pytest.approx(7.0)


def test_a_particle_outside_the_box_has_infinite_energy():
    system = LJSystem(n_particles=2, box=5.0)
    assert potential_energy(np.array([[1.0, 1.0], [3.0, 5.5]]), system) == np.inf
    batch = np.array([[[1.0, 1.0], [3.0, 4.0]], [[1.0, -0.1], [3.0, 4.0]]])
    energies = potential_energy(batch, system)
    assert np.isfinite(energies[0]) and energies[1] == np.inf


def test_bad_parameters_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="unknown potential"):
        LJSystem(potential="morse")
    with pytest.raises(ValueError, match="positive box"):
        LJSystem(box=-1.0)
    with pytest.raises(ValueError, match="shape"):
        metropolis_sweeps(np.zeros((4, 3, 2)), LJSystem(), 1, 0.1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="unknown mode"):
        sample_configurations(2, LJSystem(), mode="md")


# ---------------------------------------------------------------------- the sampler


def test_sweeps_keep_particles_in_the_box_and_are_deterministic():
    system = LJSystem(gamma=1.0)
    start = random_configurations(50, system, np.random.default_rng(1))
    a, rate_a = metropolis_sweeps(start, system, 20, 0.8, np.random.default_rng(2))
    b, rate_b = metropolis_sweeps(start, system, 20, 0.8, np.random.default_rng(2))
    assert np.array_equal(a, b) and rate_a == rate_b
    assert 0.05 < rate_a < 0.9
    assert (a >= 0).all() and (a <= system.box).all()
    # the sampler removes the overlaps of random starts: pair energy from > 0 to < 0
    pairs_only = LJSystem(gamma=0.0)
    assert np.median(potential_energy(a, pairs_only)) < 0 < np.median(potential_energy(start, pairs_only))


def test_ideal_gas_heights_follow_the_barometric_law():
    """Detailed balance check: with the pair term cut off at a tiny range the particles
    are independent, and the stationary distribution must be p(y) ~ exp(-gamma y / T) on
    [0, L], uniform in x."""
    system = LJSystem(n_particles=4, box=10.0, temperature=1.0, gamma=0.5, cutoff=1e-3)
    samples = sample_configurations(4000, system, mode="chain", n_sweeps=1000,
                                    n_chains=2000, n_decorrelation=100, seed=3)
    y = samples.positions[..., 1].ravel().astype(np.float64)
    x = samples.positions[..., 0].ravel().astype(np.float64)
    a, length = system.gamma / system.temperature, system.box
    mean_y = 1 / a - length / math.expm1(a * length)
    assert y.mean() == pytest.approx(mean_y, abs=0.05)  # 1.933 exactly
    assert x.mean() == pytest.approx(length / 2, abs=0.08)
    # the density decays by exp(-a) per unit height: compare the bins' log-slope
    centres, density = density_profile(samples.positions, system.box, bins=10)
    slope = np.polyfit(centres[:6], np.log(density[:6]), 1)[0]
    assert slope == pytest.approx(-a, rel=0.1)


def test_heavier_gravity_packs_the_fluid_lower():
    heights = []
    for gamma in (0.1, 0.4, 1.0):
        samples = sample_configurations(200, LJSystem(gamma=gamma), seed=0, n_sweeps=400)
        heights.append(samples.positions[..., 1].mean())
        assert 0.1 < samples.acceptance < 0.6
    assert heights[0] > heights[1] > heights[2]
    assert heights[0] > 3.5 and heights[2] < 2.5  # gamma 0.1 fills the box, 1.0 sits low


def test_lj_dataset_is_cached_with_its_parameters(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    first = lj_dataset(0.4, n_samples=20, n_sweeps=5)
    files = list((tmp_path / "lennard_jones").glob("*.npz"))
    assert len(files) == 1
    import utils.physics.lennard_jones as module

    def no_sampling(*args, **kwargs):
        raise AssertionError("the cached data set was sampled again instead of read")

    with monkeypatch.context() as patched:  # the second call must read the file
        patched.setattr(module, "sample_configurations", no_sampling)
        again = lj_dataset(0.4, n_samples=20, n_sweeps=5)
    assert np.array_equal(first.positions, again.positions)
    assert again.protocol == first.protocol and again.acceptance == first.acceptance
    other = lj_dataset(0.4, n_samples=20, n_sweeps=6)  # another protocol: another file
    assert len(list((tmp_path / "lennard_jones").glob("*.npz"))) == 2
    assert not np.array_equal(first.positions, other.positions)
    assert not np.array_equal(first.positions, lj_dataset(0.7, n_samples=20, n_sweeps=5).positions)
    files[0].write_bytes(b"not an npz file")  # a damaged cache file is regenerated
    assert np.array_equal(lj_dataset(0.4, n_samples=20, n_sweeps=5).positions, first.positions)


# ---------------------------------------------------------------------- representation


def test_sorted_distance_matrix_does_not_depend_on_the_labels():
    rng = np.random.default_rng(0)
    config = rng.uniform(0, 10, size=(30, 2))
    d = distance_matrices(config)
    assert d.shape == (30, 30)
    assert np.allclose(d, d.T) and np.all(np.diag(d) == 0)
    assert np.array_equal(d, distance_matrices(config[rng.permutation(30)]))
    unsorted = distance_matrices(config[rng.permutation(30)], sort=False)
    assert not np.array_equal(d, unsorted)
    heights = sort_by_height(config)[:, 1]
    assert np.all(np.diff(heights) >= 0)


def test_distance_channels_hold_scaled_distances_and_clipped_contacts():
    config = np.array([[[1.0, 1.0], [1.0 + 2 ** (1 / 6), 1.0], [1.5, 1.2], [8.0, 8.0]]])
    channels = distance_channels(config, box=10.0)
    assert channels.shape == (1, 2, 4, 4) and channels.dtype == np.float32
    d = distance_matrices(config)[0]
    assert np.allclose(channels[0, 0], d / 10.0)
    assert np.all(np.diag(channels[0, 1]) == 0)
    off = ~np.eye(4, dtype=bool)
    assert np.allclose(channels[0, 1][off], np.minimum(d[off] ** -6.0, CONTACT_CLIP), rtol=1e-5)
    assert channels[0, 1].max() == CONTACT_CLIP  # the pair 0.54 apart is clipped


def test_height_channel_holds_pair_heights_and_gives_the_heights_back():
    from utils.physics.lennard_jones import height_channel, heights_from_channel

    rng = np.random.default_rng(4)
    config = rng.uniform(0, 10, size=(3, 30, 2))
    channel = height_channel(config, box=10.0)
    assert channel.shape == (3, 1, 30, 30) and channel.dtype == np.float32
    y = sort_by_height(config)[..., 1]
    assert np.allclose(channel[0, 0, 2, 7], (y[0, 2] + y[0, 7]) / 20.0)
    assert np.all(channel[:, 0, np.arange(30), np.arange(30)] == 0)
    assert np.allclose(heights_from_channel(channel[:, 0], 10.0), y, atol=1e-5)
    # a vertical shift changes the channel, not the distances
    shifted = config + [0.0, 0.5]
    assert np.allclose(distance_matrices(shifted), distance_matrices(config), atol=1e-5)
    assert np.allclose(heights_from_channel(height_channel(shifted, 10.0)[:, 0], 10.0), y + 0.5, atol=1e-5)
    # noise on the channel averages out: each height is a fit to 29 pairs
    noisy = channel[:, 0] + rng.normal(0, 0.01, size=channel[:, 0].shape)
    error = heights_from_channel(noisy, 10.0) - y
    assert 0.01 < error.std() < 0.1


def test_corruption_moves_exactly_four_particles_by_at_most_the_step():
    rng = np.random.default_rng(0)
    positions = rng.uniform(1, 9, size=(50, 30, 2)).astype(np.float32)
    moved = corrupt_configurations(positions, box=10.0, seed=1)
    shift = np.linalg.norm(moved - positions, axis=-1)
    assert np.all((shift > 0).sum(axis=1) == 4)
    assert shift.max() <= 0.2 + 1e-6
    assert np.array_equal(moved, corrupt_configurations(positions, box=10.0, seed=1))


def test_anomaly_sets_have_the_requested_kinds_and_sizes(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    test = np.random.default_rng(0).uniform(0, 10, size=(20, 30, 2)).astype(np.float32)
    sets = anomaly_sets(test, n=8)
    assert list(sets) == ["unseen gamma", "fake potential", "uniform random", "corrupted"]
    assert all(v.shape == (8, 30, 2) for v in sets.values())
    # the fake potential's soft r^-4 core lets neighbours come closer than the r^-12 wall
    def nearest(positions):
        d = distance_matrices(positions)
        return np.where(np.eye(30, dtype=bool), np.inf, d).min(axis=2)

    assert (nearest(sets["fake potential"]) < 0.95).mean() > 0.1
    assert (nearest(sets["unseen gamma"]) < 0.95).mean() < 0.05


def test_occupancy_grid_counts_every_particle_in_its_cell():
    config = np.array([[[0.1, 0.1], [9.99, 0.2], [5.0, 9.9], [0.2, 0.3]]])
    grid = occupancy_grids(config, box=10.0, cells=10)
    assert grid.shape == (1, 10, 10) and grid.sum() == 4
    assert grid[0, 0, 0] == 2 and grid[0, 0, 9] == 1 and grid[0, 9, 5] == 1


# ---------------------------------------------------------------------- coordinates


def test_gram_matrix_is_the_dot_products_relative_to_particle_zero():
    rng = np.random.default_rng(1)
    points = rng.normal(size=(7, 2))
    d = np.sqrt(((points[:, None] - points[None]) ** 2).sum(-1))
    relative = points - points[0]
    assert np.allclose(gram_from_distances(d), relative @ relative.T)


@pytest.mark.parametrize("reflect", [False, True])
def test_coordinates_are_recovered_up_to_a_rigid_motion(reflect):
    rng = np.random.default_rng(2)
    points = rng.uniform(0, 10, size=(30, 2))
    if reflect:
        points[:, 0] *= -1
    d = np.sqrt(((points[:, None] - points[None]) ** 2).sum(-1))
    recovered = coordinates_from_distances(d)
    rebuilt = np.sqrt(((recovered[:, None] - recovered[None]) ** 2).sum(-1))
    assert np.allclose(rebuilt, d, atol=1e-8)
    _, rmsd = align(recovered, points)
    assert rmsd < 1e-8
    # batched input gives the same coordinates
    assert np.allclose(coordinates_from_distances(np.stack([d, d]))[1], recovered)


def test_noisy_distances_still_give_close_coordinates():
    rng = np.random.default_rng(3)
    points = rng.uniform(0, 10, size=(30, 2))
    d = np.sqrt(((points[:, None] - points[None]) ** 2).sum(-1))
    noise = rng.normal(scale=0.05, size=d.shape)
    _, rmsd = align(coordinates_from_distances(d + noise + noise.T), points)
    assert rmsd < 0.2


def test_orienting_by_gravity_ignores_how_the_input_was_rotated():
    rng = np.random.default_rng(4)
    points = rng.uniform(0, 5, size=(30, 2))
    reference = orient_by_gravity(points, box=10.0)
    assert reference[:, 1].min() == pytest.approx(0.0, abs=1e-12)
    assert 0 <= reference[:, 0].min() and reference[:, 0].max() <= 10.0
    assert reference[:, 1].mean() > 0
    for angle in (0.3, 2.0, -1.2):
        turned = orient_by_gravity(rotate(points, angle) + 3.0, box=10.0)
        mirrored = turned * [-1, 1] + [10.0, 0]
        assert np.allclose(turned, reference, atol=1e-9) or np.allclose(mirrored, reference, atol=1e-9)


# ---------------------------------------------------------------------- chapter 8's checks


def test_double_centred_gram_is_the_gram_matrix_of_the_centred_points():
    from utils.physics.lennard_jones import double_centred_gram

    rng = np.random.default_rng(5)
    points = rng.normal(size=(9, 2))
    d = np.sqrt(((points[:, None] - points[None]) ** 2).sum(-1))
    centred = points - points.mean(axis=0)
    assert np.allclose(double_centred_gram(d), centred @ centred.T)


def test_orienting_by_height_order_recovers_the_heights_without_the_truth():
    from utils.physics.lennard_jones import configurations_from_distances

    samples = lj_dataset(1.0, n_samples=50, n_sweeps=200, seed=3, cache=False)
    positions = sort_by_height(samples.positions).astype(np.float64)
    rebuilt = configurations_from_distances(distance_matrices(positions, sort=False), box=10.0)
    truth = positions[..., 1] - positions[..., 1].min(axis=1, keepdims=True)
    assert np.allclose(rebuilt[..., 1].min(axis=1), 0.0)
    assert np.allclose(rebuilt[..., 0].min(axis=1) + rebuilt[..., 0].max(axis=1), 10.0)
    # heights within a fraction of a diameter, though the input carried no orientation
    assert np.sqrt(((rebuilt[..., 1] - truth) ** 2).mean()) < 0.3
    # a rotated input gives the same answer up to the mirror image
    turned = rotate(positions[0], 1.1) + 4.0
    again = configurations_from_distances(distance_matrices(turned, sort=False), box=10.0)
    assert np.allclose(again[:, 1], rebuilt[0, :, 1], atol=1e-8)


def test_pair_distance_density_integrates_to_the_neighbour_count():
    from utils.physics.lennard_jones import pair_distance_density

    square = np.array([[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])
    r, n = pair_distance_density(square, r_max=2.0, bins=40)
    width = r[1] - r[0]
    within = lambda radius: n[r < radius].sum() * width  # noqa: E731
    assert within(1.2) == pytest.approx(2.0)  # two sides per corner
    assert within(2.0) == pytest.approx(3.0)  # and one diagonal


def test_capped_pair_energy_caps_each_pair_at_one():
    from utils.physics.lennard_jones import capped_pair_energy

    pair = np.array([[[0.0, 0.0], [R_MIN, 0.0]], [[0.0, 0.0], [0.5, 0.0]]])
    energy = capped_pair_energy(pair)
    assert energy[0] == pytest.approx(-1.0) and energy[1] == pytest.approx(1.0)


def test_integrated_autocorrelation_time_of_an_ar1_process():
    from utils.physics.lennard_jones import integrated_autocorrelation_time

    rng = np.random.default_rng(6)
    phi, chains, length = 0.9, 20, 20_000
    x = np.zeros((chains, length))
    noise = rng.normal(size=(chains, length))
    for t in range(1, length):
        x[:, t] = phi * x[:, t - 1] + noise[:, t]
    exact = 0.5 * (1 + phi) / (1 - phi)  # 1/2 + sum_t phi^t = 9.5
    assert integrated_autocorrelation_time(x) == pytest.approx(exact, rel=0.1)
    assert integrated_autocorrelation_time(rng.normal(size=(10, 5000))) == pytest.approx(0.5, abs=0.1)
    with pytest.raises(ValueError, match="too short"):
        integrated_autocorrelation_time(np.cumsum(noise[:, :40], axis=1))  # a random walk
