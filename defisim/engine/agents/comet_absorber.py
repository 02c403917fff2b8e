"""Absorber bots for Compound III (Comet): call ``absorb`` on underwater accounts.

Comet has no third-party liquidation: anyone may call ``absorb(absorber, accounts)`` and the
protocol itself takes the accounts' collateral and debt. The caller earns nothing but
``liquidatorPoints`` (a record of its gas spend, which governance may reward) and pays the gas,
so absorbers are keepers: they act on every account that is liquidatable *at the current
oracle answers* (so they see an account only after the oracle round lands), send a fixed
priority fee, and compete for block space with each other and with background traffic.

Each block (AGENTS phase) an absorber walks the protocol's screened candidates (largest debt
first), confirms each exactly (``isLiquidatable`` after accrual, memoised per block and shared
by all absorbers), and batches up to ``max_accounts_per_tx`` accounts per ``absorb``
transaction (gas ``gas_base + gas_per_account * n``). With ``max_gas_usd_per_account`` it
skips a transaction whose gas would cost more than that per account (a keeper on a budget).
When the transaction runs, competitors earlier in the block may already have absorbed some
accounts: with ``filter_before_absorb`` (a wrapper contract calling ``isLiquidatable``
first, the default) it absorbs those still liquidatable; without it the whole ``absorb``
reverts ``NotLiquidatable``. A transaction with nothing left to absorb fails: dropped (no gas)
in a private bundle, reverted with gas in the public mempool.

Records: per absorbed account ``PositionAbsorbed`` and ``PositionLiquidated``
(``liquidator`` = the absorber's name, ``profit_usd`` 0) plus the loss records, and one
``AbsorberPointsAccrued`` per call (:func:`~defisim.engine.protocols.compound_v3.absorb_records`);
failures ``LiquidationRefused``.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from defisim.engine.blockspace import Tx
from defisim.engine.protocols.compound_v3 import Comet, CometError, absorb_records
from defisim.engine.records import LiquidationRefused

if TYPE_CHECKING:
    from defisim.engine.world import World

__all__ = ["CometAbsorber"]


class CometAbsorber:
    """A keeper that absorbs liquidatable Comet accounts (see module docstring)."""

    def __init__(
        self,
        world: World,
        *,
        name: str,
        protocols: list[str],
        priority_fee: int,
        gas_base: int,
        gas_per_account: int,
        max_accounts_per_tx: int,
        max_txs_per_block: int,
        max_evaluations_per_block: int,
        max_gas_usd_per_account: int | None,
        filter_before_absorb: bool,
        private_bundles: bool,
    ) -> None:
        self.world = world
        self.name = name
        self.address = f"absorber:{name}"
        self.protocols = protocols
        self.priority_fee = priority_fee
        self.gas_base = gas_base
        self.gas_per_account = gas_per_account
        self.max_accounts = max_accounts_per_tx
        self.max_txs = max_txs_per_block
        self.max_evaluations = max_evaluations_per_block
        self.max_gas_usd_per_account = max_gas_usd_per_account
        self.filter_before_absorb = filter_before_absorb
        self.private_bundles = private_bundles

    def gas_for(self, accounts: int) -> int:
        """Gas of one ``absorb`` of ``accounts`` accounts."""
        return self.gas_base + self.gas_per_account * accounts

    # --- deciding ------------------------------------------------------------------------

    def propose(self, block: int) -> list[Tx]:
        """``absorb`` transactions for the accounts liquidatable at the current answers."""
        now = self.world.now(block)
        txs: list[Tx] = []
        evaluated = 0
        for pname in self.protocols:
            comet = self.world.protocols[pname]
            batch: list[str] = []
            for account in comet.liquidation_candidates(now):
                if evaluated >= self.max_evaluations or len(txs) >= self.max_txs:
                    break
                evaluated += 1
                if not self._liquidatable(pname, comet, now, account):
                    continue
                batch.append(account)
                if len(batch) == self.max_accounts:
                    txs.extend(self._tx(pname, batch))
                    batch = []
            if batch and len(txs) < self.max_txs:
                txs.extend(self._tx(pname, batch))
        return txs

    def _liquidatable(self, pname: str, comet: Comet, now: int, account: str) -> bool:
        """Exact ``isLiquidatable`` at ``now``, memoised for the block (shared by absorbers)."""
        cache = self.world.planning_cache
        key = ("comet-liquidatable", pname, account)
        version = (comet.account_version(account), self.world.oracle_epoch())
        hit = cache.get(key)
        if hit is None or hit[0] != version:
            hit = cache[key] = (version, comet.is_liquidatable(now, account))
        return bool(hit[1])

    def _tx(self, pname: str, accounts: list[str]) -> list[Tx]:
        gas = self.gas_for(len(accounts))
        cap = self.max_gas_usd_per_account
        if cap is not None and self.world.gas_cost_usd(gas, self.priority_fee) > cap * len(accounts):
            return []
        return [Tx(self.address, "absorb", gas, self.priority_fee,
                   partial(self._execute, pname, tuple(accounts), gas), revert_protected=self.private_bundles)]

    # --- executing -----------------------------------------------------------------------

    def _execute(self, pname: str, accounts: tuple[str, ...], gas: int) -> bool:
        world = self.world
        comet = world.protocols[pname]
        now, block = world.now(), world.block
        live = [a for a in accounts if comet.is_liquidatable(now, a)] if self.filter_before_absorb else list(accounts)
        if not live:
            return self._fail(pname, accounts, "NotLiquidatable: already absorbed or healthy again")
        try:
            result = comet.absorb(now, self.address, live, gas_used=gas, base_fee=world.builder.base_fee)
        except CometError as exc:
            return self._fail(pname, accounts, str(exc))
        cost = world.charge_gas(self.address, gas, self.priority_fee)
        world.emit(absorb_records(comet, block, self.name, result, cost))
        return True

    def _fail(self, pname: str, accounts: tuple[str, ...], reason: str) -> bool:
        """Record a failed ``absorb``: dropped unsent in a private bundle, else reverted with
        its gas (charged once, on the first account's record)."""
        world = self.world
        if self.private_bundles:
            reason, gas_usd = f"DROPPED: {reason}", 0
        else:
            reason = f"REVERTED: {reason}"
            gas_usd = world.charge_gas(self.address, self.gas_for(len(accounts)), self.priority_fee)
        world.emit(LiquidationRefused(world.block, pname, self.name, account, reason, gas_usd if k == 0 else 0)
                   for k, account in enumerate(accounts))
        return False
