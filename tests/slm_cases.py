"""Neighbours of the lecture's model (``utils.physics.slm.LECTURE_MODEL``) that fail
exactly one of the conditions 1-5, found by a local search and kept as test cases for
tests/test_slm.py and tests/test_slm_scan.py. Each is a 5 x 6 charge matrix (rows L_a)."""

import numpy as np

ANOMALY_ONE_COMPONENT = np.array(  # c2(V) exceeds c2(TX) = 24 in one component only
    [[-1, -1, 0, 1, 1], [-1, -1, 1, 0, 1], [-1, -1, 1, 0, 1],
     [1, 1, -1, 1, -2], [1, 1, -2, 1, -1], [1, 1, 0, -2, 0]]
).T
JOINTLY_UNSTABLE = np.array(  # each L_a alone can have slope zero, all five together not
    [[-1, 0, -1, 1, 1], [-1, -1, 1, 0, 1], [-1, -1, 1, 1, 0],
     [1, 0, 1, 0, -2], [1, 1, -2, 1, -1], [1, 1, 0, -2, 0]]
).T
PAIR_5BAR = np.array(  # one pair L_a x L_b has a positive index
    [[-1, -1, 0, 1, 1], [-1, -1, 1, 0, 1], [-1, -1, 1, 0, 1],
     [1, 1, 0, 0, -2], [1, 1, -2, 1, -1], [1, 1, 0, -2, 0]]
).T
