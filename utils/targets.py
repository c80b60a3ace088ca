"""Quality targets: one measured value, its target and whether it is met.

Each chapter module (:mod:`utils.chapters`) has a ``targets(fast=False)`` function that
returns a list of :class:`Check`; :mod:`utils.evaluate` runs and prints them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Check:
    name: str
    value: float
    target: str
    passed: bool
    detail: str = ""


def at_most(name: str, value: float, limit: float, fmt: str, detail: str = "") -> Check:
    """Passed when ``value <= limit``; the target is printed with format ``fmt``."""
    return Check(name, float(value), f"<= {limit:{fmt}}", bool(value <= limit), detail)


def at_least(name: str, value: float, limit: float, fmt: str, detail: str = "") -> Check:
    """Passed when ``value >= limit``; the target is printed with format ``fmt``."""
    return Check(name, float(value), f">= {limit:{fmt}}", bool(value >= limit), detail)
