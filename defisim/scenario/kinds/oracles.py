"""Oracle kinds: ``chainlink`` push feeds, ``osm`` delayed prices, ``twap`` and ``amm-spot``.

``source`` of a push or delayed oracle is ``reference`` (the exogenous price path of the
asset), the name of an ``external-venue`` market for the asset (its price including the impact
of simulated trades), or the name of another oracle listed before it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from defisim.engine.oracles.amm_spot import AmmSpotOracle
from defisim.engine.oracles.chainlink import ChainlinkFeed
from defisim.engine.oracles.delayed import DelayedOracle
from defisim.engine.oracles.twap import TwapOracle
from defisim.scenario.base import Name, StrictModel, fraction_to_bps
from defisim.scenario.kinds._common import (
    Problems,
    Seconds,
    names,
    need_name,
    need_token,
)
from defisim.units import price_to_e8

if TYPE_CHECKING:
    from defisim.scenario.assemble import WorldBuilder
    from defisim.scenario.models import ScenarioBase

from defisim.scenario.registry import register


class _SourcedOracle(StrictModel):
    name: Name
    asset: str
    source: str = "reference"

    def check(self, scn: ScenarioBase) -> Problems:
        problems = need_token(scn, self.asset, "asset")
        if self.source == "reference":
            if self.asset not in scn.prices.assets:
                problems.append(("source", f"{self.asset!r} has no reference price in prices.assets"))
            return problems
        venues = {m.name: m for m in scn.markets if m.kind == "external-venue"}
        earlier = [o.name for o in scn.oracles[: [o.name for o in scn.oracles].index(self.name)]]
        if self.source in venues:
            if venues[self.source].asset != self.asset:
                problems.append(("source", f"venue {self.source!r} trades "
                                 f"{venues[self.source].asset}, not {self.asset}"))
        elif self.source not in earlier:
            problems.append((
                "source",
                f"{self.source!r} is not 'reference', an external-venue market, or an oracle "
                f"listed before this one (venues: {', '.join(venues) or 'none'}; "
                f"earlier oracles: {', '.join(earlier) or 'none'})",
            ))
        return problems

    def source_fn(self, wb: WorldBuilder) -> Callable[[int], int]:
        """``block -> price`` (USD, 8 decimals) read from the configured source."""
        world = wb.world
        if self.source == "reference":
            return lambda block, a=self.asset: world.reference_e8(a, block)
        if self.source in world.markets:
            venue = world.markets[self.source]
            return lambda block: price_to_e8(venue.price(block))
        oracle = world.oracles[self.source]
        return lambda block: oracle.latest_answer()


class ChainlinkSpec(_SourcedOracle):
    """Push feed: a new round when the price moves ``deviation`` or ``heartbeat`` passes."""

    kind: Literal["chainlink"]
    deviation: Annotated[float, Field(gt=0, lt=1)] = 0.005
    heartbeat: Seconds = 3600
    latency_blocks: Annotated[int, Field(ge=0, le=100)] = 1


def build_chainlink(spec: ChainlinkSpec, wb: WorldBuilder) -> None:
    feed = ChainlinkFeed(
        spec.name, spec.asset, spec.source_fn(wb),
        deviation_bps=fraction_to_bps(spec.deviation, "deviation"),
        heartbeat_s=spec.heartbeat, latency_blocks=spec.latency_blocks,
    )
    wb.world.add_oracle(spec.name, feed)


class OsmSpec(_SourcedOracle):
    """Maker OSM-style delayed price: what the source said one ``hop`` ago."""

    kind: Literal["osm"]
    hop: Seconds = 3600


def build_osm(spec: OsmSpec, wb: WorldBuilder) -> None:
    wb.world.add_oracle(spec.name, DelayedOracle(spec.name, spec.asset, spec.source_fn(wb), hop_s=spec.hop))


class _PoolOracle(StrictModel):
    name: Name
    asset: str
    pool: str
    quote_oracle: str | None = None
    """Oracle pricing the pool's other token in USD; None: it is a $1 stablecoin."""

    def check(self, scn: ScenarioBase) -> Problems:
        problems = need_token(scn, self.asset, "asset")
        pools = {m.name: m for m in scn.markets if m.kind == "uniswap-v2"}
        if self.pool not in pools:
            problems.append(("pool", f"no uniswap-v2 market named {self.pool!r} "
                             f"(known: {', '.join(pools) or 'none'})"))
        elif self.asset not in pools[self.pool].tokens:
            problems.append(("pool", f"pool {self.pool!r} does not hold {self.asset}"))
        if self.quote_oracle is not None:
            problems += need_name(scn, "oracles", self.quote_oracle, "quote_oracle", "oracle")
            if self.quote_oracle in names(scn, "oracles"):
                order = [o.name for o in scn.oracles]
                if order.index(self.quote_oracle) > order.index(self.name):
                    problems.append(("quote_oracle", f"{self.quote_oracle!r} must be listed before {self.name!r}"))
        return problems

    def quote_fn(self, wb: WorldBuilder) -> Callable[[], int]:
        if self.quote_oracle is None:
            return lambda: 10**8
        oracle = wb.world.oracles[self.quote_oracle]
        return oracle.latest_answer


class TwapSpec(_PoolOracle):
    """Time-weighted average of a Uniswap V2 pool's price over ``window``."""

    kind: Literal["twap"]
    window: Seconds = 1800


def build_twap(spec: TwapSpec, wb: WorldBuilder) -> None:
    pool = wb.world.markets[spec.pool]
    wb.world.add_oracle(spec.name, TwapOracle(spec.name, spec.asset, pool, spec.window, spec.quote_fn(wb)))


class AmmSpotSpec(_PoolOracle):
    """The pool's spot price every block (manipulable)."""

    kind: Literal["amm-spot"]


def build_amm_spot(spec: AmmSpotSpec, wb: WorldBuilder) -> None:
    pool = wb.world.markets[spec.pool]
    wb.world.add_oracle(spec.name, AmmSpotOracle(spec.name, spec.asset, pool, spec.quote_fn(wb)))


register("chainlink", "oracles", ChainlinkSpec, build_chainlink)
register("osm", "oracles", OsmSpec, build_osm)
register("twap", "oracles", TwapSpec, build_twap)
register("amm-spot", "oracles", AmmSpotSpec, build_amm_spot)
