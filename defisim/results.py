"""Run results: the record log, reference paths, provenance, and the summary derived from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from defisim.engine.records import (
    ArbitrageExecuted,
    BadDebtRealized,
    BadDebtSocialized,
    BlockBuilt,
    InsuranceFundDrawn,
    InsuranceFundFunded,
    LiquidationRefused,
    PositionLiquidated,
    PriceUpdated,
    RecordLog,
    SwapExecuted,
    TokensBurned,
    TransactionReverted,
)

if TYPE_CHECKING:
    import pandas as pd

    from defisim.engine.world import World
    from defisim.pricepaths import PricePaths
    from defisim.scenario.models import ScenarioBase

USD = 10**8


@dataclass(frozen=True, slots=True)
class PoolInfo:
    """What the summary needs to turn pool reserves into a price: tokens and decimals."""

    token0: str
    token1: str
    decimals0: int
    decimals1: int
    initial_reserves: tuple[int, int]


@dataclass(eq=False)
class Result:
    """Everything one run produced. ``records`` is the source of every other figure."""

    scenario: ScenarioBase
    seed: int
    blocks: int
    records: RecordLog
    reference: PricePaths
    pools: dict[str, PoolInfo]
    protocols: list[str]
    gas_spent_usd: dict[str, int]
    token_supply: dict[str, int]
    meta: dict[str, Any] = field(default_factory=dict)
    world: World | None = field(default=None, repr=False)
    graphs: dict[int, Any] = field(default_factory=dict, repr=False)
    """Exposure graphs (:class:`~defisim.graph.io.ExposureGraph`) by block, taken when
    ``simulate(..., graph_blocks=...)`` asked for them; see :func:`defisim.graph.from_state.graph_at`."""

    @cached_property
    def summary(self) -> dict[str, Any]:
        """Headline figures per protocol and for the run (JSON-ready).

        USD figures are floats rounded to cents; token amounts (``*_base_units``) are exact
        ints of base units. Agents' ``profit_usd`` is net of all gas they paid, including for
        reverted transactions.
        """
        return summarize(self)

    def to_frame(self) -> pd.DataFrame:
        """All records as a DataFrame: one row per record, a ``record`` column with its type."""
        import pandas as pd

        return pd.DataFrame([r.as_dict() for r in self.records])

    def amm_price_series(self, pool: str) -> tuple[np.ndarray, np.ndarray]:
        """(blocks, price of token0 in whole token1) after every swap, starting at block 0."""
        info = self.pools[pool]
        blocks = [0]
        prices = [_pool_price(info, *info.initial_reserves)]
        for r in self.records.of_type(SwapExecuted):
            if r.pool == pool:
                blocks.append(r.block)
                prices.append(_pool_price(info, r.reserve0, r.reserve1))
        return np.asarray(blocks), np.asarray(prices)

    def oracle_price_series(self, oracle: str) -> tuple[np.ndarray, np.ndarray]:
        """(blocks, USD price) of every round the oracle published."""
        rows = [(r.block, r.price / USD) for r in self.records.of_type(PriceUpdated) if r.oracle == oracle]
        if not rows:
            return np.zeros(0, dtype=int), np.zeros(0)
        b, p = zip(*rows, strict=True)
        return np.asarray(b), np.asarray(p)


def _pool_price(info: PoolInfo, reserve0: int, reserve1: int) -> float:
    if reserve0 == 0:
        return float("nan")
    return (reserve1 / 10**info.decimals1) / (reserve0 / 10**info.decimals0)


def _usd(x: int) -> float:
    return round(x / USD, 2)


def summarize(result: Result) -> dict[str, Any]:
    """Summary figures (see :attr:`Result.summary`)."""
    log = _ByType(result.records)
    liqs = log.of_type(PositionLiquidated)
    per_protocol: dict[str, dict[str, Any]] = {}
    for name in result.protocols:
        mine = [r for r in liqs if r.protocol == name]
        blocks = [r.block for r in mine]
        burned: dict[str, int] = {}
        for r in log.of_type(TokensBurned):
            if r.protocol == name:
                burned[r.token] = burned.get(r.token, 0) + r.amount
        per_protocol[name] = {
            "liquidations": len(mine),
            "failed_liquidation_attempts": sum(1 for r in log.of_type(LiquidationRefused) if r.protocol == name),
            "accounts_liquidated": len({r.account for r in mine}),
            "debt_repaid_usd": _usd(sum(r.debt_repaid_usd for r in mine)),
            "collateral_seized_usd": _usd(sum(r.collateral_seized_usd for r in mine)),
            "bad_debt_usd": _usd(sum(r.amount_usd for r in log.of_type(BadDebtRealized) if r.protocol == name)),
            "insurance_fund_funded_base_units": _sum_by_asset(log.of_type(InsuranceFundFunded), name),
            "insurance_fund_drawn_usd": _usd(sum(r.amount_usd for r in log.of_type(InsuranceFundDrawn) if r.protocol == name)),
            "socialized_usd": _usd(sum(r.amount_usd for r in log.of_type(BadDebtSocialized) if r.protocol == name)),
            "tokens_burned_base_units": burned,
            "first_liquidation_block": min(blocks) if blocks else None,
            "last_liquidation_block": max(blocks) if blocks else None,
        }
    agents: dict[str, dict[str, Any]] = {}

    def agent(name: str) -> dict[str, Any]:
        return agents.setdefault(name, {"liquidations": 0, "arbitrages": 0, "failed_paid_gas": 0,
                                        "profit_usd": 0})

    for r in liqs:
        agent(r.liquidator)["liquidations"] += 1
        agent(r.liquidator)["profit_usd"] += r.profit_usd
    for r in log.of_type(LiquidationRefused):
        if r.gas_cost_usd:  # a reverted public transaction: its gas is a loss
            agent(r.liquidator)["failed_paid_gas"] += 1
            agent(r.liquidator)["profit_usd"] -= r.gas_cost_usd
    for r in log.of_type(ArbitrageExecuted):
        agent(r.agent)["arbitrages"] += 1
        agent(r.agent)["profit_usd"] += r.profit_usd
    for r in log.of_type(TransactionReverted):
        name = r.sender.split(":", 1)[-1]
        agent(name)["failed_paid_gas"] += 1
        agent(name)["profit_usd"] -= r.gas_cost_usd
    for a in agents.values():
        a["profit_usd"] = _usd(a["profit_usd"])
    oracles: dict[str, dict[str, float]] = {}
    for r in log.of_type(PriceUpdated):
        o = oracles.setdefault(r.oracle, {"asset": r.asset, "rounds": 0, "min_price": r.price / USD})
        o["rounds"] += 1
        o["min_price"] = min(o["min_price"], r.price / USD)
    pools = {}
    for name in result.pools:
        _, prices = result.amm_price_series(name)
        info = result.pools[name]
        pools[name] = {"pair": f"{info.token0}/{info.token1}", "min_price": float(np.nanmin(prices)),
                       "start_price": float(prices[0]), "end_price": float(prices[-1])}
    built = log.of_type(BlockBuilt)
    return {
        "scenario": result.scenario.name,
        "scenario_digest": result.meta.get("scenario_digest"),
        "seed": result.seed,
        "blocks": result.blocks,
        "version": result.meta.get("version"),
        "protocols": per_protocol,
        "totals": {
            "liquidations": len(liqs),
            "debt_repaid_usd": _usd(sum(r.debt_repaid_usd for r in liqs)),
            "bad_debt_usd": _usd(sum(r.amount_usd for r in log.of_type(BadDebtRealized))),
        },
        "oracles": oracles,
        "pools": pools,
        "reference_min": {a: float(np.min(result.reference.of(a))) for a in result.reference.assets},
        "agents": agents,
        "gas": {
            "max_base_fee_gwei": max((b.base_fee for b in built), default=0) / 1e9,
            "deferred_transactions": sum(b.deferred for b in built),
            "spent_usd": {k: _usd(v) for k, v in sorted(result.gas_spent_usd.items())},
        },
        "token_supply": {k: str(v) for k, v in result.token_supply.items()},
    }


def _sum_by_asset(records: list[InsuranceFundFunded], protocol: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in records:
        if r.protocol == protocol:
            out[r.asset] = out.get(r.asset, 0) + r.amount
    return out


class _ByType:
    """The record log grouped by record type once, so each figure reads only its records."""

    def __init__(self, records: RecordLog) -> None:
        self._groups: dict[type, list[Any]] = {}
        for record in records:
            self._groups.setdefault(type(record), []).append(record)

    def of_type(self, cls: type) -> list[Any]:
        """Records of exactly ``cls`` (record types are not subclassed), in log order."""
        return self._groups.get(cls, [])
