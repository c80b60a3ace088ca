"""Physics that generates the course's simulated data sets.

Planned modules (one per chapter): ``cicy`` (line-bundle models on the Calabi-Yau
threefold CICY 5302, chapter 6) and ``lennard_jones`` (Metropolis Monte Carlo of a 2-D
Lennard-Jones fluid under gravity, chapter 8).
"""
