"""Values the Morpho Blue model returns: ``liquidate`` results, liquidator-facing outcomes
and quotes, refusals, and the frozen snapshot.

Units: loan amounts in loan-token base units, collateral in collateral-token base units,
shares plain ints, USD values 8 decimals (rounded down), health factors and the incentive
factor WAD, oracle prices 1e36.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "LiquidateResult",
    "LiquidationOutcome",
    "LiquidationQuote",
    "LiquidationRefusal",
    "MarketSnapshot",
    "MorphoSnapshot",
    "PositionSnapshot",
]


@dataclass(frozen=True, slots=True)
class LiquidateResult:
    """What ``Morpho.liquidate`` did (its ``Liquidate`` event and return values).

    ``seized_assets`` collateral units; ``repaid_assets`` loan units paid by the liquidator;
    ``repaid_shares`` borrow shares burned for that; ``bad_debt_assets``/``bad_debt_shares``
    written off (and taken from suppliers) because the borrower has no collateral left;
    ``oracle_price`` 1e36; ``liquidation_incentive_factor`` WAD.
    """

    market: str
    borrower: str
    seized_assets: int
    repaid_assets: int
    repaid_shares: int
    bad_debt_assets: int
    bad_debt_shares: int
    oracle_price: int
    liquidation_incentive_factor: int


@dataclass(frozen=True, slots=True)
class LiquidationOutcome:
    """A liquidation through the liquidator-facing interface (the Aave outcome's fields plus
    Morpho's).

    ``user`` is the position key ``"<market>/<borrower>"``. ``arg_seized_assets`` and
    ``arg_repaid_shares`` are exactly the ``(seizedAssets, repaidShares)`` passed to
    ``liquidate`` (one of them 0), so the call can be replayed on chain. ``debt_repaid`` =
    ``repaidAssets`` paid by the liquidator; ``collateral_seized`` = ``seizedAssets`` received;
    ``protocol_fee`` always 0 (Morpho takes none). ``deficits``: ``(loan token, bad debt
    assets)`` written off; Morpho socialises it at once (``deficits_socialized``).
    ``health_before``/``health_after`` WAD (``2**256 - 1`` without debt).
    ``max_liquidatable_debt``: the whole debt (no close factor). ``collateral_price`` and
    ``debt_price``: USD 8 dp feeds; ``oracle_price``: the market's 1e36 price.
    """

    collateral_asset: str
    debt_asset: str
    user: str
    market: str
    borrower: str
    arg_seized_assets: int
    arg_repaid_shares: int
    debt_repaid: int
    collateral_seized: int
    repaid_shares: int
    bad_debt_assets: int
    bad_debt_shares: int
    protocol_fee: int
    health_before: int
    health_after: int
    deficits: tuple[tuple[str, int], ...]
    deficits_usd: tuple[tuple[str, int], ...]
    debt_repaid_usd: int
    collateral_seized_usd: int
    collateral_price: int
    debt_price: int
    oracle_price: int
    liquidation_incentive_factor: int
    max_liquidatable_debt: int
    collateral_disabled: bool
    deficits_socialized: bool = True


@dataclass(frozen=True, slots=True)
class LiquidationQuote:
    """Amounts a liquidation would move now (see ``MorphoBlue.quote_liquidation``).

    ``debt_repaid`` loan units, ``collateral_seized`` collateral units, ``health_before`` WAD,
    and the exact ``liquidate`` arguments.
    """

    debt_repaid: int
    collateral_seized: int
    health_before: int
    arg_seized_assets: int
    arg_repaid_shares: int


@dataclass(frozen=True, slots=True)
class LiquidationRefusal:
    """A liquidation the contract would revert; ``reason`` is the revert string."""

    reason: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """One market as ``Morpho.market(id)`` returns it (stored values), keyed by name."""

    market: str
    total_supply_assets: int
    total_supply_shares: int
    total_borrow_assets: int
    total_borrow_shares: int
    last_update: int
    fee: int


@dataclass(frozen=True, slots=True)
class PositionSnapshot:
    """One non-zero position as ``Morpho.position(id, user)`` returns it."""

    market: str
    user: str
    supply_shares: int
    borrow_shares: int
    collateral: int


@dataclass(frozen=True, slots=True)
class MorphoSnapshot:
    """Frozen, ``==``-comparable state of a Morpho Blue instance at ``timestamp``.

    ``markets`` sorted by name; ``positions`` (non-zero only) sorted by ``(market, user)``.
    Stored values, not accrued to ``timestamp`` (as the chain getters return them).
    """

    name: str
    timestamp: int
    markets: tuple[MarketSnapshot, ...]
    positions: tuple[PositionSnapshot, ...]
