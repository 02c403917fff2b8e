"""Parameters of the perpetual exchange as frozen values (ints only; see ``config.py`` for the
scenario-facing fractions).

Units: fractions ppm (1e6 = 100 %), rates ppb (1e9 = 100 %), seconds, quote base units.
"""

from __future__ import annotations

from dataclasses import dataclass

from defisim.engine.protocols.perp.constants import (
    DEFAULT_BACKSTOP_PPM,
    DEFAULT_COOLDOWN_S,
    DEFAULT_FUNDING_INTERVAL_S,
    DEFAULT_INTEREST_PER_INTERVAL,
    DEFAULT_LIQUIDATION_FEE_PPM,
    DEFAULT_MAX_FUNDING_RATE,
    DEFAULT_PREMIUM_DIVISOR,
    DEFAULT_PREMIUM_SAMPLE_S,
    DEFAULT_STAGED_STEP_PPM,
    MAX_FEE_PPM,
    PPM,
)

__all__ = ["FundingConfig", "LiquidationConfig", "MarketParams", "StagedLiquidation"]


@dataclass(frozen=True, slots=True)
class MarketParams:
    """One perpetual market, e.g. ETH-PERP on the asset WETH.

    ``initial_margin_ppm`` / ``maintenance_margin_ppm``: fractions of the position's notional
    at the mark price (dYdX's IMF and MMF); maintenance must be below initial, both in
    (0, 100 %]. ``asset_decimals`` are the asset token's decimals (sizes are its base units).
    """

    name: str
    asset: str
    asset_decimals: int
    initial_margin_ppm: int
    maintenance_margin_ppm: int

    def __post_init__(self) -> None:
        if not 0 < self.initial_margin_ppm <= PPM:
            raise ValueError(f"{self.name}: initial_margin_ppm {self.initial_margin_ppm} must be in (0, {PPM}]")
        if not 0 < self.maintenance_margin_ppm < self.initial_margin_ppm:
            raise ValueError(
                f"{self.name}: maintenance_margin_ppm {self.maintenance_margin_ppm} must be in "
                f"(0, initial_margin_ppm={self.initial_margin_ppm})"
            )


@dataclass(frozen=True, slots=True)
class StagedLiquidation:
    """Hyperliquid-style partial liquidation of large positions.

    A position whose notional at the mark is above ``threshold`` (quote base units) is cut by
    ``step_ppm`` of its size per liquidation; after such a step the account waits
    ``cooldown_s`` seconds before the next one, unless its equity falls below
    ``backstop_ppm`` of the maintenance requirement (then everything is closed at once).
    """

    threshold: int
    step_ppm: int = DEFAULT_STAGED_STEP_PPM
    cooldown_s: int = DEFAULT_COOLDOWN_S
    backstop_ppm: int = DEFAULT_BACKSTOP_PPM

    def __post_init__(self) -> None:
        if self.threshold < 0:
            raise ValueError(f"threshold {self.threshold} must be >= 0")
        if not 0 < self.step_ppm <= PPM:
            raise ValueError(f"step_ppm {self.step_ppm} must be in (0, {PPM}]")
        if self.cooldown_s < 0:
            raise ValueError(f"cooldown_s {self.cooldown_s} must be >= 0")
        if not 0 <= self.backstop_ppm <= PPM:
            raise ValueError(f"backstop_ppm {self.backstop_ppm} must be in [0, {PPM}]")


@dataclass(frozen=True, slots=True)
class LiquidationConfig:
    """Liquidation fee and staging.

    ``fee_ppm`` of the closed notional (at the fill) is charged, capped by what the account
    has left, and paid to the insurance fund; ``max_fee_ppm`` is the protocol cap
    (dYdX v4 ``max_liquidation_fee_ppm``), ``fee_ppm <= max_fee_ppm <= 5 %``.
    ``staged``: ``None`` closes every liquidated position in full.
    """

    fee_ppm: int = DEFAULT_LIQUIDATION_FEE_PPM
    max_fee_ppm: int = DEFAULT_LIQUIDATION_FEE_PPM
    staged: StagedLiquidation | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.max_fee_ppm <= MAX_FEE_PPM:
            raise ValueError(f"max_fee_ppm {self.max_fee_ppm} must be in [0, {MAX_FEE_PPM}] (5 %)")
        if not 0 <= self.fee_ppm <= self.max_fee_ppm:
            raise ValueError(f"fee_ppm {self.fee_ppm} must be in [0, max_fee_ppm={self.max_fee_ppm}]")


@dataclass(frozen=True, slots=True)
class FundingConfig:
    """Funding: the premium of the venue (AMM) price over the oracle, sampled every
    ``sample_s`` seconds, averaged, divided by ``premium_divisor`` and increased by
    ``interest_per_interval`` (ppb) gives the rate paid every ``interval_s`` seconds, clamped to
    ``[-max_rate, max_rate]`` (ppb). Positive rate: longs pay shorts."""

    interval_s: int = DEFAULT_FUNDING_INTERVAL_S
    sample_s: int = DEFAULT_PREMIUM_SAMPLE_S
    premium_divisor: int = DEFAULT_PREMIUM_DIVISOR
    interest_per_interval: int = DEFAULT_INTEREST_PER_INTERVAL
    max_rate: int = DEFAULT_MAX_FUNDING_RATE

    def __post_init__(self) -> None:
        if self.interval_s <= 0:
            raise ValueError(f"interval_s {self.interval_s} must be > 0")
        if not 0 < self.sample_s <= self.interval_s:
            raise ValueError(f"sample_s {self.sample_s} must be in (0, interval_s={self.interval_s}]")
        if self.premium_divisor <= 0:
            raise ValueError(f"premium_divisor {self.premium_divisor} must be > 0")
        if self.max_rate < 0:
            raise ValueError(f"max_rate {self.max_rate} must be >= 0")
