"""Rebuild a :class:`MorphoBlue` from a state snapshot (e.g. one read from a forked chain).

:func:`morpho_from_snapshot` is the inverse of :meth:`MorphoBlue.snapshot`: it creates each
market with the given :class:`MarketParams` (enabling its IRM and LLTV first) and writes the
stored ``Market`` (totals, ``lastUpdate``, ``fee``) and every listed ``Position``.

Cash: the contract's ledger balance is minted as Morpho's books have it for the listed state:
``totalSupplyAssets - totalBorrowAssets`` of each market's loan token, plus the collateral of
the listed positions. (On chain the contract may hold more — other markets, donations,
``zeroFloorSub`` surpluses — which no action here can reach.)

The snapshot need not list every position of a market: totals come from the snapshot, not from
summing positions, so a model rebuilt from a partial position list behaves exactly as the
contract does for the positions it knows (its ``invariant_errors`` will report that the listed
shares do not add up to the totals).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from defisim.engine.ledger import Ledger
from defisim.engine.protocols.morpho_blue._overlay import MarketState, PositionState
from defisim.engine.protocols.morpho_blue.constants import ZERO_ADDRESS
from defisim.engine.protocols.morpho_blue.errors import MorphoError
from defisim.engine.protocols.morpho_blue.morpho import MorphoBlue
from defisim.engine.protocols.morpho_blue.outcomes import MorphoSnapshot
from defisim.engine.protocols.morpho_blue.types import MarketParams

__all__ = ["morpho_from_snapshot"]


def morpho_from_snapshot(
    snapshot: MorphoSnapshot,
    params: Mapping[str, MarketParams],
    decimals: Mapping[str, int],
    usd_price: Callable[[str], int],
    *,
    fee_recipient: str = ZERO_ADDRESS,
    ledger: Ledger | None = None,
    name: str | None = None,
) -> MorphoBlue:
    """A :class:`MorphoBlue` in exactly the state ``snapshot`` describes.

    ``params``: market name → its :class:`MarketParams` (``name`` equal to the key; oracle, IRM
    and LLTV as on chain), one per market of the snapshot. ``decimals``: token → decimals of
    every loan and collateral token (for a new ledger). ``usd_price(token)``: USD per whole
    token, 8 decimals (only for the liquidator-facing USD figures, see :class:`MorphoBlue`).
    ``ledger``: where the tokens live (a new one by default); the contract's holder is
    ``name`` (default ``snapshot.name``). ``fee_recipient`` receives fee shares.
    """
    names = [m.market for m in snapshot.markets]
    if sorted(names) != sorted(params):
        raise MorphoError("invalid snapshot", f"snapshot markets {names} != given market params {sorted(params)}")
    for key, p in params.items():
        if p.name != key:
            raise MorphoError("invalid snapshot", f"market params keyed {key!r} are named {p.name!r}")
    if ledger is None:
        ledger = Ledger(dict(decimals))
    mb = MorphoBlue(name or snapshot.name, ledger, usd_price, fee_recipient=fee_recipient)
    collateral: dict[str, int] = {}
    for ms in snapshot.markets:
        p = params[ms.market]
        if not mb.is_irm_enabled(p.irm):
            mb.enable_irm(p.irm)
        if not mb.is_lltv_enabled(p.lltv):
            mb.enable_lltv(p.lltv)
        mb.create_market(ms.last_update, p)
        mb._markets[ms.market] = MarketState(ms.total_supply_assets, ms.total_supply_shares,
                                             ms.total_borrow_assets, ms.total_borrow_shares,
                                             ms.last_update, ms.fee)
        cash = ms.total_supply_assets - ms.total_borrow_assets
        if cash > 0:
            ledger.mint(p.loan_token, mb.address, cash)
    written: dict[str, dict[str, PositionState]] = {m.market: {} for m in snapshot.markets}
    for pos in snapshot.positions:
        if pos.market not in written:
            raise MorphoError("invalid snapshot", f"position of {pos.user} in unknown market {pos.market}")
        state = PositionState(pos.supply_shares, pos.borrow_shares, pos.collateral)
        if state.is_empty():
            continue
        mb._positions[pos.market][pos.user] = state
        written[pos.market][pos.user] = state
        token = params[pos.market].collateral_token
        collateral[token] = collateral.get(token, 0) + pos.collateral
    for token, amount in collateral.items():
        if amount:
            ledger.mint(token, mb.address, amount)
    for market, positions in written.items():
        mb._committed(market, positions)  # versions and liquidation-screen rows
    return mb
