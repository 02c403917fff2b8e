"""Scenario-facing Morpho Blue parameters, converted once to the contract's ints.

Fractions (``lltv: 0.86``, ``fee: 0.1``, ``apr: 0.05``) are read from their decimal text
exactly (``Fraction(str(x))``), so ``0.86`` is ``860000000000000000`` WAD, not the nearest
binary float; a value with more than 18 decimals is rejected. Floats exist only here.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from defisim.engine.protocols.morpho_blue.adaptive_curve_irm import (
    INITIAL_RATE_AT_TARGET,
    MAX_RATE_AT_TARGET,
    MIN_RATE_AT_TARGET,
    AdaptiveCurveIrm,
)
from defisim.engine.protocols.morpho_blue.constants import (
    MAX_FEE,
    SECONDS_PER_YEAR,
    WAD,
)
from defisim.engine.protocols.morpho_blue.irm import (
    AnyIrm,
    FixedRateIrm,
    Irm,
    LinearUtilizationIrm,
)

__all__ = [
    "USUAL_LLTVS",
    "AdaptiveCurveIrmParams",
    "FixedIrmParams",
    "IrmParams",
    "LinearUtilizationIrmParams",
    "check_fee",
    "check_lltv",
    "fraction_to_wad",
]

USUAL_LLTVS = (0.385, 0.625, 0.77, 0.86, 0.915, 0.945, 0.965, 0.98)
"""LLTVs enabled by governance on Ethereum mainnet (any value in (0, 1) is accepted)."""


def fraction_to_wad(value: float, name: str) -> int:
    """Exact WAD of a decimal fraction (``0.86 -> 86e16``); ValueError if not whole WAD."""
    if isinstance(value, bool):
        raise ValueError(f"{name} ({value!r}) must be a number")
    exact = Fraction(str(value)) * WAD
    if exact.denominator != 1:
        raise ValueError(f"{name} ({value}) has more than 18 decimals: not a whole number of WAD units")
    return exact.numerator


def check_lltv(value: float, name: str = "lltv") -> int:
    """WAD LLTV of a fraction strictly between 0 and 1 (``enableLltv`` requires < 1)."""
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} ({value}) must be in (0, 1), e.g. 0.86")
    return fraction_to_wad(value, name)


def check_fee(value: float, name: str = "fee") -> int:
    """WAD fee (share of interest) of a fraction in [0, 0.25] (``MAX_FEE``)."""
    wad = fraction_to_wad(value, name) if value >= 0 else -1
    if not 0 <= wad <= MAX_FEE:
        raise ValueError(f"{name} ({value}) must be in [0, 0.25] (Morpho's MAX_FEE)")
    return wad


class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FixedIrmParams(_Params):
    """A constant borrow rate: ``apr`` (simple yearly rate, converted to a per-second WAD
    rate rounded down: ``apr_wad // 365 days``) or ``rate_per_second`` (WAD int)."""

    kind: Literal["fixed"]
    apr: Annotated[float, Field(ge=0.0, le=100.0)] | None = None
    rate_per_second: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.apr is None) == (self.rate_per_second is None):
            raise ValueError("give exactly one of apr (e.g. 0.05) or rate_per_second (WAD int)")
        if self.apr is not None:
            fraction_to_wad(self.apr, "apr")
        return self

    def build(self) -> Irm:
        """The :class:`FixedRateIrm`."""
        if self.rate_per_second is not None:
            return FixedRateIrm(self.rate_per_second)
        return FixedRateIrm(fraction_to_wad(self.apr or 0, "apr") // SECONDS_PER_YEAR)


class LinearUtilizationIrmParams(_Params):
    """``IrmMock``: x % utilisation is x % APR. No parameters."""

    kind: Literal["linear-utilization"]

    def build(self) -> Irm:
        """The :class:`LinearUtilizationIrm`."""
        return LinearUtilizationIrm()


class AdaptiveCurveIrmParams(_Params):
    """Morpho's AdaptiveCurveIrm (the IRM of its mainnet markets), exactly as deployed.

    The market's rate at target starts at the contract's 4 % a year
    (``INITIAL_RATE_AT_TARGET``), or where the scenario puts it: ``initial_rate_at_target``
    as a simple yearly rate (``0.04``; converted to a per-second WAD rate rounded down,
    ``apr_wad // 365 days``, as the contract's own constants are) or
    ``initial_rate_at_target_per_second`` (WAD int). Either must lie between the contract's
    bounds, 0.1 % and 200 % a year (``MIN_RATE_AT_TARGET`` .. ``MAX_RATE_AT_TARGET``).
    """

    kind: Literal["adaptive-curve"]
    initial_rate_at_target: Annotated[float, Field(gt=0.0)] | None = None
    initial_rate_at_target_per_second: Annotated[int, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _in_bounds(self) -> Self:
        if self.initial_rate_at_target is not None and self.initial_rate_at_target_per_second is not None:
            raise ValueError("give at most one of initial_rate_at_target (yearly, e.g. 0.04) or "
                             "initial_rate_at_target_per_second (WAD int)")
        self.rate_per_second()
        return self

    def rate_per_second(self) -> int:
        """The initial rate at target, per second (WAD)."""
        if self.initial_rate_at_target_per_second is not None:
            rate, given = self.initial_rate_at_target_per_second, f"{self.initial_rate_at_target_per_second} per second"
        elif self.initial_rate_at_target is not None:
            rate = fraction_to_wad(self.initial_rate_at_target, "initial_rate_at_target") // SECONDS_PER_YEAR
            given = f"{self.initial_rate_at_target} a year = {rate} per second"
        else:
            return INITIAL_RATE_AT_TARGET
        if not MIN_RATE_AT_TARGET <= rate <= MAX_RATE_AT_TARGET:
            raise ValueError(f"initial rate at target ({given}) must be between the contract's bounds: 0.001 "
                             f"({MIN_RATE_AT_TARGET} per second, WAD) and 2.0 ({MAX_RATE_AT_TARGET}) a year")
        return rate

    def build(self) -> AnyIrm:
        """A new :class:`AdaptiveCurveIrm` (one per market: its storage is per market anyway)."""
        return AdaptiveCurveIrm(self.rate_per_second())


IrmParams = Annotated[FixedIrmParams | LinearUtilizationIrmParams | AdaptiveCurveIrmParams,
                      Field(discriminator="kind")]
"""``{kind: fixed, apr: 0.05}``, ``{kind: linear-utilization}`` or ``{kind: adaptive-curve}``
(optionally ``initial_rate_at_target: 0.04``)."""
