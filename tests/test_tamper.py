"""Tests of utils/tamper.py: untouched libraries pass; common tampering is named."""

from __future__ import annotations

import builtins
import math

import numpy as np
import pytest
import torch

from utils.tamper import TamperingError, check_untampered, find_tampering


def test_untouched_libraries_and_namespace_pass():
    namespace = {"np": np, "torch": torch, "math": math, "x": 3, "total": sum([1, 2])}
    assert find_tampering(namespace) == []
    check_untampered(namespace)


@pytest.mark.parametrize(
    "module, name, replacement",
    [(np, "allclose", lambda *a, **k: True), (torch, "allclose", torch.equal),
     (math, "isclose", lambda *a, **k: True), (np.testing, "assert_allclose", print)],
)
def test_a_replaced_library_function_is_named(monkeypatch, module, name, replacement):
    monkeypatch.setattr(module, name, replacement)
    problems = find_tampering({})
    assert any(name in p and "replaced" in p for p in problems), problems
    with pytest.raises(TamperingError, match=name):
        check_untampered({})


def test_shadowed_builtins_count_only_where_the_test_uses_them():
    namespace = {"abs": lambda x: 0, "max": 5, "len": builtins.len}
    assert find_tampering(namespace, used=["len"]) == []
    assert find_tampering(namespace, used=["abs"]) == ["the name abs was redefined"]


def test_a_rebound_module_alias_is_named():
    class FakeNumpy:
        allclose = staticmethod(lambda *a, **k: True)

    assert find_tampering({"np": FakeNumpy()}) == ["np no longer refers to the module numpy"]
