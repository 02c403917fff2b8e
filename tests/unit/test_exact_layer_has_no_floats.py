"""The exact layer (protocols, AMM math, oracles, ledger, treasury) must not use floats.

Walks the source of every exact-layer module and fails on a float literal, a call to
``float(...)``, true division ``/`` or ``math`` functions that return floats. Modules that are
deliberately fast-layer declare ``LAYER = "fast"`` at top level; screening helpers whose name
starts with ``_screen`` are fast-layer by design (they only pre-select; the exact layer decides);
``config.py`` modules hold the scenario-facing parameter models, whose fractions are converted
to exact bps/RAY ints once, there.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "defisim"
EXACT_PACKAGES = [
    ROOT / "engine" / "protocols",
    ROOT / "engine" / "oracles",
    ROOT / "engine" / "markets",
]
EXACT_MODULES = [
    ROOT / "engine" / "fixedpoint.py",
    ROOT / "engine" / "ledger.py",
    ROOT / "engine" / "treasury.py",
]
FLOAT_MATH = {"sqrt", "exp", "log", "log2", "log10", "pow", "floor", "ceil", "fsum"}
# Methods that exist only to feed plots/screening and are documented as float outputs.
FLOAT_OK_FUNCTIONS = {"health_factors_estimate"}


def exact_modules() -> list[Path]:
    files = list(EXACT_MODULES)
    for pkg in EXACT_PACKAGES:
        files.extend(sorted(pkg.rglob("*.py")))
    return [f for f in files if not f.name.startswith("_screen") and f.name != "config.py" and not _declares_fast(f)]


def _declares_fast(path: Path) -> bool:
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "LAYER" for t in node.targets
        ):
            return isinstance(node.value, ast.Constant) and node.value.value == "fast"
    return False


def float_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    allowed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name in FLOAT_OK_FUNCTIONS:
            allowed.update(id(n) for n in ast.walk(node))
    found = []
    for node in ast.walk(tree):
        if id(node) in allowed:
            continue
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Constant) and isinstance(node.value, float):
            found.append(f"{path.name}:{line}: float literal {node.value!r}")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            found.append(f"{path.name}:{line}: true division '/'")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float":
            found.append(f"{path.name}:{line}: float(...) call")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and isinstance(node.func.value, ast.Name) and node.func.value.id == "math"
              and node.func.attr in FLOAT_MATH):
            found.append(f"{path.name}:{line}: math.{node.func.attr}(...)")
    return found


def test_exact_layer_module_list_is_not_empty() -> None:
    names = {p.name for p in exact_modules()}
    assert {"pool.py", "uniswap_v2.py", "chainlink.py", "ledger.py", "fixedpoint.py"} <= names


@pytest.mark.parametrize("path", exact_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_float_in_exact_layer(path: Path) -> None:
    assert float_uses(path) == []


def test_checker_catches_floats(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import math\nx = 1.5\ny = 3 / 2\nz = float(2)\nw = math.sqrt(4)\n")
    assert len(float_uses(bad)) == 4
