"""Records of the perpetual-exchange family (in addition to the core ones it also emits:
``PositionLiquidated``, ``BadDebtRealized``, ``InsuranceFundFunded``, ``InsuranceFundDrawn``,
``BadDebtSocialized``, ``SwapExecuted``).

Amounts are quote base units (USDC), sizes signed asset base units (positive = long), prices
USD per whole asset token with 8 decimals, rates and premiums ppb (1e9 = 100 %).
"""

from __future__ import annotations

from dataclasses import dataclass

from defisim.engine.records import Record

__all__ = ["DeleveragingFill", "FundingPaid", "LiquidationFilled", "PositionsDeleveraged"]


@dataclass(frozen=True, slots=True)
class LiquidationFilled(Record):
    """One position (or one staged part of it) closed by a liquidation.

    ``size`` is the part of the position closed (signed like the position: a long's close is
    positive); ``notional`` what it traded for; ``price`` the average fill price (notional per
    whole token, rounded down); ``route``: ``"venue"`` (closed into the AMM through the
    exchange's vault, with real price impact), ``"adl"`` (matched against deleveraged
    counterparties) or ``"vault"`` (taken over by the vault at the mark when no counterparty
    was left). ``staged``: a partial step of a large position; ``cooldown_until`` (unix s)
    when the next step may run (0 if not staged).
    """

    protocol: str
    account: str
    market: str
    size: int
    notional: int
    price: int
    oracle_price: int
    route: str
    staged: bool
    cooldown_until: int


@dataclass(frozen=True, slots=True)
class DeleveragingFill(Record):
    """One counterparty position closed by auto-deleveraging against ``against``.

    ``account`` is the deleveraged (profitable, opposite-side) account; ``size`` the part of
    its position closed (signed like its position); ``haircut`` the profit it gave up to cover
    the liquidated account's loss; ``rank`` its place in the ranking (0 = first) and
    ``score`` the ranking key ``unrealised PnL x leverage`` rounded down to quote base units.
    """

    protocol: str
    market: str
    account: str
    against: str
    size: int
    notional: int
    haircut: int
    rank: int
    score: int


@dataclass(frozen=True, slots=True)
class PositionsDeleveraged(Record):
    """Auto-deleveraging closed ``account``'s position in ``market`` (size signed) against
    ``counterparties`` opposite positions, which gave up ``haircut`` in total (the loss ADL
    covered, quote base units). ``unmatched_size`` found no profitable counterparty and was
    taken over by the vault at ``price`` (the mark)."""

    protocol: str
    market: str
    account: str
    size: int
    price: int
    counterparties: int
    haircut: int
    unmatched_size: int


@dataclass(frozen=True, slots=True)
class FundingPaid(Record):
    """One funding payment in ``market``.

    ``rate`` (ppb of notional at the oracle price) is what longs paid shorts (negative: shorts
    paid longs); ``premium`` the average sampled premium of the venue over the oracle (ppb) it
    came from, over ``samples`` samples. ``paid`` is what payers paid (each rounded up),
    ``received`` what receivers got (each rounded down); the difference, ``dust``, stays with
    the exchange. ``positions`` counts the positions that paid or received.
    """

    protocol: str
    market: str
    rate: int
    premium: int
    samples: int
    oracle_price: int
    paid: int
    received: int
    dust: int
    positions: int
