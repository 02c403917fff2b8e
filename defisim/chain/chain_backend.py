"""The chain side of a validation run: real contracts on an Anvil this process started.

Each action is one transaction (after any token mints and approvals it needs) mined in its
own block at the current timestamp: Aave and Morpho read only ``block.timestamp``, so
several blocks at one timestamp behave as one block with those transactions in that order,
and the state after every action can be read. :class:`AdvanceTo` mines an empty block at
the new timestamp so that reads (``eth_call`` on ``latest``) see the new time too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from defisim.chain.anvil import Anvil
from defisim.chain.backend import (
    Action,
    AdvanceTo,
    Borrow,
    CoverDeficit,
    Liquidate,
    LiquidationResult,
    MarketSpec,
    Repay,
    SetPrice,
    Supply,
    SupplyCollateral,
    Withdraw,
)
from defisim.chain.errors import ChainError
from defisim.chain.rpc import LocalNode

__all__ = ["ChainBackend", "Checkpoint"]


@dataclass
class Checkpoint:
    """An ``evm_snapshot`` id plus the backend state that goes with it."""

    snapshot_id: str
    now: int
    accounts: dict[str, str]
    spec: MarketSpec
    funds: dict[str, Any]


class ChainBackend:
    """Real bytecode behind :class:`~defisim.chain.backend.Backend`.

    Starts its own Anvil (or uses ``node``, one this process started) and deploys the
    market of ``spec``. :meth:`checkpoint` / :meth:`restore` wrap ``evm_snapshot`` /
    ``evm_revert`` so many runs can share one deployment.
    """

    name = "chain"

    def __init__(self, spec: MarketSpec, node: LocalNode | None = None) -> None:
        self.spec = spec
        self._anvil: Anvil | None = None
        t0 = time.perf_counter()
        deploy_time = spec.start_time  # reserves initialised at the simulator's creation time
        if node is None:
            self._anvil = Anvil(timestamp=deploy_time).start()
            node = LocalNode(self._anvil.url)
        self.node = node
        try:
            if spec.family == "morpho-blue":
                from defisim.chain.adapters.morpho_blue import MorphoChain

                self.market: Any = MorphoChain.deploy(node, spec, deploy_time)
            else:
                from defisim.chain.adapters.aave_v3 import AaveChain

                self.market = AaveChain.deploy(node, spec, deploy_time)
        except BaseException:
            self.close()
            raise
        self.deploy_s = time.perf_counter() - t0
        self.now = deploy_time
        self.apply(AdvanceTo(spec.start_time))

    # --- state management -------------------------------------------------------------------

    def checkpoint(self) -> Checkpoint:
        """Remember the chain state (and the backend's own) to come back to."""
        return Checkpoint(self.node.snapshot(), self.now, dict(self.market.accounts), self.market.spec,
                          dict(getattr(self.market, "funds", {})))

    def restore(self, mark: Checkpoint) -> None:
        """Return to ``mark``; it stays usable (Anvil drops a snapshot once reverted to)."""
        self.node.revert(mark.snapshot_id)
        mark.snapshot_id = self.node.snapshot()
        self.now = mark.now
        self.market.accounts = dict(mark.accounts)
        self.market.spec = self.spec = mark.spec
        if hasattr(self.market, "funds"):
            self.market.funds = dict(mark.funds)

    def configure(self, reserves: dict[str, Any]) -> None:
        """Aave: set every reserve's parameters (see :meth:`AaveChain.configure`)."""
        self.market.configure(reserves, self.now)
        self.spec = self.market.spec

    # --- actions -----------------------------------------------------------------------------

    def _tx(self, sender: str, contract: Any, fn: str, *args: Any) -> None:
        contract.send(self.market.address(sender), fn, *args)
        self.node.mine(self.now)

    def apply(self, action: Action) -> LiquidationResult | None:
        m = self.market
        match action:
            case AdvanceTo(timestamp=t):
                if t < self.now:
                    raise ChainError(f"time goes forward only ({t} < {self.now})")
                self.now = t
                self.node.mine(t)
            case SetPrice(asset=a, price=p):
                m.oracle_feeds[a].send(m.address("deployer"), "setAnswer", p)
                self.node.mine(self.now)
            case _ if self.spec.family == "morpho-blue":
                return m.apply(action, self.now)
            case Supply(account=acct, asset=a, amount=x):
                m.fund(acct, a, x)
                self._tx(acct, m.pool, "supply", m.tokens[a].address, x, m.address(acct), 0)
            case Borrow(account=acct, asset=a, amount=x):
                self._tx(acct, m.pool, "borrow", m.tokens[a].address, x, 2, 0, m.address(acct))
            case Repay(account=acct, asset=a, amount=x):
                need = x if x != 2**256 - 1 else m.debt_tokens[a].call("balanceOf", m.address(acct))
                m.fund(acct, a, need)
                self._tx(acct, m.pool, "repay", m.tokens[a].address, x, 2, m.address(acct))
            case Withdraw(account=acct, asset=a, amount=x):
                self._tx(acct, m.pool, "withdraw", m.tokens[a].address, x, m.address(acct))
            case SupplyCollateral():
                raise ChainError("SupplyCollateral is a Morpho Blue action")
            case CoverDeficit(payer=who, asset=a, amount=x):
                m.cover_deficit(who, a, x, self.now)
            case Liquidate():
                return self._liquidate(action)
            case _:
                raise ChainError(f"unknown action {action!r}")
        return None

    def _liquidate(self, a: Liquidate) -> LiquidationResult:
        from defisim.chain.adapters.aave_v3 import aave_reason

        m = self.market
        before = m.account_health(a.account)
        need = a.debt_to_cover
        if need == 2**256 - 1:
            need = m.debt_tokens[a.debt_asset].call("balanceOf", m.address(a.account))
        m.fund(a.liquidator, a.debt_asset, need)
        self.node.mine(self.now)
        liq = m.address(a.liquidator)
        coll, debt = m.tokens[a.collateral_asset], m.tokens[a.debt_asset]
        m.pool.send(liq, "liquidationCall", coll.address, debt.address, m.address(a.account),
                    a.debt_to_cover, False)
        (receipt,) = self.node.mine(self.now, check=False)
        if not receipt.ok:
            return LiquidationResult(reason=aave_reason(self.node.revert_reason(receipt.tx_hash)),
                                     health_before=before)
        repaid, seized = m.liquidation_event(receipt)
        return LiquidationResult(
            debt_repaid=repaid,
            collateral_seized=seized,
            protocol_fee=m.fee_transfer(receipt, a.collateral_asset, a.account),
            health_before=before,
            health_after=m.account_health(a.account),
        )

    def snapshot(self) -> object:
        return self.market.snapshot(self.now)

    def close(self) -> None:
        if self._anvil is not None:
            self._anvil.stop()
            self._anvil = None
