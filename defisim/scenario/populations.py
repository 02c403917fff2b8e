"""Generated borrower populations: many positions from a few distribution parameters.

Fast layer in, exact layer out: sizes and health factors are drawn with numpy from the run's
seed, then turned into exact base-unit amounts (floored) before they touch a protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from defisim.scenario.base import Name, StrictModel


class LogNormalSize(StrictModel):
    """Collateral value per borrower in USD: log-normal with this median and log-sd."""

    median: Annotated[float, Field(gt=0)]
    sigma: Annotated[float, Field(ge=0, le=5)] = 1.0
    max: Annotated[float, Field(gt=0)] | None = None
    """Cap per borrower (USD); None: no cap."""


class HealthRange(StrictModel):
    """Initial health factor, drawn from ``distribution`` over ``[min, max]``.

    Draws below what the LTV allows (``LT / LTV`` for one collateral, plus 0.1 %) are raised
    to it.
    """

    min: Annotated[float, Field(gt=1.0)] = 1.05
    max: Annotated[float, Field(gt=1.0)] = 2.5
    distribution: Literal["uniform", "log-uniform"] = "log-uniform"

    @model_validator(mode="after")
    def _ordered(self) -> HealthRange:
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) must be >= min ({self.min})")
        return self


class BorrowerPopulation(StrictModel):
    """``count`` borrowers with collateral split by value ``weights`` and debt in ``debt``."""

    count: Annotated[int, Field(ge=1, le=10_000_000)]
    collateral: dict[str, Annotated[float, Field(gt=0)]]
    """Share of each borrower's collateral value per asset (normalised to sum to 1)."""
    debt: str
    size_usd: LogNormalSize
    health: HealthRange = HealthRange()
    prefix: Name = "borrower"

    @model_validator(mode="after")
    def _has_collateral(self) -> BorrowerPopulation:
        if not self.collateral:
            raise ValueError("collateral must name at least one asset")
        return self


@dataclass(frozen=True, slots=True)
class DrawnPositions:
    """Exact amounts for each generated borrower (base units)."""

    names: list[str]
    collateral: dict[str, np.ndarray]
    """asset -> object array of Python ints, one per borrower."""
    debt: np.ndarray
    """Object array of Python ints (debt-token base units)."""


def draw_population(
    pop: BorrowerPopulation,
    *,
    index: int,
    prices: dict[str, float],
    decimals: dict[str, int],
    liquidation_threshold: dict[str, float],
    ltv: dict[str, float],
    rng: np.random.Generator,
) -> DrawnPositions:
    """Draw ``pop.count`` positions at the given USD prices (float, per whole token)."""
    n = pop.count
    sizes = pop.size_usd.median * np.exp(pop.size_usd.sigma * rng.standard_normal(n))
    if pop.size_usd.max is not None:
        sizes = np.minimum(sizes, pop.size_usd.max)
    lo, hi = pop.health.min, pop.health.max
    u = rng.random(n)
    health = lo + (hi - lo) * u if pop.health.distribution == "uniform" else lo * (hi / lo) ** u
    total_w = sum(pop.collateral.values())
    weights = {a: w / total_w for a, w in pop.collateral.items()}
    weighted_lt = sum(w * liquidation_threshold[a] for a, w in weights.items())
    weighted_ltv = sum(w * ltv[a] for a, w in weights.items())
    # Borrowing power caps debt at LTV; stay 0.1 % below it so the exact check passes even
    # with the truncated average LTV (bps) of a multi-collateral account.
    floor_health = weighted_lt / weighted_ltv * (1 + 1e-3) if weighted_ltv > 0 else np.inf
    health = np.maximum(health, floor_health)
    debt_usd = sizes * weighted_lt / health
    collateral = {
        a: _to_units(sizes * w / prices[a], decimals[a]) for a, w in weights.items()
    }
    debt = _to_units(debt_usd / prices[pop.debt], decimals[pop.debt])
    names = [f"{pop.prefix}-{index}-{i}" for i in range(n)]
    return DrawnPositions(names, collateral, debt)


def _to_units(tokens: np.ndarray, decimals: int) -> np.ndarray:
    """Floor whole-token floats to base-unit Python ints (object array, exact beyond 2**63).

    Micro-tokens are floored in float first (keeps float noise out of the last digits), then
    scaled with Python ints, so huge holdings of cheap tokens cannot overflow.
    """
    micro = np.floor(tokens * 1e6).tolist()
    if decimals >= 6:
        factor = 10 ** (decimals - 6)
        return np.array([int(x) * factor for x in micro], dtype=object)
    divisor = 10 ** (6 - decimals)
    return np.array([int(x) // divisor for x in micro], dtype=object)
