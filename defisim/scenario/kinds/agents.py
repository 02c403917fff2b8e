"""Agent kinds: ``liquidator`` and ``arbitrageur``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from defisim.engine.agents import Arbitrageur, Liquidator
from defisim.scenario.amounts import TokenAmounts
from defisim.scenario.base import Fraction, Name, StrictModel
from defisim.scenario.kinds._common import Problems, need_name
from defisim.scenario.registry import register

if TYPE_CHECKING:
    from defisim.scenario.assemble import WorldBuilder
    from defisim.scenario.models import ScenarioBase


def _usd_e8(x: float) -> int:
    return round(x * 10**8)


class LiquidatorSpec(StrictModel):
    """A liquidation bot: own capital, optional flash loans, bids a share of profit as tip."""

    kind: Literal["liquidator"]
    name: Name
    protocols: list[str] | None = None
    """Protocols it watches; None: all."""
    capital: TokenAmounts = {}
    flash_loans: bool = True
    bid_share: Fraction = 0.5
    min_profit_usd: Annotated[float, Field(ge=0)] = 1.0
    gas_per_liquidation: Annotated[int, Field(ge=21_000)] = 450_000
    max_txs_per_block: Annotated[int, Field(ge=1)] = 20
    max_evaluations_per_block: Annotated[int, Field(ge=1)] = 40
    private_bundles: bool = True
    """Send through a builder bundle: a failing liquidation is dropped, paying no gas.
    False: public mempool, where a reverted attempt still pays gas."""

    def check(self, scn: ScenarioBase) -> Problems:
        problems: Problems = []
        for i, p in enumerate(self.protocols or []):
            problems += need_name(scn, "protocols", p, f"protocols.{i}", "protocol")
        return problems


def build_liquidator(spec: LiquidatorSpec, wb: WorldBuilder) -> None:
    world = wb.world
    agent = Liquidator(
        world, wb.router, name=spec.name,
        protocols=list(spec.protocols) if spec.protocols is not None else list(world.protocols),
        flash_loans=spec.flash_loans, bid_share=spec.bid_share,
        min_profit_usd=_usd_e8(spec.min_profit_usd), gas_per_liquidation=spec.gas_per_liquidation,
        max_txs_per_block=spec.max_txs_per_block,
        max_evaluations_per_block=spec.max_evaluations_per_block,
        private_bundles=spec.private_bundles,
    )
    for token, amount in spec.capital.items():
        world.ledger.mint(token, agent.address, amount)
    world.add_agent(agent)


class ArbitrageurSpec(StrictModel):
    """Keeps ``pool`` in line with the external ``venue`` when the profit beats gas."""

    kind: Literal["arbitrageur"]
    name: Name
    pool: str
    venue: str
    capital: TokenAmounts = {}
    bid_share: Fraction = 0.5
    min_profit_usd: Annotated[float, Field(ge=0)] = 1.0
    gas: Annotated[int, Field(ge=21_000)] = 150_000
    private_bundles: bool = True
    """Send through a builder bundle (a trade that no longer pays is dropped, free); False:
    public mempool, where a reverted arbitrage still pays gas."""

    def check(self, scn: ScenarioBase) -> Problems:
        pools = {m.name: m for m in scn.markets if m.kind == "uniswap-v2"}
        venues = {m.name: m for m in scn.markets if m.kind == "external-venue"}
        problems: Problems = []
        if self.pool not in pools:
            problems.append(("pool", f"no uniswap-v2 market named {self.pool!r} (known: {', '.join(pools) or 'none'})"))
        if self.venue not in venues:
            problems.append(("venue", f"no external-venue market named {self.venue!r} (known: {', '.join(venues) or 'none'})"))
        if not problems:
            venue = venues[self.venue]
            if set(pools[self.pool].tokens) != {venue.asset, venue.quote}:
                problems.append(("pool", f"pool {self.pool!r} trades {list(pools[self.pool].tokens)}, "
                                 f"venue {self.venue!r} trades {venue.asset}/{venue.quote}"))
        return problems


def build_arbitrageur(spec: ArbitrageurSpec, wb: WorldBuilder) -> None:
    world = wb.world
    agent = Arbitrageur(
        world, name=spec.name, pool=world.markets[spec.pool], venue=world.markets[spec.venue],
        bid_share=spec.bid_share, min_profit_usd=_usd_e8(spec.min_profit_usd), gas=spec.gas,
        private_bundles=spec.private_bundles,
    )
    for token, amount in spec.capital.items():
        world.ledger.mint(token, agent.address, amount)
    world.add_agent(agent)


register("liquidator", "agents", LiquidatorSpec, build_liquidator)
register("arbitrageur", "agents", ArbitrageurSpec, build_arbitrageur)
