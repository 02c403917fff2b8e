"""Market kinds: ``uniswap-v2`` pools and ``external-venue`` (a deep CEX-like market)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, model_validator

from defisim.engine.markets.external_venue import ExternalVenue
from defisim.engine.markets.uniswap_v2 import UniswapV2Pool
from defisim.scenario.amounts import TokenAmounts
from defisim.scenario.base import Name, StrictModel
from defisim.scenario.kinds._common import Problems, need_token
from defisim.scenario.registry import register

if TYPE_CHECKING:
    from defisim.scenario.assemble import WorldBuilder
    from defisim.scenario.models import ScenarioBase


class UniswapV2Spec(StrictModel):
    """A Uniswap V2 constant-product pool seeded with ``liquidity`` of both tokens."""

    kind: Literal["uniswap-v2"]
    name: Name
    tokens: tuple[str, str]
    liquidity: TokenAmounts
    fee_bps: Annotated[int, Field(ge=0, lt=10_000)] = 30

    @model_validator(mode="after")
    def _liquidity_matches_tokens(self) -> UniswapV2Spec:
        if self.tokens[0] == self.tokens[1]:
            raise ValueError(f"tokens must differ, got {self.tokens[0]} twice")
        if set(self.liquidity) != set(self.tokens):
            raise ValueError(
                f"liquidity must give both pool tokens {list(self.tokens)}, got {list(self.liquidity)}"
            )
        if any(v <= 0 for v in self.liquidity.values()):
            raise ValueError("liquidity amounts must be > 0")
        return self

    def check(self, scn: ScenarioBase) -> Problems:
        return need_token(scn, self.tokens[0], "tokens.0") + need_token(scn, self.tokens[1], "tokens.1")


def build_uniswap_v2(spec: UniswapV2Spec, wb: WorldBuilder) -> None:
    world = wb.world
    pool = UniswapV2Pool(spec.name, spec.tokens[0], spec.tokens[1], world.ledger, spec.fee_bps)
    provider = f"lp:{spec.name}"
    a0, a1 = spec.liquidity[spec.tokens[0]], spec.liquidity[spec.tokens[1]]
    world.ledger.mint(spec.tokens[0], provider, a0)
    world.ledger.mint(spec.tokens[1], provider, a1)
    pool.add_liquidity(provider, a0, a1, world.now(0))
    world.add_market(spec.name, pool)


class ExternalVenueSpec(StrictModel):
    """A deep external market for ``asset`` against a $1 ``quote`` token, with price impact."""

    kind: Literal["external-venue"]
    name: Name
    asset: str
    quote: str
    depth_usd: Annotated[float, Field(gt=0)]
    """USD notional that moves the log price by ``impact_k`` (sqrt curve) or by 1 (linear)."""
    curve: Literal["sqrt", "linear"] = "linear"
    """Impact curve. ``linear`` is the no-arbitrage choice for permanent impact (a trade split
    in pieces moves the price as much as the whole); ``sqrt`` applies per trade, so many small
    trades move the price more than one large one — use it for a few large orders only."""
    impact_k: Annotated[float, Field(gt=0)] = 1.0
    half_life_blocks: Annotated[float, Field(gt=0)] = 300.0
    stress_depth_cut: Annotated[float, Field(ge=0)] = 0.0
    inventory: TokenAmounts | None = None
    """Venue inventory of asset and quote; default: 10x depth in USD of each."""

    def check(self, scn: ScenarioBase) -> Problems:
        problems = need_token(scn, self.asset, "asset") + need_token(scn, self.quote, "quote")
        if self.asset not in scn.prices.assets:
            problems.append(("asset", f"{self.asset!r} has no reference price in prices.assets"))
        return problems


def build_external_venue(spec: ExternalVenueSpec, wb: WorldBuilder) -> None:
    world = wb.world
    venue = ExternalVenue(
        spec.name, spec.asset, spec.quote, world.ledger,
        lambda block, asset=spec.asset: world.reference_price(asset, block),
        spec.depth_usd, spec.curve, spec.half_life_blocks, spec.stress_depth_cut,
        impact_k=spec.impact_k, start_block=0,
    )
    inventory = spec.inventory
    if inventory is None:
        start_price = world.reference_price(spec.asset, 0)
        inventory = {
            spec.asset: int(10 * spec.depth_usd / start_price) * world.ledger.unit(spec.asset),
            spec.quote: int(10 * spec.depth_usd) * world.ledger.unit(spec.quote),
        }
    for token, amount in inventory.items():
        world.ledger.mint(token, venue.address, amount)
    world.add_market(spec.name, venue)


register("uniswap-v2", "markets", UniswapV2Spec, build_uniswap_v2)
register("external-venue", "markets", ExternalVenueSpec, build_external_venue)
