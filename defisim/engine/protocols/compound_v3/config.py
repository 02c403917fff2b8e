"""Scenario-facing Comet parameters, converted once to the contract's ints.

Fractions (``liquidation_factor: 0.95``, ``borrow_kink: 0.8``) are read from their decimal
text exactly (``Fraction(str(x))``), so ``0.0325`` is ``32500000000000000`` (1e18 scale), not the
nearest binary float. Collateral factors and the liquidation factor must have at most 4
decimals: ``Comet.sol`` stores them as ``uint16(factor / 1e14)`` and would silently drop the
rest. Floats exist only here.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Self

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from defisim.engine.protocols.compound_v3.constants import (
    FACTOR_DESCALE,
    FACTOR_SCALE,
    UINT64_MAX,
)

__all__ = ["CollateralParams", "RateParams", "factor", "fraction_to_factor"]


def fraction_to_factor(value: float, name: str) -> int:
    """Exact 1e18 factor of a decimal fraction (``0.0325 -> 325e14``); ValueError if it is
    not a whole number of 1e-18 units."""
    if isinstance(value, bool):
        raise ValueError(f"{name} ({value!r}) must be a number")
    exact = Fraction(str(value)) * FACTOR_SCALE
    if exact.denominator != 1:
        raise ValueError(f"{name} ({value}) has more than 18 decimals")
    return exact.numerator


def factor(value: float, name: str, *, low: float, high: float, low_open: bool = False,
           high_open: bool = False, four_decimals: bool = False) -> int:
    """1e18 factor of ``value`` checked to lie in ``[low, high]`` (ends open if asked)."""
    below = value <= low if low_open else value < low
    above = value >= high if high_open else value > high
    if below or above:
        lo, hi = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"{name} ({value}) must be in {lo}{low}, {high}{hi}")
    out = fraction_to_factor(value, name)
    if four_decimals and out % FACTOR_DESCALE:
        raise ValueError(f"{name} ({value}) has more than 4 decimals: Comet stores factors as "
                         "uint16(factor / 1e14) and would drop the rest")
    return out


class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CollateralParams(_Params):
    """One collateral's risk parameters (``AssetConfig``), as fractions.

    ``borrow_collateral_factor`` (share of value that may be borrowed) must be below
    ``liquidate_collateral_factor`` (below which value the account is absorbed), which is at
    most 1; ``liquidation_factor`` in (0, 1] values the collateral when absorbed (0.95: the
    account is credited 95 %). ``supply_cap`` in base units (``"1000 WETH"`` in a scenario);
    ``None``: no cap (``uint64`` whole tokens, the largest the contract can store).
    """

    borrow_collateral_factor: float
    liquidate_collateral_factor: float
    liquidation_factor: float
    supply_cap: int | None = None

    @field_validator("borrow_collateral_factor")
    @classmethod
    def _bcf(cls, v: float) -> float:
        factor(v, "borrow_collateral_factor", low=0.0, high=1.0, high_open=True, four_decimals=True)
        return v

    @field_validator("liquidate_collateral_factor")
    @classmethod
    def _lcf(cls, v: float) -> float:
        factor(v, "liquidate_collateral_factor", low=0.0, high=1.0, low_open=True, four_decimals=True)
        return v

    @field_validator("liquidation_factor")
    @classmethod
    def _lf(cls, v: float) -> float:
        factor(v, "liquidation_factor", low=0.0, high=1.0, low_open=True, four_decimals=True)
        return v

    @field_validator("supply_cap")
    @classmethod
    def _cap(cls, v: int | None) -> int | None:
        if v is not None and v < 0:
            raise ValueError(f"supply_cap ({v}) must not be negative")
        return v

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.liquidate_collateral_factor <= self.borrow_collateral_factor:
            raise ValueError(
                f"liquidate_collateral_factor ({self.liquidate_collateral_factor}) must be greater than "
                f"borrow_collateral_factor ({self.borrow_collateral_factor}) (Comet: BorrowCFTooLarge)"
            )
        return self

    def factors(self) -> tuple[int, int, int]:
        """``(borrowCF, liquidateCF, liquidationFactor)`` as 1e18 ints."""
        return (fraction_to_factor(self.borrow_collateral_factor, "borrow_collateral_factor"),
                fraction_to_factor(self.liquidate_collateral_factor, "liquidate_collateral_factor"),
                fraction_to_factor(self.liquidation_factor, "liquidation_factor"))

    def cap(self, decimals: int) -> int:
        """Supply cap in base units (no cap: ``2**64 - 1`` whole tokens)."""
        return self.supply_cap if self.supply_cap is not None else UINT64_MAX * 10**decimals


_RATE_FIELDS = (
    "supply_per_year_interest_rate_base", "supply_per_year_interest_rate_slope_low",
    "supply_per_year_interest_rate_slope_high", "borrow_per_year_interest_rate_base",
    "borrow_per_year_interest_rate_slope_low", "borrow_per_year_interest_rate_slope_high",
)


class RateParams(_Params):
    """The kinked supply and borrow curves as ``Configuration`` takes them: kinks (utilisation
    fractions in [0, 1]) and per-year rates (fractions, ``0.035`` = 3.5 %/year), each turned
    into a per-second rate by the constructor (``perYear / 31,536,000``, rounded down).
    Defaults: cUSDCv3 on mainnet at launch."""

    supply_kink: float = 0.8
    supply_per_year_interest_rate_base: float = 0.0
    supply_per_year_interest_rate_slope_low: float = 0.0325
    supply_per_year_interest_rate_slope_high: float = 0.4
    borrow_kink: float = 0.8
    borrow_per_year_interest_rate_base: float = 0.015
    borrow_per_year_interest_rate_slope_low: float = 0.035
    borrow_per_year_interest_rate_slope_high: float = 0.25

    @field_validator("supply_kink", "borrow_kink")
    @classmethod
    def _kink(cls, v: float, info: object) -> float:
        factor(v, getattr(info, "field_name", "kink"), low=0.0, high=1.0)
        return v

    @field_validator(*_RATE_FIELDS)
    @classmethod
    def _rate(cls, v: float, info: object) -> float:
        name = getattr(info, "field_name", "rate")
        out = factor(v, name, low=0.0, high=UINT64_MAX / FACTOR_SCALE)
        if out > UINT64_MAX:
            raise ValueError(f"{name} ({v}) does not fit the contract's uint64")
        return v

    def ints(self) -> dict[str, int]:
        """Every field as the ``Configuration`` int (1e18 scale), by field name."""
        return {name: fraction_to_factor(getattr(self, name), name)
                for name in ("supply_kink", "borrow_kink", *_RATE_FIELDS)}
