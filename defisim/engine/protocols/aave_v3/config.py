"""Reserve parameters: scenario-facing fractions, converted once to the contract's ints.

:class:`ReserveParams` is what a scenario writes (fractions such as ``ltv: 0.80``).
:meth:`ReserveParams.to_config` turns it into a :class:`ReserveConfig` of exact ints laid out
as Aave V3.6 stores them:

* ``ltv``, ``liquidation_threshold``, ``reserve_factor``, ``liquidation_protocol_fee`` in bps
  (1e4 = 100 %),
* ``liquidation_bonus`` in bps *including* the 100 % principal (a 5 % bonus is stored as
  10500, as ``ReserveConfiguration.getLiquidationBonus`` returns it),
* interest-rate curve as ``DefaultReserveInterestRateStrategyV2`` keeps it: bps, turned into
  RAY by ``bps * 1e23`` (``_bpsToRay``).

Floats exist only here, and each is converted to an integral bps value exactly once; a
fraction that is not a whole number of bps (within 1e-9) is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from defisim.engine.fixedpoint import PERCENTAGE_FACTOR, percent_mul

__all__ = ["ReserveParams", "ReserveConfig", "to_bps", "BPS_TO_RAY"]

BPS_TO_RAY = 10**23
"""``DefaultReserveInterestRateStrategyV2._bpsToRay``: one bps expressed in RAY."""

MAX_BORROW_RATE_BPS = 1000_00
"""``DefaultReserveInterestRateStrategyV2.MAX_BORROW_RATE`` (1000 %)."""
MIN_OPTIMAL_POINT_BPS = 1_00
MAX_OPTIMAL_POINT_BPS = 99_00


def to_bps(value: float, name: str) -> int:
    """Exact bps of a fraction (``0.8 -> 8000``); raise ValueError if not integral in bps."""
    scaled = value * PERCENTAGE_FACTOR
    bps = round(scaled)
    if abs(scaled - bps) > 1e-9 * max(1.0, abs(scaled)):
        raise ValueError(f"{name} ({value}) is not a whole number of basis points (0.0001)")
    return int(bps)


@dataclass(frozen=True, slots=True)
class ReserveConfig:
    """One reserve's configuration in contract units (all ints).

    ``ltv``, ``liquidation_threshold``, ``reserve_factor``, ``liquidation_protocol_fee``: bps.
    ``liquidation_bonus``: bps including 100 % (10500 = 5 % bonus).
    ``optimal_usage_ratio``, ``base_variable_borrow_rate``, ``variable_rate_slope1``,
    ``variable_rate_slope2``: RAY (yearly rates). ``decimals``: token decimals.
    """

    ltv: int
    liquidation_threshold: int
    liquidation_bonus: int
    liquidation_protocol_fee: int
    reserve_factor: int
    optimal_usage_ratio: int
    base_variable_borrow_rate: int
    variable_rate_slope1: int
    variable_rate_slope2: int
    decimals: int

    @property
    def unit(self) -> int:
        """``10**decimals``: base units per whole token."""
        return 10**self.decimals


class ReserveParams(BaseModel):
    """Scenario-facing reserve risk and rate parameters, as fractions (0.80 = 80 %).

    ``liquidation_bonus`` is the bonus part only (0.05 = 5 %); ``liquidation_protocol_fee``
    is the protocol's share of that bonus part. Rates are yearly fractions. Validation mirrors
    ``PoolConfigurator.configureReserveAsCollateral`` (``ltv <= lt``; ``lt * (1 + bonus) <= 1``
    via ``percentMul``; a collateral with ``lt > 0`` needs a bonus > 0, one with ``lt == 0``
    a bonus of 0) and ``DefaultReserveInterestRateStrategyV2._setInterestRateParams``
    (optimal usage in [1 %, 99 %], ``slope1 <= slope2``, max rate <= 1000 %).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    ltv: float
    liquidation_threshold: float
    liquidation_bonus: float
    liquidation_protocol_fee: float = 0.10
    reserve_factor: float = 0.10
    optimal_usage_ratio: float = 0.90
    base_variable_borrow_rate: float = 0.0
    variable_rate_slope1: float = 0.04
    variable_rate_slope2: float = 0.60

    @field_validator("ltv", "liquidation_threshold", "liquidation_protocol_fee", "reserve_factor")
    @classmethod
    def _fraction(cls, v: float, info: object) -> float:
        name = getattr(info, "field_name", "value")
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"{name} ({v}) must be a fraction in [0, 1]")
        to_bps(v, name)
        return v

    @field_validator(
        "liquidation_bonus",
        "optimal_usage_ratio",
        "base_variable_borrow_rate",
        "variable_rate_slope1",
        "variable_rate_slope2",
    )
    @classmethod
    def _non_negative(cls, v: float, info: object) -> float:
        name = getattr(info, "field_name", "value")
        if v < 0.0:
            raise ValueError(f"{name} ({v}) must not be negative")
        to_bps(v, name)
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.ltv > self.liquidation_threshold:
            raise ValueError(
                f"ltv ({self.ltv}) must not exceed liquidation_threshold "
                f"({self.liquidation_threshold})"
            )
        lt = to_bps(self.liquidation_threshold, "liquidation_threshold")
        bonus = PERCENTAGE_FACTOR + to_bps(self.liquidation_bonus, "liquidation_bonus")
        if lt != 0:
            if bonus <= PERCENTAGE_FACTOR:
                raise ValueError(
                    "liquidation_bonus must be > 0 for a collateral asset "
                    f"(liquidation_threshold {self.liquidation_threshold} > 0)"
                )
            if percent_mul(lt, bonus) > PERCENTAGE_FACTOR:
                raise ValueError(
                    f"liquidation_threshold * (1 + liquidation_bonus) = {self.liquidation_threshold}"
                    f" * {1 + self.liquidation_bonus} must not exceed 1"
                )
        elif bonus != PERCENTAGE_FACTOR:
            raise ValueError(
                "liquidation_bonus must be 0 when liquidation_threshold is 0 (not a collateral)"
            )
        opt = to_bps(self.optimal_usage_ratio, "optimal_usage_ratio")
        if not MIN_OPTIMAL_POINT_BPS <= opt <= MAX_OPTIMAL_POINT_BPS:
            raise ValueError(
                f"optimal_usage_ratio ({self.optimal_usage_ratio}) must be in [0.01, 0.99]"
            )
        s1 = to_bps(self.variable_rate_slope1, "variable_rate_slope1")
        s2 = to_bps(self.variable_rate_slope2, "variable_rate_slope2")
        base = to_bps(self.base_variable_borrow_rate, "base_variable_borrow_rate")
        if s1 > s2:
            raise ValueError(
                f"variable_rate_slope1 ({self.variable_rate_slope1}) must not exceed "
                f"variable_rate_slope2 ({self.variable_rate_slope2})"
            )
        if base + s1 + s2 > MAX_BORROW_RATE_BPS:
            raise ValueError("base_variable_borrow_rate + slope1 + slope2 must not exceed 10 (1000 %)")
        return self

    def to_config(self, decimals: int) -> ReserveConfig:
        """Exact contract-unit configuration for a token with ``decimals`` decimals."""
        if type(decimals) is not int or not 0 <= decimals <= 77:
            raise ValueError(f"decimals ({decimals!r}) must be an int in [0, 77]")
        return ReserveConfig(
            ltv=to_bps(self.ltv, "ltv"),
            liquidation_threshold=to_bps(self.liquidation_threshold, "liquidation_threshold"),
            liquidation_bonus=PERCENTAGE_FACTOR + to_bps(self.liquidation_bonus, "liquidation_bonus"),
            liquidation_protocol_fee=to_bps(self.liquidation_protocol_fee, "liquidation_protocol_fee"),
            reserve_factor=to_bps(self.reserve_factor, "reserve_factor"),
            optimal_usage_ratio=to_bps(self.optimal_usage_ratio, "optimal_usage_ratio") * BPS_TO_RAY,
            base_variable_borrow_rate=to_bps(self.base_variable_borrow_rate, "base_variable_borrow_rate")
            * BPS_TO_RAY,
            variable_rate_slope1=to_bps(self.variable_rate_slope1, "variable_rate_slope1") * BPS_TO_RAY,
            variable_rate_slope2=to_bps(self.variable_rate_slope2, "variable_rate_slope2") * BPS_TO_RAY,
            decimals=decimals,
        )
