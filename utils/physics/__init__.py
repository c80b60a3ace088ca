"""Physics that generates the course's simulated data sets.

``lennard_jones``: Metropolis Monte Carlo of a 2-D Lennard-Jones fluid under gravity, its
cached data sets, distance representations and the reconstruction of coordinates from
distances (chapter 8).
``cicy``: topology of favourable complete-intersection Calabi-Yau threefolds (intersection
numbers, Chern classes, line-bundle index, configuration symmetries) and the CICY list.
``slm``: the consistency conditions of heterotic SU(5) line-bundle models on CICY 5302
(chapter 6).
``cohomology``: line-bundle cohomology h^q(X, O_X(k)) on CICY threefolds (pyCICY, wrapped).
``slm_scan``: the complete scan of models up to a charge bound, with their spectra.
"""
