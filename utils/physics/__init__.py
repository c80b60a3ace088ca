"""Physics that generates the course's simulated data sets.

``lennard_jones``: Metropolis Monte Carlo of a 2-D Lennard-Jones fluid under gravity, its
cached data sets, distance representations and the reconstruction of coordinates from
distances (chapter 8). Planned: ``cicy``, line-bundle models on the Calabi-Yau threefold
CICY 5302 (chapter 6).
"""
