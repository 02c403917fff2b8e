"""Comet's configuration and storage structs as frozen values.

Field names are the contract's, in snake_case. Units: token base units (balances, caps,
principals), ``FACTOR_SCALE`` 1e18 (factors, rates, kinks), ``BASE_INDEX_SCALE`` 1e15
(indices), unix seconds (``last_accrual_time``), wei (``approx_spend``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "AssetConfig",
    "AssetInfo",
    "CometConfiguration",
    "LiquidatorPoints",
    "PriceFeed",
    "TotalsBasic",
    "UserBasic",
]


class PriceFeed(Protocol):
    """``IPriceFeed.latestRoundData().answer``: USD per whole token, 8 decimals."""

    def __call__(self) -> int:
        ...


@dataclass(frozen=True, slots=True)
class AssetConfig:
    """``CometConfiguration.AssetConfig``: one collateral as governance configures it.

    ``asset`` is a ledger token symbol; ``price_feed`` names a feed in the ``price_feeds``
    mapping given to :class:`~defisim.engine.protocols.compound_v3.Comet` (on chain: an
    address). Factors are 1e18 (the contract keeps 4 decimals of each, see
    :class:`AssetInfo`); ``supply_cap`` in base units (kept in whole tokens).
    """

    asset: str
    price_feed: str
    decimals: int
    borrow_collateral_factor: int
    liquidate_collateral_factor: int
    liquidation_factor: int
    supply_cap: int


@dataclass(frozen=True, slots=True)
class CometConfiguration:
    """``CometConfiguration.Configuration`` (governor, pause guardian and extension delegate
    left out). Per-year rates and kinks are 1e18; ``target_reserves``, ``base_borrow_min``
    and ``base_min_for_rewards`` are base-token base units."""

    base_token: str
    base_token_price_feed: str
    supply_kink: int
    supply_per_year_interest_rate_slope_low: int
    supply_per_year_interest_rate_slope_high: int
    supply_per_year_interest_rate_base: int
    borrow_kink: int
    borrow_per_year_interest_rate_slope_low: int
    borrow_per_year_interest_rate_slope_high: int
    borrow_per_year_interest_rate_base: int
    store_front_price_factor: int
    target_reserves: int
    base_borrow_min: int
    asset_configs: tuple[AssetConfig, ...]
    base_min_for_rewards: int = 1
    tracking_index_scale: int = 10**15
    base_tracking_supply_speed: int = 0
    base_tracking_borrow_speed: int = 0


@dataclass(frozen=True, slots=True)
class AssetInfo:
    """``CometCore.AssetInfo`` as ``getAssetInfo(i)`` returns it (after 4-decimal packing).

    ``scale`` = 10**decimals; factors 1e18 truncated to 4 decimals; ``supply_cap`` base
    units truncated to whole tokens.
    """

    offset: int
    asset: str
    price_feed: str
    scale: int
    borrow_collateral_factor: int
    liquidate_collateral_factor: int
    liquidation_factor: int
    supply_cap: int


@dataclass(frozen=True, slots=True)
class TotalsBasic:
    """The market aggregates as ``totalsBasic()`` returns them (stored, not accrued)."""

    base_supply_index: int
    base_borrow_index: int
    tracking_supply_index: int
    tracking_borrow_index: int
    total_supply_base: int
    total_borrow_base: int
    last_accrual_time: int
    pause_flags: int


@dataclass(frozen=True, slots=True)
class UserBasic:
    """``userBasic(account)``: signed ``principal`` (base units at index 1e15), reward
    tracking, and the ``assets_in`` bit vector of collaterals with a non-zero balance."""

    principal: int
    base_tracking_index: int
    base_tracking_accrued: int
    assets_in: int


@dataclass(frozen=True, slots=True)
class LiquidatorPoints:
    """``liquidatorPoints(absorber)``: absorb calls, accounts absorbed, and the approximate
    gas spend ``Σ gasUsed * block.basefee`` (wei)."""

    num_absorbs: int
    num_absorbed: int
    approx_spend: int
