"""Rebuild an :class:`AavePool` from a state snapshot (e.g. one read from a forked chain).

:func:`pool_from_snapshot` is the inverse of :meth:`AavePool.snapshot`: it constructs a pool
of the given rule set and writes every reserve's stored state (indexes, rates, last update,
scaled totals, virtual balance, treasury accrual, deficit) and every account's scaled
balances and collateral flags. Borrowing flags are set for the assets with scaled debt (the
contracts keep them equal). The pool's cash is minted into its ledger as each reserve's
``virtual_underlying_balance`` (for 3.0, the aToken's underlying balance), which is what the
rate strategies read.

The snapshot need not list every account of the pool: reserve totals come from the snapshot,
not from summing accounts, so a pool rebuilt from a partial account list behaves exactly as
the contracts do for the accounts it knows (its ``invariant_errors`` will, of course, report
that the listed accounts do not add up to the totals).
"""

from __future__ import annotations

from collections.abc import Callable

from defisim.engine.ledger import Ledger
from defisim.engine.protocols.aave_v3.config import ReserveConfig
from defisim.engine.protocols.aave_v3.outcomes import AaveError, AaveSnapshot
from defisim.engine.protocols.aave_v3.pool import AavePool

__all__ = ["pool_from_snapshot"]


def pool_from_snapshot(
    snapshot: AaveSnapshot,
    reserves: dict[str, ReserveConfig],
    price: Callable[[str], int],
    *,
    treasury: str,
    version: str = "3.6",
    ledger: Ledger | None = None,
    name: str | None = None,
) -> AavePool:
    """A pool of rule set ``version`` in exactly the state ``snapshot`` describes.

    ``reserves`` gives each reserve's configuration, in reserve-id order, and must name the
    same assets as ``snapshot.reserves`` in the same order. ``price(asset)``: the oracle
    (USD, 8 decimals). ``ledger``: where the pool's cash lives (a new one with the reserves'
    decimals by default); the pool holder is ``name`` (default ``snapshot.name``).
    """
    order = [r.asset for r in snapshot.reserves]
    if order != list(reserves):
        raise AaveError("INVALID_SNAPSHOT", f"snapshot reserves {order} != configured reserves {list(reserves)}")
    if ledger is None:
        ledger = Ledger({a: c.decimals for a, c in reserves.items()})
    pool = AavePool(name or snapshot.name, ledger, dict(reserves), price, treasury=treasury,
                    created_at=snapshot.timestamp, version=version)
    for rs in snapshot.reserves:
        st = pool._state[rs.asset]
        st.liquidity_index = rs.liquidity_index
        st.variable_borrow_index = rs.variable_borrow_index
        st.current_liquidity_rate = rs.current_liquidity_rate
        st.current_variable_borrow_rate = rs.current_variable_borrow_rate
        st.last_update_timestamp = rs.last_update_timestamp
        st.scaled_total_supply = rs.scaled_total_supply
        st.scaled_total_debt = rs.scaled_total_debt
        st.virtual_underlying_balance = rs.virtual_underlying_balance
        st.accrued_to_treasury = rs.accrued_to_treasury
        st.deficit = rs.deficit
        if rs.virtual_underlying_balance:
            ledger.mint(rs.asset, pool.address, rs.virtual_underlying_balance)
    for acct in snapshot.accounts:
        for asset, scaled in acct.scaled_collateral:
            if scaled:
                pool._a[asset][acct.account] = scaled
        borrowing = set()
        for asset, scaled in acct.scaled_debt:
            if scaled:
                pool._d[asset][acct.account] = scaled
                borrowing.add(asset)
        if acct.collateral_enabled:
            pool._coll[acct.account] = set(acct.collateral_enabled)
        if borrowing:
            pool._borrow[acct.account] = borrowing
        pool._refresh_row(acct.account)
    return pool
