"""Comet's own records, and the record set one ``absorb`` call produces.

Besides the generic records every lending plug-in emits (``PositionLiquidated`` per absorbed
account so the run summary counts absorptions; ``BadDebtRealized``, ``InsuranceFundDrawn``,
``BadDebtSocialized`` for the loss), Comet has three of its own, named in the past tense:
:class:`PositionAbsorbed` (``AbsorbDebt`` + ``AbsorbCollateral`` events plus the reserve
accounting), :class:`AbsorberPointsAccrued` (``liquidatorPoints``) and
:class:`CollateralBought` (``BuyCollateral`` plus the buyer's sale of it).

Amounts in token base units; USD 1e8; reserves signed base-token base units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from defisim.engine.protocols.compound_v3.cometmath import mul_price
from defisim.engine.protocols.compound_v3.constants import NO_DEBT
from defisim.engine.records import (
    BadDebtRealized,
    BadDebtSocialized,
    InsuranceFundDrawn,
    PositionLiquidated,
    Record,
)

if TYPE_CHECKING:
    from defisim.engine.protocols.compound_v3.comet import Comet
    from defisim.engine.protocols.compound_v3.outcomes import AbsorbResult

__all__ = ["AbsorberPointsAccrued", "CollateralBought", "PositionAbsorbed", "absorb_records"]


@dataclass(frozen=True, slots=True)
class PositionAbsorbed(Record):
    """Comet absorbed ``account`` (one ``absorbInternal``).

    ``debt_absorbed``: the debt taken over (base units); ``base_paid_out`` /
    ``base_paid_out_usd``: the ``AbsorbDebt`` event (debt plus any balance credited to the
    account); ``collateral``: ``(asset, amount, usd value)`` per ``AbsorbCollateral`` event;
    ``shortfall``: debt not covered by the collateral at the feed prices (the reserves'
    loss); ``reserves_before``/``reserves_after``: ``getReserves()`` around the absorption.
    """

    protocol: str
    absorber: str
    account: str
    debt_absorbed: int
    base_paid_out: int
    base_paid_out_usd: int
    collateral: tuple[tuple[str, int, int], ...]
    collateral_value_usd: int
    shortfall: int
    shortfall_usd: int
    reserves_before: int
    reserves_after: int


@dataclass(frozen=True, slots=True)
class AbsorberPointsAccrued(Record):
    """One ``absorb`` call credited ``absorber``: ``accounts`` absorbed in it, and the
    ``liquidatorPoints`` totals after it (``approx_spend`` in wei: ``Σ gasUsed * basefee``)."""

    protocol: str
    absorber: str
    accounts: int
    gas_used: int
    base_fee: int
    num_absorbs: int
    num_absorbed: int
    approx_spend: int


@dataclass(frozen=True, slots=True)
class CollateralBought(Record):
    """``buyer`` bought ``collateral_amount`` of ``asset`` from the store front for
    ``base_amount`` of the base token, and sold it for ``proceeds`` (base units) on the AMMs.

    ``reserves_before``/``reserves_after``: ``getReserves()`` around the purchase (the sale
    was allowed because ``reserves_before < targetReserves``); ``profit_usd``: proceeds -
    paid - flash-loan fee - gas (USD 1e8).
    """

    protocol: str
    buyer: str
    asset: str
    base_amount: int
    collateral_amount: int
    proceeds: int
    reserves_before: int
    reserves_after: int
    profit_usd: int
    gas_cost_usd: int


def absorb_records(comet: Comet, block: int, absorber: str, result: AbsorbResult,
                   gas_cost_usd: int) -> list[Record]:
    """The records of one successful ``absorb`` by the agent named ``absorber``.

    Per account: :class:`PositionAbsorbed`; ``PositionLiquidated`` (``liquidator`` = the
    absorber, ``debt_repaid`` = debt absorbed, ``collateral_asset``/``collateral_seized`` =
    the largest collateral by value and its amount, ``collateral_seized_usd`` = all collateral
    taken, ``protocol_fee`` 0, ``profit_usd`` 0 (absorbing pays nothing), ``gas_cost_usd`` the
    call's gas shared evenly); and, when the collateral did not cover the debt,
    ``BadDebtRealized`` (the shortfall), ``InsuranceFundDrawn`` (the part the reserves cover)
    and ``BadDebtSocialized`` (the rest: suppliers are left under-backed). Then one
    :class:`AbsorberPointsAccrued`.
    """
    protocol, base, scale = comet.name, comet.base_token, comet.base_scale
    out: list[Record] = []
    n = len(result.accounts)
    for k, a in enumerate(result.accounts):
        gas_share = gas_cost_usd // n + (gas_cost_usd % n if k == 0 else 0) if n else 0
        largest = max(a.collateral, key=lambda s: s.value_usd, default=None)
        out.append(PositionAbsorbed(
            block=block, protocol=protocol, absorber=absorber, account=a.account,
            debt_absorbed=a.debt_absorbed, base_paid_out=a.base_paid_out,
            base_paid_out_usd=a.value_of_base_paid_out,
            collateral=tuple((s.asset, s.amount, s.value_usd) for s in a.collateral),
            collateral_value_usd=a.collateral_value_usd, shortfall=a.shortfall, shortfall_usd=a.shortfall_usd,
            reserves_before=a.reserves_before, reserves_after=a.reserves_after,
        ))
        out.append(PositionLiquidated(
            block=block, protocol=protocol, liquidator=absorber, account=a.account,
            collateral_asset=largest.asset if largest is not None else base, debt_asset=base,
            debt_repaid=a.debt_absorbed, collateral_seized=largest.amount if largest is not None else 0,
            protocol_fee=0, health_before=a.health_before, health_after=NO_DEBT,
            debt_repaid_usd=a.debt_absorbed_usd, collateral_seized_usd=a.collateral_value_usd,
            profit_usd=0, gas_cost_usd=gas_share,
        ))
        if a.shortfall:
            out.append(BadDebtRealized(block, protocol, a.account, base, a.shortfall, a.shortfall_usd))
        if a.reserves_drawn:
            out.append(InsuranceFundDrawn(
                block, protocol, base, a.reserves_drawn, mul_price(a.reserves_drawn, a.base_price, scale),
                max(a.reserve_equity_before - a.reserves_drawn, 0),
            ))
        if a.uncovered:
            out.append(BadDebtSocialized(block, protocol, base, a.uncovered,
                                         mul_price(a.uncovered, a.base_price, scale)))
    p = result.points
    out.append(AbsorberPointsAccrued(
        block=block, protocol=protocol, absorber=absorber, accounts=n, gas_used=result.gas_used,
        base_fee=result.base_fee, num_absorbs=p.num_absorbs, num_absorbed=p.num_absorbed,
        approx_spend=p.approx_spend,
    ))
    return out
