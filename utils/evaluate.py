"""Check the course's trained networks against the quality targets of the lectures.

    python -m utils.evaluate mnist

loads the committed checkpoints (or trains them, in full mode, when absent), prints each
metric with its target and exits with status 1 if one misses. The targets live in the
chapter modules (``targets()`` of :mod:`utils.chapters`); a group runs the targets of
every chapter that names it. Groups: ``mnist`` (chapters 2, 3), ``vae`` (chapter 5; the
importance-sampled likelihood takes about ten minutes on a laptop CPU), ``slm`` (chapter
6; full mode reruns the |k| <= 5 scan, about five minutes and 13 GB), ``sdss`` (chapter 7)
and ``lj`` (chapter 8).
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from utils.chapters import chapter_modules
from utils.targets import Check, at_least, at_most  # noqa: F401 (the Check API, re-exported)


def _group(functions: list[Callable[..., list[Check]]]) -> Callable[..., list[Check]]:
    def run(fast: bool = False) -> list[Check]:
        return [check for function in functions for check in function(fast=fast)]
    run.functions = functions
    return run


def _collect() -> dict[str, Callable[..., list[Check]]]:
    by_group: dict[str, list] = {}
    for module in chapter_modules():
        by_group.setdefault(module.EVALUATE_GROUP, []).append(module.targets)
    return {group: _group(functions) for group, functions in by_group.items()}


GROUPS: dict[str, Callable[..., list[Check]]] = _collect()


def report(checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = [f"{'metric':<{width}}  {'value':>8}  {'target':>8}  result"]
    for c in checks:
        lines.append(
            f"{c.name:<{width}}  {c.value:>8.4f}  {c.target:>8}  "
            f"{'ok' if c.passed else 'MISSED'}" + (f"   ({c.detail})" if c.detail else "")
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("groups", nargs="+", choices=sorted(GROUPS))
    parser.add_argument(
        "--fast", action="store_true",
        help="fast mode: use full checkpoints when present, else train a few steps "
        "(targets are then expected to be missed)",
    )
    args = parser.parse_args(argv)
    checks = []
    for group in args.groups:
        checks += GROUPS[group](fast=args.fast)
    print(report(checks))
    missed = [c.name for c in checks if not c.passed]
    if missed:
        print(f"\n{len(missed)} of {len(checks)} targets missed.")
        return 1
    print(f"\nAll {len(checks)} targets met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
