"""Protocol kind ``perp`` (a perpetual-futures exchange) and agent kind ``perp-liquidator``.

One ``perp`` entry is one :class:`~defisim.engine.protocols.perp.PerpExchange` settled in one
quote token (USDC), with a market per asset. Each market's mark price is the scenario oracle it
names; liquidations close into the Uniswap V2 pool it names as ``venue`` (through the
exchange's vault, so their price impact is real) and the funding premium reads that pool.
Positions are seeded at block 0 against the vault: generated ``traders`` populations (long /
short share, leverage distribution, isolated share) and hand-written ``accounts``. The
``perp-liquidator`` agent runs the exchange's liquidation engine every block.

```yaml
protocols:
  - kind: perp
    name: perpdex
    quote: USDC
    markets:
      - {name: ETH-PERP, asset: WETH, oracle: eth-usd, venue: weth-usdc,
         initial_margin: 0.05, maintenance_margin: 0.03}
    liquidation: {fee: 0.015, max_fee: 0.015,
                  staged: {threshold_usd: 100000, step: 0.2, cooldown: 30s, backstop: 0.666667}}
    funding: {interval: 1h, sample_every: 1m, premium_divisor: 8, interest_rate: 0.0000125, max_rate: 0.04}
    insurance_fund: {initial: "1000000 USDC"}
    vault: {collateral: "50000000 USDC", inventory: {WETH: "20000 WETH", USDC: "40000000 USDC"}}
    traders:
      - {count: 1000, market: ETH-PERP, long_share: 0.7, isolated_share: 0.5,
         size_usd: {median: 20000, sigma: 1.0}, leverage: {min: 2, max: 20}}
    accounts:
      - {name: whale, collateral: "2000000 USDC", long: {WETH: "3000 WETH"}}
agents:
  - {kind: perp-liquidator, name: engine}
```

Validation names the field: ``maintenance_margin`` must be below ``initial_margin``, fees at
most 5 % and ``fee`` at most ``max_fee``, a population's ``leverage.max`` at most the market's
``1 / initial_margin``, every oracle, venue, token and market reference must exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import (
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from defisim.engine.agents.perp_liquidator import PerpLiquidator
from defisim.engine.clock import Phase
from defisim.engine.protocols.perp import (
    FundingConfig,
    LiquidationConfig,
    MarketParams,
    PerpError,
    PerpExchange,
    StagedLiquidation,
)
from defisim.engine.protocols.perp.config import (
    check_fee,
    check_margin_fraction,
    fraction_to_ppb,
    fraction_to_ppm,
    usd_to_quote_units,
)
from defisim.engine.protocols.perp.constants import PRICE_SCALE
from defisim.engine.protocols.perp.mathlib import margin_requirement_ceil
from defisim.scenario.amounts import Amount, TokenAmounts, parse_amount
from defisim.scenario.base import Fraction, Name, StrictModel, gwei_to_wei
from defisim.scenario.kinds._common import Problems, Seconds, need_name, need_token
from defisim.scenario.populations import LogNormalSize
from defisim.scenario.registry import register

if TYPE_CHECKING:
    from defisim.scenario.assemble import WorldBuilder
    from defisim.scenario.models import ScenarioBase


# --- markets and parameters ---------------------------------------------------------------------

class PerpMarketSpec(StrictModel):
    """One market: its asset, mark-price oracle, venue pool and margin fractions."""

    name: Name
    asset: str
    oracle: str
    """Oracle (by name) whose answer is the mark price; it must price ``asset``."""
    venue: str | None = None
    """Uniswap V2 market (by name) trading ``asset`` against the quote token: liquidations close
    into it and the funding premium reads its price. None: liquidations go to ADL / the vault."""
    initial_margin: float = 0.05
    """Initial margin fraction (dYdX ETH/BTC: 0.05 = 20x max leverage), in (0, 1]."""
    maintenance_margin: float = 0.03
    """Maintenance margin fraction (dYdX ETH/BTC: 0.03; Hyperliquid: half the initial margin at
    max leverage), in (0, initial_margin)."""

    @field_validator("initial_margin")
    @classmethod
    def _initial(cls, v: float) -> float:
        check_margin_fraction(v, "initial_margin")
        return v

    @field_validator("maintenance_margin")
    @classmethod
    def _maintenance(cls, v: float, info: ValidationInfo) -> float:
        check_margin_fraction(v, "maintenance_margin")
        initial = info.data.get("initial_margin")
        if isinstance(initial, float | int) and not v < initial:
            raise ValueError(f"maintenance_margin ({v}) must be below initial_margin ({initial})")
        return v


class PerpStagedSpec(StrictModel):
    """Hyperliquid-style partial liquidation of large positions."""

    threshold_usd: Annotated[float, Field(ge=0)] = 100_000.0
    """Positions above this notional (USD) are cut in steps (Hyperliquid: 100k USDC)."""
    step: float = 0.2
    """Share of the position closed per step, in (0, 1] (Hyperliquid: 20 %)."""
    cooldown: Seconds = 30
    """Wait after a step before the next (Hyperliquid: 30 s)."""
    backstop: Fraction = 0.666667
    """Below this share of the maintenance requirement everything is closed at once, cooldown
    or not (Hyperliquid: 2/3)."""

    @field_validator("step")
    @classmethod
    def _step(cls, v: float) -> float:
        if not 0.0 < v <= 1.0:
            raise ValueError(f"step ({v}) must be in (0, 1], e.g. 0.2")
        fraction_to_ppm(v, "step")
        return v

    @field_validator("backstop")
    @classmethod
    def _backstop(cls, v: float) -> float:
        fraction_to_ppm(v, "backstop")
        return v


class PerpLiquidationSpec(StrictModel):
    """Liquidation fee (to the insurance fund) and staging."""

    max_fee: float = 0.015
    """Protocol cap on the liquidation fee (dYdX v4: 1.5 %), at most 0.05."""
    fee: float = 0.015
    """Fee on the notional closed, paid to the insurance fund from what the account has left;
    at most ``max_fee``."""
    staged: PerpStagedSpec | None = PerpStagedSpec()
    """Partial liquidation of large positions; null closes every position in full."""

    @field_validator("max_fee")
    @classmethod
    def _max_fee(cls, v: float) -> float:
        check_fee(v, "max_fee")
        return v

    @field_validator("fee")
    @classmethod
    def _fee(cls, v: float, info: ValidationInfo) -> float:
        check_fee(v, "fee")
        cap = info.data.get("max_fee")
        if isinstance(cap, float | int) and v > cap:
            raise ValueError(f"fee ({v}) must not exceed max_fee ({cap})")
        return v

    def to_config(self, quote_decimals: int) -> LiquidationConfig:
        staged = None
        if self.staged is not None:
            s = self.staged
            staged = StagedLiquidation(
                threshold=usd_to_quote_units(s.threshold_usd, quote_decimals, "threshold_usd"),
                step_ppm=fraction_to_ppm(s.step, "step"), cooldown_s=s.cooldown,
                backstop_ppm=fraction_to_ppm(s.backstop, "backstop"),
            )
        return LiquidationConfig(check_fee(self.fee, "fee"), check_fee(self.max_fee, "max_fee"), staged)


class PerpFundingSpec(StrictModel):
    """Funding: premium of the venue over the oracle, averaged, / divisor, + interest, clamped."""

    interval: Annotated[Seconds, Field(gt=0)] = 3600
    """Seconds between payments (dYdX v4, Hyperliquid: 1 h)."""
    sample_every: Annotated[Seconds, Field(gt=0)] = 60
    """Seconds between premium samples (dYdX v4: 1 min)."""
    premium_divisor: Annotated[int, Field(ge=1)] = 8
    """The averaged premium is divided by this per payment (dYdX v4, Hyperliquid: 8)."""
    interest_rate: Annotated[float, Field(ge=-0.01, le=0.01)] = 0.0000125
    """Added per payment (Hyperliquid: 0.00125 % per hour; dYdX v4: 0)."""
    max_rate: Annotated[float, Field(ge=0, le=1)] = 0.04
    """Cap on the rate per payment, either sign (Hyperliquid: 4 % per hour)."""

    @field_validator("sample_every")
    @classmethod
    def _sample(cls, v: int, info: ValidationInfo) -> int:
        interval = info.data.get("interval")
        if isinstance(interval, int) and v > interval:
            raise ValueError(f"sample_every ({v} s) must not exceed interval ({interval} s)")
        return v

    @field_validator("interest_rate", "max_rate")
    @classmethod
    def _ppb(cls, v: float, info: ValidationInfo) -> float:
        fraction_to_ppb(v, info.field_name or "rate")
        return v

    def to_config(self) -> FundingConfig:
        return FundingConfig(self.interval, self.sample_every, self.premium_divisor,
                             fraction_to_ppb(self.interest_rate, "interest_rate"),
                             fraction_to_ppb(self.max_rate, "max_rate"))


class PerpInsuranceFundSpec(StrictModel):
    """The insurance fund, held in the quote token (``asset`` defaults to it)."""

    asset: str | None = None
    initial: Amount = 0
    """Starting balance, e.g. ``"1000000 USDC"``."""


class PerpVaultSpec(StrictModel):
    """The exchange's liquidity vault (Hyperliquid's HLP): counterparty of the seeded positions
    and of liquidation fills, which it hedges in the venue pools."""

    collateral: Amount
    """Quote deposited as the vault's margin in the exchange."""
    inventory: TokenAmounts = {}
    """Spot tokens it hedges with: the assets (sold when longs are liquidated) and the quote
    token (spent when shorts are)."""


class PerpLeverageRange(StrictModel):
    """Leverage (notional / margin) drawn per trader from ``distribution`` over [min, max]."""

    min: Annotated[float, Field(ge=1.0)] = 2.0
    max: Annotated[float, Field(ge=1.0)] = 10.0
    distribution: Literal["uniform", "log-uniform"] = "log-uniform"

    @model_validator(mode="after")
    def _ordered(self) -> PerpLeverageRange:
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) must be >= min ({self.min})")
        return self


class PerpTraderPopulation(StrictModel):
    """``count`` traders in ``market``, each with one position opened at block 0 against the
    vault: notional ``size_usd`` (log-normal), leverage from ``leverage``, long with probability
    ``long_share``, isolated margin with probability ``isolated_share`` (else cross)."""

    count: Annotated[int, Field(ge=1, le=10_000_000)]
    market: str
    long_share: Fraction = 0.5
    isolated_share: Fraction = 0.0
    size_usd: LogNormalSize
    leverage: PerpLeverageRange = PerpLeverageRange()
    prefix: Name = "trader"


class PerpAccountSpec(StrictModel):
    """A hand-written account: quote ``collateral`` and positions by asset (``long: {WETH:
    "100 WETH"}``, ``short: {WBTC: "2 WBTC"}``), cross margin unless ``isolated`` (then exactly
    one position)."""

    name: Name
    collateral: Amount = 0
    long: TokenAmounts = {}
    short: TokenAmounts = {}
    isolated: bool = False


class PerpSpec(StrictModel):
    """A perpetual-futures exchange (dYdX v4 / Hyperliquid model, see
    ``defisim.engine.protocols.perp.exchange``)."""

    kind: Literal["perp"]
    name: Name
    quote: str = "USDC"
    """Collateral and settlement token, valued at 1 USD."""
    markets: Annotated[list[PerpMarketSpec], Field(min_length=1)]
    liquidation: PerpLiquidationSpec = PerpLiquidationSpec()
    funding: PerpFundingSpec = PerpFundingSpec()
    insurance_fund: Annotated[PerpInsuranceFundSpec, Field(validate_default=True)] = PerpInsuranceFundSpec()
    """Defaults to an empty fund in the quote token."""
    vault: PerpVaultSpec
    traders: list[PerpTraderPopulation] = []
    accounts: list[PerpAccountSpec] = []

    @field_validator("insurance_fund", "vault", mode="before")
    @classmethod
    def _quote_amounts(cls, value: Any, info: ValidationInfo) -> Any:
        """``initial`` / ``collateral`` are in the quote token: ``"5 WETH"`` there is an error;
        the fund's ``asset`` defaults to the quote token."""
        quote = info.data.get("quote") if info.data else None
        if isinstance(value, PerpInsuranceFundSpec):
            return value if value.asset is not None else value.model_copy(update={"asset": quote})
        value, errors = _parse_quote_fields(value, info, ("initial", "collateral"))
        _raise(errors)
        if info.field_name == "insurance_fund" and isinstance(value, dict):
            value.setdefault("asset", quote)
        return value

    @field_validator("accounts", mode="before")
    @classmethod
    def _account_amounts(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, list):
            return value
        out, errors = [], []
        for j, item in enumerate(value):
            parsed, bad = _parse_quote_fields(item, info, ("collateral",), (j,))
            out.append(parsed)
            errors += bad
        _raise(errors)
        return out

    @model_validator(mode="after")
    def _unique(self) -> PerpSpec:
        names: set[str] = set()
        assets: set[str] = set()
        for m in self.markets:
            if m.name in names:
                raise ValueError(f"market name {m.name!r} is used twice")
            if m.asset in assets:
                raise ValueError(f"asset {m.asset} has two markets (one market per asset)")
            names.add(m.name)
            assets.add(m.asset)
        return self

    def check(self, scn: ScenarioBase) -> Problems:
        problems: Problems = need_token(scn, self.quote, "quote")
        feeds = {o.name: o for o in scn.oracles}
        pools = {m.name: m for m in scn.markets if m.kind == "uniswap-v2"}
        venues: dict[str, str] = {}
        markets = {m.name: m for m in self.markets}
        by_asset = {m.asset: m for m in self.markets}
        for k, m in enumerate(self.markets):
            here = f"markets.{k}"
            problems += need_token(scn, m.asset, f"{here}.asset")
            if m.asset == self.quote:
                problems.append((f"{here}.asset", f"{m.asset} is the quote token"))
            known = need_name(scn, "oracles", m.oracle, f"{here}.oracle", "oracle")
            problems += known
            if not known and feeds[m.oracle].asset != m.asset:
                problems.append((f"{here}.oracle", f"oracle {m.oracle!r} prices {feeds[m.oracle].asset}, not {m.asset}"))
            if m.venue is not None:
                if m.venue not in pools:
                    problems.append((f"{here}.venue", (f"no uniswap-v2 market named {m.venue!r} "
                                                       f"(known: {', '.join(pools) or 'none'})")))
                elif set(pools[m.venue].tokens) != {m.asset, self.quote}:
                    problems.append((f"{here}.venue", (f"pool {m.venue!r} trades {list(pools[m.venue].tokens)}, "
                                                       f"not {m.asset}/{self.quote}")))
                elif m.venue in venues:
                    problems.append((f"{here}.venue", f"pool {m.venue!r} already serves {venues[m.venue]}"))
                venues.setdefault(m.venue, m.name)
        fund_asset = self.insurance_fund.asset
        if fund_asset is not None and fund_asset != self.quote:
            problems.append(("insurance_fund.asset", f"the fund holds the quote token {self.quote}, not {fund_asset}"))
        for token in self.vault.inventory:
            if token != self.quote and token not in by_asset:
                problems.append((f"vault.inventory.{token}", f"{token} is neither the quote token nor a market asset"))
        for i, pop in enumerate(self.traders):
            here = f"traders.{i}"
            market = markets.get(pop.market)
            if market is None:
                problems.append((f"{here}.market", f"no market named {pop.market!r} (markets: {', '.join(markets)})"))
                continue
            max_leverage = 1.0 / market.initial_margin
            if pop.leverage.max > max_leverage * (1 + 1e-12):
                problems.append((f"{here}.leverage.max", (f"{pop.leverage.max} exceeds {pop.market}'s max leverage "
                                                          f"{max_leverage:g} (1 / initial_margin {market.initial_margin})")))
        names = [a.name for a in self.accounts]
        for j, acct in enumerate(self.accounts):
            here = f"accounts.{j}"
            if names.index(acct.name) != j:
                problems.append((f"{here}.name", f"account {acct.name!r} is listed twice"))
            for side in ("long", "short"):
                for asset in getattr(acct, side):
                    if asset not in by_asset:
                        problems.append((f"{here}.{side}.{asset}",
                                         f"no market trades {asset} (assets: {', '.join(by_asset)})"))
            both = set(acct.long) & set(acct.short)
            if both:
                problems.append((here, f"{acct.name} is both long and short {', '.join(sorted(both))}"))
            held = len(acct.long) + len(acct.short)
            if acct.isolated and held != 1:
                problems.append((f"{here}.isolated",
                                 f"an isolated account holds exactly one position, {acct.name} has {held}"))
        return problems


def _parse_quote_fields(value: Any, info: ValidationInfo, fields: tuple[str, ...],
                        loc: tuple[Any, ...] = ()) -> tuple[Any, list[Any]]:
    """Parse ``fields`` of a raw mapping as amounts of the spec's quote token; returns the
    mapping and the line errors (located at ``loc + (field,)``)."""
    if not isinstance(value, dict):
        return value, []
    ctx = info.context or {}
    decimals = dict(ctx.get("decimals") or {})
    unchecked = frozenset(ctx.get("unchecked_tokens") or ())
    quote = info.data.get("quote") if info.data else None
    expected = quote if isinstance(quote, str) and quote in decimals else None
    out = dict(value)
    errors: list[Any] = []
    for field in fields:
        raw = out.get(field)
        if isinstance(raw, str):
            try:
                out[field] = parse_amount(raw, decimals, expected=expected, unchecked=unchecked)
            except ValueError as exc:
                errors.append({"type": PydanticCustomError("amount", "{message}", {"message": str(exc)}),
                               "loc": (*loc, field), "input": raw})
    return out, errors


def _raise(errors: list[Any]) -> None:
    """A ValidationError raised in a validator keeps each line's path (``vault.collateral``)."""
    if errors:
        raise ValidationError.from_exception_data("PerpAmounts", errors)


# --- generated traders ---------------------------------------------------------------------------

def draw_traders(pop: PerpTraderPopulation, *, index: int, price: int, asset_decimals: int,
                 quote_decimals: int, rng: np.random.Generator
                 ) -> list[tuple[str, int, int, bool]]:
    """``(name, size, margin, isolated)`` per trader: size signed asset base units at the mark
    ``price`` (USD 1e8), margin quote base units = notional / leverage.

    Fast layer in, exact layer out: notionals and leverages are numpy draws from the run's
    seed; each is floored to micro-USD once and everything after is integer arithmetic.
    """
    n = pop.count
    notional = pop.size_usd.median * np.exp(pop.size_usd.sigma * rng.standard_normal(n))
    if pop.size_usd.max is not None:
        notional = np.minimum(notional, pop.size_usd.max)
    lo, hi = pop.leverage.min, pop.leverage.max
    u = rng.random(n)
    leverage = lo + (hi - lo) * u if pop.leverage.distribution == "uniform" else lo * (hi / lo) ** u
    long = rng.random(n) < pop.long_share
    isolated = rng.random(n) < pop.isolated_share
    micro_notional = np.floor(notional * 1e6).tolist()
    micro_margin = np.floor(notional / leverage * 1e6).tolist()
    out = []
    for i in range(n):
        size = int(micro_notional[i]) * 10**asset_decimals * PRICE_SCALE // (price * 10**6)
        margin = int(micro_margin[i]) * 10**quote_decimals // 10**6
        out.append((f"{pop.prefix}-{index}-{i}", size if long[i] else -size, margin, bool(isolated[i])))
    return out


# --- building ------------------------------------------------------------------------------------

def build_perp(spec: PerpSpec, wb: WorldBuilder) -> None:
    world = wb.world
    ledger = world.ledger
    where = wb.path_of(spec)
    quote_decimals = ledger.decimals[spec.quote]
    exchange = PerpExchange(
        spec.name, ledger, spec.quote, liquidation=spec.liquidation.to_config(quote_decimals),
        funding=spec.funding.to_config(), created_at=world.now(0),
    )
    params: dict[str, MarketParams] = {}
    for m in spec.markets:
        p = MarketParams(m.name, m.asset, ledger.decimals[m.asset],
                         check_margin_fraction(m.initial_margin, "initial_margin"),
                         check_margin_fraction(m.maintenance_margin, "maintenance_margin"))
        params[m.name] = p
        exchange.add_market(p, world.oracles[m.oracle].latest_answer,
                            world.markets[m.venue] if m.venue is not None else None)
    if spec.insurance_fund.initial:
        ledger.mint(spec.quote, exchange.fund_address, spec.insurance_fund.initial)
    vault = spec.vault
    ledger.mint(spec.quote, exchange.vault_address, vault.collateral)
    exchange.deposit(exchange.vault_address, vault.collateral)
    for token, amount in vault.inventory.items():
        ledger.mint(token, exchange.vault_address, amount)
    for j, acct in enumerate(spec.accounts):
        here = f"{where}.accounts.{j}"
        sizes = {exchange.market_of(a): s for a, s in acct.long.items()}
        sizes.update({exchange.market_of(a): -s for a, s in acct.short.items()})
        isolated_market = next(iter(sizes)) if acct.isolated and sizes else None
        ledger.mint(spec.quote, acct.name, acct.collateral)
        exchange.deposit(acct.name, acct.collateral, isolated_market)
        for market, size in sizes.items():
            try:
                exchange.open_position(acct.name, market, size, isolated=acct.isolated)
            except PerpError as exc:
                wb.fail(here, f"{acct.name} cannot open {size} base units in {market}: {exc}")
    for i, pop in enumerate(spec.traders):
        p = params[pop.market]
        price = exchange.mark_price(pop.market)
        drawn = draw_traders(pop, index=i, price=price, asset_decimals=p.asset_decimals,
                             quote_decimals=quote_decimals, rng=wb.rng("traders", spec.name, i))
        for name, size, margin, isolated in drawn:
            if size == 0:
                continue
            # the draw's margin, raised to the exact initial requirement if flooring fell short
            # (plus the base unit by which a short's value rounds against it on opening)
            need = margin_requirement_ceil(size, price, p.initial_margin_ppm, 10**p.asset_decimals,
                                           10**quote_decimals) + 1
            margin = max(margin, need)
            ledger.mint(spec.quote, name, margin)
            exchange.deposit(name, margin, pop.market if isolated else None)
            try:
                exchange.open_position(name, pop.market, size, isolated=isolated)
            except PerpError as exc:
                wb.fail(f"{where}.traders.{i}", f"{name} cannot open {size} base units in {pop.market}: {exc}")
    key = exchange.vault_key
    equity, need = exchange.equity(key), exchange.initial_requirement(key)
    if equity < need:
        wb.fail(f"{where}.vault.collateral",
                f"the vault takes the other side of every seeded position and needs {need} base units of "
                f"{spec.quote} of initial margin, but has {equity}; deposit more")
    world.add_protocol(spec.name, exchange)
    world.clock.on(Phase.SETTLEMENT, lambda block: world.emit(exchange.on_settlement(block, world.now(block))))


# --- the liquidation engine agent -----------------------------------------------------------------

class PerpLiquidatorSpec(StrictModel):
    """The perp exchanges' liquidation engine (see ``defisim.engine.agents.perp_liquidator``)."""

    kind: Literal["perp-liquidator"]
    name: Name
    exchanges: list[str] | None = None
    """``perp`` protocols it runs for; None: all of them."""
    gas_per_liquidation: Annotated[int, Field(ge=0)] = 0
    """0: the protocol's own engine (no block space, no gas); > 0: a keeper on a shared chain."""
    priority_fee_gwei: Annotated[float, Field(ge=0)] = 100.0
    """Orders the engine's transactions in the block (high: before arbitrageurs)."""
    max_txs_per_block: Annotated[int, Field(ge=1)] = 100

    def check(self, scn: ScenarioBase) -> Problems:
        perps = [p.name for p in scn.protocols if getattr(p, "kind", None) == "perp"]
        problems: Problems = []
        for i, name in enumerate(self.exchanges or []):
            if name not in perps:
                problems.append((f"exchanges.{i}", f"no perp protocol named {name!r} (known: {', '.join(perps) or 'none'})"))
        return problems


def build_perp_liquidator(spec: PerpLiquidatorSpec, wb: WorldBuilder) -> None:
    world = wb.world
    exchanges = list(spec.exchanges) if spec.exchanges is not None else [
        name for name, p in world.protocols.items() if isinstance(p, PerpExchange)
    ]
    world.add_agent(PerpLiquidator(
        world, name=spec.name, exchanges=exchanges, gas_per_liquidation=spec.gas_per_liquidation,
        priority_fee=gwei_to_wei(spec.priority_fee_gwei), max_txs_per_block=spec.max_txs_per_block,
    ))


register("perp", "protocols", PerpSpec, build_perp)
register("perp-liquidator", "agents", PerpLiquidatorSpec, build_perp_liquidator)
