"""The oracle modules are exact layer: no float literal, no ``float``, no true division."""

from __future__ import annotations

import ast
import importlib
import inspect

import pytest

ORACLES = [
    "defisim.engine.oracles.base",
    "defisim.engine.oracles.chainlink",
    "defisim.engine.oracles.delayed",
    "defisim.engine.oracles.twap",
    "defisim.engine.oracles.amm_spot",
]


@pytest.mark.parametrize("module_name", ORACLES)
def test_no_float_in_oracles(module_name: str) -> None:
    tree = ast.parse(inspect.getsource(importlib.import_module(module_name)))
    bad = [
        node.lineno
        for node in ast.walk(tree)
        if (isinstance(node, ast.Constant) and isinstance(node.value, float))
        or (isinstance(node, ast.Name) and node.id == "float")
        or (isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(node.op, ast.Div))
    ]
    assert bad == []
