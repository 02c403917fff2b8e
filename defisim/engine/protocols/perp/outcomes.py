"""Values the perpetual exchange returns: liquidation outcomes and refusals, snapshots.

Units: quote amounts in quote base units (USDC), sizes signed asset base units, prices USD
1e8 per whole token, health WAD (equity / maintenance requirement; ``2**256 - 1`` without
positions), times unix seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from defisim.engine.records import Record

__all__ = [
    "AccountSnapshot",
    "ClosedPart",
    "LiquidationOutcome",
    "LiquidationRefusal",
    "MarketSnapshot",
    "PerpSnapshot",
    "PositionSnapshot",
]


@dataclass(frozen=True, slots=True)
class ClosedPart:
    """One position (or part) a liquidation closed: ``size`` signed like the position,
    ``notional`` the quote it traded for, ``route`` ``venue`` / ``adl`` / ``vault``."""

    market: str
    size: int
    notional: int
    oracle_price: int
    route: str


@dataclass(frozen=True, slots=True)
class LiquidationOutcome:
    """What one liquidation did.

    ``path``: ``"venue"`` (closed into the AMM through the vault; a shortfall, if any, paid
    by the insurance fund) or ``"adl"`` (the fund could not cover the venue's shortfall, or the
    venue could not take the trade: the fund paid what it had and opposite positions were
    deleveraged at the bankruptcy price; what was left was socialised).
    ``staged``: a partial step of a large position (Hyperliquid); ``full``: every position was
    closed.

    Amounts: ``debt_repaid`` = notional closed (Σ ``closed[i].notional``); ``collateral_seized``
    = the account's own collateral the liquidation consumed (realised loss plus fee, at most
    what it had); ``protocol_fee`` = liquidation fee paid to the insurance fund;
    ``bad_debt`` = loss beyond the account's collateral, covered exactly once by
    ``fund_drawn + adl_haircut + socialized + unbacked`` (``unbacked``: left as negative
    collateral because no account had collateral left to socialise it over).
    """

    account: str
    owner: str
    path: str
    staged: bool
    full: bool
    closed: tuple[ClosedPart, ...]
    debt_repaid: int
    collateral_seized: int
    protocol_fee: int
    health_before: int
    health_after: int
    equity_before: int
    maintenance_before: int
    bad_debt: int
    fund_drawn: int
    adl_haircut: int
    socialized: int
    unbacked: int
    cooldown_until: int
    records: tuple[Record, ...]


@dataclass(frozen=True, slots=True)
class LiquidationRefusal:
    """A liquidation the exchange would not perform; ``reason`` from ``errors``."""

    reason: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class PositionSnapshot:
    """One open position of an account."""

    account: str
    market: str
    size: int
    entry: int


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """One margin account: owner, isolated market (``""`` for cross), collateral, cooldown."""

    account: str
    owner: str
    isolated_market: str
    collateral: int
    cooldown_until: int


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """One market: open interest per side (asset base units), the premium samples of the
    current funding interval and the next sample / payment times."""

    market: str
    long_open_interest: int
    short_open_interest: int
    premium_sum: int
    premium_samples: int
    next_sample: int
    next_funding: int


@dataclass(frozen=True, slots=True)
class PerpSnapshot:
    """Frozen, ``==``-comparable state of the exchange at ``timestamp``; accounts and
    positions sorted by key, markets by name."""

    name: str
    timestamp: int
    insurance_fund: int
    dust: int
    markets: tuple[MarketSnapshot, ...]
    accounts: tuple[AccountSnapshot, ...]
    positions: tuple[PositionSnapshot, ...]
