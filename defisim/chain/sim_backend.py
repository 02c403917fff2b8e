"""The simulator side of a validation run: the exact Python models behind :class:`Backend`.

Tokens live in a :class:`~defisim.engine.ledger.Ledger`; an account that supplies, repays
or liquidates is minted the tokens it needs first (the chain backend does the same with
mintable test tokens), so both sides start every action from the same balances.
"""

from __future__ import annotations

from typing import Any

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
from defisim.engine.ledger import Ledger
from defisim.engine.protocols.aave_v3.pool import MAX_AMOUNT, AaveError, AavePool

__all__ = ["AAVE_POOL_NAME", "SimulatorBackend"]

AAVE_POOL_NAME = "pool"
"""Ledger holder of the simulated pool's cash."""


class SimulatorBackend:
    """Exact models driven by validation actions (see :mod:`defisim.chain.backend`)."""

    name = "simulator"

    def __init__(self, spec: MarketSpec) -> None:
        self.spec = spec
        self.now = spec.start_time
        self.prices = dict(spec.prices)
        self.ledger = Ledger(dict(spec.tokens))
        self._morpho: Any = None  # MorphoSim for morpho-blue: its actions are contract calls
        if spec.family in ("aave-v3.0", "aave-v3.6"):
            self.protocol: Any = AavePool(
                spec.name, self.ledger, dict(spec.reserves), self.prices.__getitem__,
                treasury=spec.treasury, created_at=spec.start_time,
                version=spec.family.removeprefix("aave-v"),
            )
        else:
            from defisim.chain.morpho_sim import MorphoSim, make_morpho

            self.protocol = make_morpho(spec, self.ledger, self.prices)
            self._morpho = MorphoSim(self.protocol, self._fund)

    # --- actions -----------------------------------------------------------------------------

    def _fund(self, account: str, asset: str, amount: int) -> None:
        have = self.ledger.balance_of(asset, account)
        if amount > have:
            self.ledger.mint(asset, account, amount - have)

    def apply(self, action: Action) -> LiquidationResult | None:
        p = self.protocol
        match action:
            case AdvanceTo(timestamp=t):
                if t < self.now:
                    raise ChainError(f"time goes forward only ({t} < {self.now})")
                self.now = t
            case SetPrice(asset=a, price=price):
                self.prices[a] = price
                if hasattr(p, "prices_changed"):
                    p.prices_changed()
            case _ if self._morpho is not None:
                return self._morpho.apply(action, self.now)
            case Supply(account=acct, asset=a, amount=x):
                self._fund(acct, a, x)
                p.supply(self.now, acct, a, x)
            case SupplyCollateral():
                raise ChainError("SupplyCollateral is a Morpho Blue action")
            case Borrow(account=acct, asset=a, amount=x):
                p.borrow(self.now, acct, a, x)
            case Repay(account=acct, asset=a, amount=x):
                self._fund(acct, a, self._repay_need(acct, a, x))
                p.repay(self.now, acct, a, x)
            case Withdraw(account=acct, asset=a, amount=x):
                p.withdraw(self.now, acct, a, x)
            case CoverDeficit(payer=who, asset=a, amount=x):
                self._fund(who, a, p.deficit_cover_cost(self.now, who, a, x))
                p.eliminate_deficit(self.now, who, a, x)
            case Liquidate():
                return self._liquidate(action)
            case _:
                raise ChainError(f"unknown action {action!r}")
        return None

    def _repay_need(self, account: str, asset: str, amount: int) -> int:
        if amount != MAX_AMOUNT:
            return amount
        return self.protocol.debt_of(self.now, account, asset)

    def _liquidate(self, a: Liquidate) -> LiquidationResult:
        p = self.protocol
        before = p.account_data(self.now, a.account).health_factor
        need = a.debt_to_cover
        if need == MAX_AMOUNT:
            need = p.debt_of(self.now, a.account, a.debt_asset)
        self._fund(a.liquidator, a.debt_asset, need)
        try:
            out = p.liquidation_call(self.now, a.liquidator, a.collateral_asset, a.debt_asset,
                                     a.account, a.debt_to_cover)
        except AaveError as exc:  # pragma: no cover - liquidation_call returns refusals
            return LiquidationResult(reason=exc.reason)
        if not hasattr(out, "debt_repaid"):
            return LiquidationResult(reason=out.reason, health_before=before)
        return LiquidationResult(
            debt_repaid=out.debt_repaid, collateral_seized=out.collateral_seized,
            protocol_fee=out.protocol_fee, health_before=out.health_before,
            health_after=out.health_after,
        )

    def snapshot(self) -> object:
        return self.protocol.snapshot(self.now)

    def close(self) -> None:
        pass
