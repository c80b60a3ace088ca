"""A bank of student submissions and the score each must get, per assignment.

Each entry names a student, what the student wrote into the released notebook (answers
by grade id, edits of other cells, or a raw file), and the expected points per test. The
robustness test in ``tests/test_grading.py`` grades them all as one class with
``python -m utils.grading autograde``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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

BANK = {"ch03_tools": CH03}
