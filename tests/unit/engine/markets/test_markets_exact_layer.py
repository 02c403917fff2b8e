"""The exact market modules use no float: no float literal, no ``float``, no true division."""

from __future__ import annotations

import ast
import importlib
import inspect

import pytest

EXACT = ["defisim.engine.markets.uniswap_v2"]


def float_uses(module_name: str) -> list[str]:
    tree = ast.parse(inspect.getsource(importlib.import_module(module_name)))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, float):
            found.append(f"line {node.lineno}: float literal {node.value!r}")
        elif isinstance(node, ast.Name) and node.id == "float":
            found.append(f"line {node.lineno}: float()")
        elif isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(node.op, ast.Div):
            found.append(f"line {node.lineno}: true division")
        elif isinstance(node, ast.Attribute) and node.attr in {"sqrt", "exp", "log", "pow"}:
            found.append(f"line {node.lineno}: math.{node.attr}")
    return found


@pytest.mark.parametrize("module_name", EXACT)
def test_no_float_in_exact_markets(module_name: str) -> None:
    assert float_uses(module_name) == []


def test_venue_declares_fast_layer() -> None:
    assert importlib.import_module("defisim.engine.markets.external_venue").LAYER == "fast"
    assert float_uses("defisim.engine.markets.external_venue")  # the detector does see floats
