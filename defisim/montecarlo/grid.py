"""Parameter grids for sweeps and searches: ``PATH=LO:HI:STEP`` or ``PATH=V1,V2,...``.

>>> from defisim.montecarlo.grid import parse_param
>>> p = parse_param("protocols.aave.reserves.WETH.liquidation_threshold=0.80:0.86:0.02")
>>> p.values
(0.8, 0.82, 0.84, 0.86)

A range is read with exact decimal arithmetic from the text, so ``0.75:0.90:0.01`` gives 16
values ending exactly at ``0.9``; the last value is ``HI`` when ``HI - LO`` is a multiple of
``STEP``, else the last multiple below it. ``LO`` must be below ``HI`` (equal: "empty range",
above: "inverted range"); ``STEP`` must be positive. A list gives its values in the order
written (duplicates refused).

:func:`bind` checks the parameters against a scenario before anything runs: the path must
name an existing parameter (:func:`~defisim.scenario.overrides.get_value`, defaults included),
an integer parameter gets integer values only. A token amount takes its unit after the
values, ``protocols.aave.insurance_fund.initial=100000:300000:50000 USDC``, and each value is
written as ``"100000 USDC"`` (without a unit, an amount's values are base units). Every grid
point is then applied with :func:`~defisim.scenario.with_overrides` and validated, so a value
the scenario schema refuses (a threshold above 1) is reported before the first path.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from defisim.errors import DefisimError, ScenarioError
from defisim.scenario.models import ScenarioBase

__all__ = ["GridError", "Param", "apply_point", "bind", "grid_points", "parse_param", "parse_params"]

_AMOUNT = re.compile(r"^\s*[-+]?[\d_]+(?:\.\d+)?(?:[eE][-+]?\d+)?\s+([A-Za-z][\w.\-]*)\s*$")
_UNIT = re.compile(r"^(.*?\d)\s+([A-Za-z][\w.\-]*)\s*$")
MAX_VALUES = 10_000
"""Most values one parameter may take (a guard against a mistyped step)."""


class GridError(DefisimError, ValueError):
    """A ``--param`` specification is malformed or does not fit the scenario.

    ``field`` names what is wrong (the parameter path, or the text given); the message says why.
    """

    def __init__(self, field: str, problem: str) -> None:
        self.field, self.problem = field, problem
        super().__init__(f"--param {field}: {problem}")


@dataclass(frozen=True, slots=True)
class Param:
    """One swept parameter: its dotted ``path`` and the ``values`` it takes (in order).

    ``values`` are ``float`` or ``int``; ``unit`` is the token symbol appended to each value
    when the scenario writes this parameter as an amount string (``None`` otherwise).
    ``baseline`` is the scenario's own value (a number, or ``None`` before :func:`bind`).
    """

    path: str
    values: tuple[float | int, ...]
    unit: str | None = None
    baseline: float | int | None = None

    @property
    def low(self) -> float | int:
        return min(self.values)

    @property
    def high(self) -> float | int:
        return max(self.values)

    def scenario_value(self, value: float) -> Any:
        """``value`` as written into the scenario (with the unit, if any)."""
        return value if self.unit is None else f"{_plain(value)} {self.unit}"

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "values": list(self.values), "unit": self.unit,
                "baseline": self.baseline}


def parse_param(text: str) -> Param:
    """Parse ``PATH=LO:HI:STEP`` or ``PATH=V1,V2,...`` (see the module docstring)."""
    if not isinstance(text, str) or "=" not in text:
        raise GridError(str(text), "expected PATH=LO:HI:STEP or PATH=V1,V2,... (no '=' found)")
    path, _, spec = (s.strip() for s in text.partition("="))
    if not path or any(not part for part in path.split(".")):
        raise GridError(text, "the parameter path is empty or has an empty segment")
    if not spec:
        raise GridError(path, "no values after '='")
    unit = None
    if (m := _UNIT.match(spec)) is not None:
        spec, unit = m.group(1).strip(), m.group(2)
    if ":" in spec:
        return Param(path, _range(path, spec), unit)
    items = [s.strip() for s in spec.split(",")]
    values = tuple(_number(path, s, "value") for s in items)
    if len(set(values)) != len(values):
        raise GridError(path, f"a value is listed twice in {spec!r}")
    return Param(path, values, unit)


def parse_params(texts: Iterable[str]) -> tuple[Param, ...]:
    """:func:`parse_param` of each text; a path given twice is refused."""
    params = tuple(parse_param(t) for t in texts)
    seen: set[str] = set()
    for p in params:
        if p.path in seen:
            raise GridError(p.path, "given twice")
        seen.add(p.path)
    return params


def _range(path: str, spec: str) -> tuple[float | int, ...]:
    parts = [s.strip() for s in spec.split(":")]
    if len(parts) != 3:
        raise GridError(path, f"a range is LO:HI:STEP (three numbers), got {spec!r}")
    lo, hi, step = (_decimal(path, s, name) for s, name in zip(parts, ("LO", "HI", "STEP")))
    if step <= 0:
        raise GridError(path, f"STEP must be positive, got {parts[2]}")
    if lo == hi:
        raise GridError(path, f"empty range {spec!r}: LO equals HI (give one value as {path}={parts[0]})")
    if lo > hi:
        raise GridError(path, f"inverted range {spec!r}: LO {parts[0]} is above HI {parts[1]}")
    count = int((hi - lo) / step) + 1
    if count > MAX_VALUES:
        raise GridError(path, f"{spec!r} gives {count:,} values (at most {MAX_VALUES:,}); check STEP")
    values = [lo + k * step for k in range(count)]
    integral = all(d == d.to_integral_value() for d in (lo, hi, step))
    return tuple(int(v) if integral else float(v) for v in values)


def _decimal(path: str, text: str, name: str) -> Decimal:
    try:
        d = Decimal(text.replace("_", ""))
    except InvalidOperation:
        raise GridError(path, f"{name} {text!r} is not a number") from None
    if not d.is_finite():
        raise GridError(path, f"{name} {text!r} is not a finite number")
    return d


def _number(path: str, text: str, name: str) -> float | int:
    d = _decimal(path, text, name) if text else None
    if d is None:
        raise GridError(path, f"empty {name} in the list")
    return int(d) if d == d.to_integral_value() and "." not in text and "e" not in text.lower() else float(d)


def _plain(value: float) -> str:
    return str(value) if isinstance(value, int) else format(Decimal(repr(value)), "f")


# --- binding to a scenario ----------------------------------------------------------------

def bind(scenario: ScenarioBase, params: Sequence[Param]) -> tuple[Param, ...]:
    """``params`` checked against ``scenario``: paths exist, value types fit, units known.

    Raises :class:`GridError` naming the parameter. Every grid point's scenario is built and
    validated by :func:`apply_point` (call it for each point before running).
    """
    from defisim.scenario.overrides import get_value

    bound = []
    for p in params:
        try:
            current = get_value(scenario, p.path)
        except ScenarioError as exc:
            raise GridError(p.path, f"no such parameter in scenario {scenario.name!r} "
                            f"({exc.problems[0][1] if exc.problems else exc})") from None
        bound.append(_bind_one(scenario, p, current))
    return tuple(bound)


def _bind_one(scenario: ScenarioBase, p: Param, current: Any) -> Param:
    if isinstance(current, bool):
        raise GridError(p.path, "is a true/false switch; sweep numbers only")
    if p.unit is not None:
        token = scenario.tokens.get(p.unit)
        if token is None:
            raise GridError(p.path, f"unit {p.unit!r} is not a token of the scenario "
                            f"(tokens: {', '.join(scenario.tokens)})")
        if not isinstance(current, (int, str)) or isinstance(current, str) and not _AMOUNT.match(current):
            raise GridError(p.path, f"is {current!r}, not a token amount; drop the unit {p.unit!r}")
        baseline = _whole_tokens(current, token.decimals) if isinstance(current, int) else _amount_number(p, current)
        return Param(p.path, p.values, p.unit, baseline)
    if isinstance(current, int):
        bad = [v for v in p.values if float(v) != int(v)]
        if bad:
            raise GridError(p.path, f"takes whole numbers (it is {current}); {bad[0]} is not one"
                            " (for a token amount, add its unit: PATH=LO:HI:STEP USDC)")
        return Param(p.path, tuple(int(v) for v in p.values), None, current)
    if isinstance(current, float):
        return Param(p.path, tuple(float(v) for v in p.values), None, current)
    if isinstance(current, str) and _AMOUNT.match(current):
        raise GridError(p.path, f"is an amount ({current!r}); give the unit after the values, "
                        f"e.g. {p.path}=LO:HI:STEP {current.split()[-1]}")
    if current is None:
        return Param(p.path, p.values, None, None)
    raise GridError(p.path, f"is {current!r} ({type(current).__name__}); only numbers and "
                    "token amounts can be swept")


def _whole_tokens(base_units: int, decimals: int) -> float | int:
    d = Decimal(base_units) / (Decimal(10) ** decimals)
    return int(d) if d == d.to_integral_value() else float(d)


def _amount_number(p: Param, text: str) -> float | int:
    d = _decimal(p.path, text.split()[0].replace("_", ""), "value")
    return int(d) if d == d.to_integral_value() else float(d)


def grid_points(params: Sequence[Param]) -> list[dict[str, float | int]]:
    """The full factorial grid: one ``{path: value}`` per point, the last parameter varying
    fastest (row-major, like ``numpy.reshape``)."""
    return [dict(zip((p.path for p in params), combo))
            for combo in itertools.product(*(p.values for p in params))]


def apply_point(scenario: ScenarioBase, params: Sequence[Param],
                point: Mapping[str, float | int]) -> ScenarioBase:
    """``scenario`` with the point's values written in (units added), validated.

    A value the scenario refuses raises :class:`GridError` naming the parameter and value.
    """
    from defisim.scenario import with_overrides

    by_path = {p.path: p for p in params}
    changes = {path: by_path[path].scenario_value(v) for path, v in point.items()}
    try:
        return with_overrides(scenario, changes)
    except ScenarioError as exc:
        where = ", ".join(f"{k}={v}" for k, v in point.items())
        problems = "; ".join(f"{f}: {m}" for f, m in exc.problems) or str(exc)
        raise GridError(where, f"the scenario refuses this point: {problems}") from None
