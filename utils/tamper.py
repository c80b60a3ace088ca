"""Detect a submission that replaced functions the grading tests rely on.

The grader (``utils.grading.GuardTests``) puts ``check_untampered(globals())`` at the top
of every test cell when it grades. A student who writes ``np.allclose = lambda *a,
**k: True``, shadows ``abs`` or ``isinstance``, or rebinds ``np`` to something else makes
every later test fail with a message that says what was replaced, instead of passing
them all. It is a safeguard against the common forms of tampering, not a sandbox.

The check is stateless: it needs no snapshot taken before the student's code ran. A
library function must be the library's own object: a Python function defined in the
library's files, or a compiled function or dispatcher of a library type, with its name.
"""

from __future__ import annotations

import builtins
import sys
import types
from pathlib import Path

GUARDED = {
    "numpy": ["allclose", "isclose", "array_equal", "mean", "sum", "absolute", "all", "any",
              "asarray", "array", "shape", "unique",
              "testing.assert_allclose", "testing.assert_array_equal"],
    "torch": ["allclose", "isclose", "equal", "testing.assert_close"],
    "math": ["isclose", "log", "exp", "sqrt"],
}
BUILTIN_NAMES = ["abs", "all", "any", "isinstance", "len", "sum", "max", "min", "round",
                 "float", "int", "bool", "range", "sorted", "list", "tuple", "set", "type",
                 "print", "AssertionError", "Exception"]
MODULE_ALIASES = {"np": "numpy", "torch": "torch", "math": "math", "nn": "torch.nn"}


class TamperingError(AssertionError):
    """The submission replaced something the tests use; the test cannot be trusted."""


def _resolve(root: object, dotted: str):
    obj = root
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _is_library_object(obj: object, package: str, name: str) -> bool:
    if getattr(obj, "__name__", None) != name:
        return False
    if isinstance(obj, types.FunctionType):
        module = sys.modules.get(package)
        root = Path(getattr(module, "__file__", "") or "").parent
        return bool(root.parts) and Path(obj.__code__.co_filename).resolve().is_relative_to(root.resolve())
    return type(obj).__module__ not in ("__main__", "functools") and not isinstance(
        obj, (types.MethodType, type))


def find_tampering(namespace: dict, used: list[str] | None = None) -> list[str]:
    """What in ``namespace`` (a notebook's globals) or the libraries was replaced.

    A built-in redefined in the notebook counts only if it is in ``used`` (the names the
    test cell uses; default: all of :data:`BUILTIN_NAMES`), so an innocent ``max = ...``
    elsewhere does not fail tests that never call ``max``."""
    problems = []
    for package, names in GUARDED.items():
        module = sys.modules.get(package)
        if module is None:
            continue
        for dotted in names:
            try:
                obj = _resolve(module, dotted)
            except AttributeError:
                problems.append(f"{package}.{dotted} was deleted")
                continue
            if not _is_library_object(obj, package, dotted.rsplit(".", 1)[-1]):
                problems.append(f"{package}.{dotted} was replaced")
    for name in BUILTIN_NAMES:
        original = getattr(builtins, name, None)
        if original is None or getattr(original, "__name__", None) != name:
            problems.append(f"the built-in {name} was replaced")
        elif name in namespace and namespace[name] is not original and (used is None or name in used):
            problems.append(f"the name {name} was redefined")
    for alias, package in MODULE_ALIASES.items():
        if alias in namespace and namespace[alias] is not sys.modules.get(package, namespace[alias]):
            problems.append(f"{alias} no longer refers to the module {package}")
    return problems


def check_untampered(namespace: dict, used: list[str] | None = None) -> None:
    """Raise :class:`TamperingError` naming what was replaced, if anything was."""
    problems = find_tampering(namespace, used)
    if problems:
        raise TamperingError(
            "the submission replaced what the tests rely on (" + "; ".join(problems)
            + "), so this test cannot be trusted and scores 0. Do not modify library "
            "functions, built-ins or the imported modules."
        )
