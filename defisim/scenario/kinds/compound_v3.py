"""Compound III (Comet) kinds: the ``compound-v3`` protocol and its two keepers.

``compound-v3`` is one :class:`~defisim.engine.protocols.compound_v3.Comet` market: one base
token that is lent and borrowed, several collaterals with borrow / liquidate collateral
factors and a liquidation factor, the kinked supply and borrow curves, the store front
(``store_front_price_factor``, ``target_reserves``) and the starting reserves. ``oracles`` maps
the base and every collateral to a USD oracle (the Comet price feeds). ``suppliers`` lends base
tokens from ``supplier:<name>``; ``borrowers`` are generated populations (the ``aave-v3``
model, with the liquidate collateral factor as threshold and the borrow collateral factor as
borrowing limit); ``accounts`` are hand-written positions.

``absorber`` (keeper calling ``absorb``) and ``collateral-buyer`` (buys absorbed collateral at
the store-front discount and sells it on the AMMs) act on ``compound-v3`` protocols only.

```yaml
- kind: compound-v3
  name: comet
  base: USDC
  oracles: {USDC: usdc-usd, WETH: eth-usd}
  collaterals:
    WETH: {borrow_collateral_factor: 0.82, liquidate_collateral_factor: 0.90, liquidation_factor: 0.95}
  store_front_price_factor: 0.5
  target_reserves: "5000000 USDC"
  initial_reserves: "6000000 USDC"
  base_borrow_min: "100 USDC"
  suppliers: "100000000 USDC"
  borrowers:
    - {count: 500, collateral: {WETH: 1.0}, debt: USDC, size_usd: {median: 20000}}
```
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from defisim.engine.agents.comet_absorber import CometAbsorber
from defisim.engine.agents.comet_buyer import CometCollateralBuyer
from defisim.engine.protocols.compound_v3 import (
    AssetConfig,
    Comet,
    CometConfiguration,
    CometError,
)
from defisim.engine.protocols.compound_v3.config import (
    CollateralParams,
    RateParams,
    factor,
)
from defisim.engine.protocols.compound_v3.constants import PACKED_ASSETS
from defisim.scenario.amounts import AMOUNT_JSON_SCHEMA, TokenAmounts, parse_amount
from defisim.scenario.base import Fraction, Name, StrictModel
from defisim.scenario.kinds._common import Problems, need_name, need_token
from defisim.scenario.populations import BorrowerPopulation, draw_population
from defisim.scenario.registry import register

if TYPE_CHECKING:
    from defisim.scenario.assemble import WorldBuilder
    from defisim.scenario.models import ScenarioBase

KIND = "compound-v3"


@dataclass(frozen=True, slots=True)
class ReservesAsFund:
    """Comet's reserves are its insurance fund: what reports read as ``insurance_fund``."""

    asset: str
    initial: int


class CometAccountSpec(StrictModel):
    """A hand-written account: ``collateral`` supplied per asset, ``borrow`` base tokens
    withdrawn against it, ``supply`` base tokens lent. Amounts are base units or ``"2.5 WETH"``
    in the right token (``borrow``/``supply`` in the base token)."""

    name: Name
    collateral: TokenAmounts = {}
    borrow: int = 0
    supply: int = 0


def _ctx(info: ValidationInfo) -> tuple[dict[str, int], frozenset[str]]:
    ctx = info.context or {}
    return dict(ctx.get("decimals") or {}), frozenset(ctx.get("unchecked_tokens") or ())


def _base_amount(value: Any, info: ValidationInfo) -> int:
    """An amount in the spec's ``base`` token (``"5000000 USDC"``); when the base itself is
    unknown, ``check`` reports that once instead of every amount complaining."""
    decimals, unchecked = _ctx(info)
    base = info.data.get("base") if info.data else None
    expected = base if isinstance(base, str) and base in decimals else None
    return parse_amount(value, decimals, expected=expected, unchecked=unchecked)


BaseAmount = Annotated[int, BeforeValidator(_base_amount), WithJsonSchema(AMOUNT_JSON_SCHEMA)]
"""Base units of the market's base token; the file may say ``"100 USDC"``."""


class CompoundV3Spec(StrictModel):
    """A Compound III (Comet) market, mirrored from compound-finance/comet ``Comet.sol``."""

    kind: Literal["compound-v3"]
    name: Name
    base: str
    """The base token (lent and borrowed), e.g. USDC; 6 to 18 decimals."""
    oracles: dict[str, str]
    """Token -> USD oracle name, for the base and every collateral (the Comet price feeds)."""
    collaterals: Annotated[dict[str, CollateralParams], Field(min_length=1)]
    """Collateral token -> ``borrow_collateral_factor``, ``liquidate_collateral_factor``,
    ``liquidation_factor``, optional ``supply_cap`` (at most 12 collaterals)."""
    rates: RateParams = RateParams()
    store_front_price_factor: float = 0.5
    """Share of the liquidation penalty ``1 - liquidation_factor`` given to buyers as a
    discount, in [0, 1] (0.5 with factor 0.95: buyers pay 97.5 % of the feed price)."""
    target_reserves: BaseAmount = 0
    """Collateral is sold only while ``getReserves()`` is below this (base units)."""
    initial_reserves: BaseAmount = 0
    """Base tokens the market holds beyond its suppliers at start (its reserves)."""
    base_borrow_min: BaseAmount = 0
    """Smallest borrow (``baseBorrowMin``); generated borrowers below it only post collateral."""
    suppliers: BaseAmount = 0
    """Base tokens lent by ``supplier:<name>``."""
    borrowers: list[BorrowerPopulation] = []
    accounts: list[CometAccountSpec] = []

    @property
    def insurance_fund(self) -> ReservesAsFund:
        """The reserves in the role of an insurance fund (base token, ``initial_reserves``):
        absorptions draw on them (``InsuranceFundDrawn``)."""
        return ReservesAsFund(self.base, self.initial_reserves)

    @field_validator("store_front_price_factor")
    @classmethod
    def _store_front(cls, v: float) -> float:
        factor(v, "store_front_price_factor", low=0.0, high=1.0)
        return v

    @field_validator("collaterals", mode="before")
    @classmethod
    def _caps(cls, value: Any, info: ValidationInfo) -> Any:
        """Parse each ``supply_cap`` in its own collateral's token (``"1000 WETH"``)."""
        if not isinstance(value, dict):
            return value
        decimals, unchecked = _ctx(info)
        out: dict[Any, Any] = {}
        for asset, params in value.items():
            if isinstance(params, dict) and isinstance(params.get("supply_cap"), str):
                params = dict(params)
                expected = asset if isinstance(asset, str) and asset in decimals else None
                params["supply_cap"] = parse_amount(params["supply_cap"], decimals, expected=expected,
                                                    unchecked=unchecked)
            out[asset] = params
        return out

    @field_validator("accounts", mode="before")
    @classmethod
    def _account_amounts(cls, value: Any, info: ValidationInfo) -> Any:
        """Parse each account's ``borrow`` and ``supply`` in the base token."""
        if not isinstance(value, list):
            return value
        decimals, unchecked = _ctx(info)
        base = info.data.get("base")
        expected = base if isinstance(base, str) and base in decimals else None
        out = []
        for item in value:
            if isinstance(item, dict):
                item = dict(item)
                for field in ("borrow", "supply"):
                    if field in item:
                        item[field] = parse_amount(item[field], decimals, expected=expected, unchecked=unchecked)
            out.append(item)
        return out

    @model_validator(mode="after")
    def _base_not_collateral(self) -> CompoundV3Spec:
        if self.base in self.collaterals:
            raise ValueError(f"collaterals.{self.base}: the base token {self.base} cannot also be a collateral")
        if len(self.collaterals) > PACKED_ASSETS:
            raise ValueError(f"collaterals: {len(self.collaterals)} given, Comet.sol supports at most {PACKED_ASSETS}")
        return self

    def check(self, scn: ScenarioBase) -> Problems:
        problems: Problems = []
        feeds = {o.name: o for o in scn.oracles}
        known_base = need_token(scn, self.base, "base")
        problems += known_base
        if not known_base and not 6 <= scn.tokens[self.base].decimals <= 18:
            decimals = scn.tokens[self.base].decimals
            message = f"{self.base} has {decimals} decimals; Comet's base token needs 6 to 18 (BadDecimals)"
            problems.append(("base", message))
        for asset, oracle in self.oracles.items():
            problems += need_token(scn, asset, f"oracles.{asset}")
            problems += need_name(scn, "oracles", oracle, f"oracles.{asset}", "oracle")
            if oracle in feeds and feeds[oracle].asset != asset:
                problems.append((f"oracles.{asset}", f"oracle {oracle!r} prices {feeds[oracle].asset}, not {asset}"))
            if asset != self.base and asset not in self.collaterals:
                problems.append((f"oracles.{asset}", f"{asset} is neither the base nor a collateral of {self.name}"))
        for asset in self.collaterals:
            problems += need_token(scn, asset, f"collaterals.{asset}")
        for token, field in [(self.base, "base")] + [(a, f"collaterals.{a}") for a in self.collaterals]:
            if token in scn.tokens and token not in self.oracles:
                problems.append((field, f"{token} has no oracle: add it to {self.name}.oracles"))
        for i, pop in enumerate(self.borrowers):
            path = f"borrowers.{i}"
            for asset in pop.collateral:
                if asset not in self.collaterals:
                    problems.append((f"{path}.collateral.{asset}", f"{asset} is not a collateral of {self.name}"))
            if pop.debt != self.base:
                problems.append((f"{path}.debt", f"must be {self.base}: {self.name} lends only its base token"))
            for token in [*pop.collateral, self.base]:
                if token in scn.tokens and token not in scn.prices.assets:
                    problems.append((path, f"{token} needs a reference price to size positions"))
        names = [a.name for a in self.accounts]
        for j, acct in enumerate(self.accounts):
            if names.index(acct.name) != j:
                problems.append((f"accounts.{j}.name", f"account {acct.name!r} is listed twice"))
            for token in acct.collateral:
                if token not in self.collaterals:
                    problems.append((f"accounts.{j}.collateral.{token}", f"{token} is not a collateral of {self.name}"))
            if acct.borrow and not acct.collateral:
                problems.append((f"accounts.{j}", f"{acct.name} borrows without collateral"))
        return problems


def build_compound_v3(spec: CompoundV3Spec, wb: WorldBuilder) -> None:
    world = wb.world
    ledger = world.ledger
    where = wb.path_of(spec)
    now = world.now(0)
    base = spec.base
    assets = tuple(
        AssetConfig(asset, spec.oracles[asset], ledger.decimals[asset], *p.factors(), p.cap(ledger.decimals[asset]))
        for asset, p in spec.collaterals.items()
    )
    rates = spec.rates.ints()
    config = CometConfiguration(
        base_token=base, base_token_price_feed=spec.oracles[base],
        store_front_price_factor=factor(spec.store_front_price_factor, "store_front_price_factor", low=0.0, high=1.0),
        target_reserves=spec.target_reserves, base_borrow_min=spec.base_borrow_min, asset_configs=assets,
        base_min_for_rewards=10 ** ledger.decimals[base], **rates,
    )
    feeds = {name: world.oracles[name].latest_answer for name in set(spec.oracles.values())}
    try:
        comet = Comet(spec.name, ledger, config, feeds, created_at=now)
    except CometError as exc:
        wb.fail(where, f"Comet refuses this configuration: {exc}")
    if spec.initial_reserves:
        ledger.mint(base, comet.address, spec.initial_reserves)
    supplier = f"supplier:{spec.name}"
    if spec.suppliers:
        ledger.mint(base, supplier, spec.suppliers)
        comet.supply(now, supplier, base, spec.suppliers)
    for j, acct in enumerate(spec.accounts):
        try:
            if acct.supply:
                ledger.mint(base, acct.name, acct.supply)
                comet.supply(now, acct.name, base, acct.supply)
            for asset, amount in acct.collateral.items():
                ledger.mint(asset, acct.name, amount)
            comet.open_position(now, acct.name, acct.collateral, acct.borrow)
        except CometError as exc:
            wb.fail(f"{where}.accounts.{j}", f"{acct.name} cannot borrow {acct.borrow} base units of {base}: {exc}")
    prices = {a: world.reference_price(a, 0) for a in spec.oracles if a in world.reference.assets}
    for i, pop in enumerate(spec.borrowers):
        drawn = draw_population(
            pop, index=i, prices=prices, decimals=ledger.decimals,
            liquidation_threshold={a: p.liquidate_collateral_factor for a, p in spec.collaterals.items()},
            ltv={a: p.borrow_collateral_factor for a, p in spec.collaterals.items()},
            rng=wb.rng("population", spec.name, i),
        )
        need = sum(int(x) for x in drawn.debt if int(x) >= spec.base_borrow_min)
        available = ledger.balance_of(base, comet.address)
        if need > available:
            wb.fail(f"{where}.suppliers", f"borrowers[{i}] need {need} base units of {base} but {spec.name} only "
                                          f"has {available} to lend; supply more or lower count/size_usd")
        for n, name in enumerate(drawn.names):
            collateral = {a: int(amounts[n]) for a, amounts in drawn.collateral.items() if amounts[n]}
            debt = int(drawn.debt[n])
            if debt < spec.base_borrow_min:
                debt = 0  # below baseBorrowMin (BorrowTooSmall): this borrower only posts collateral
            for asset, amount in collateral.items():
                ledger.mint(asset, name, amount)
            try:
                comet.open_position(now, name, collateral, debt)
            except CometError as exc:
                wb.fail(f"{where}.borrowers.{i}", f"{name} cannot borrow {debt} base units of {base}: {exc}")
    world.add_protocol(spec.name, comet)


register(KIND, "protocols", CompoundV3Spec, build_compound_v3)


# --- agents -----------------------------------------------------------------------------------

def _comet_protocols(scn: ScenarioBase, names: list[str] | None, problems: Problems) -> None:
    comets = {p.name for p in scn.protocols if getattr(p, "kind", None) == KIND}
    for i, p in enumerate(names or []):
        found = need_name(scn, "protocols", p, f"protocols.{i}", "protocol")
        problems += found
        if not found and p not in comets:
            problems.append((f"protocols.{i}", f"{p!r} is not a {KIND} protocol (known: {', '.join(sorted(comets)) or 'none'})"))
    if names is None and not comets:
        problems.append(("protocols", f"no {KIND} protocol in the scenario to act on"))


def _comets(wb: WorldBuilder, names: list[str] | None) -> list[str]:
    if names is not None:
        return list(names)
    return [n for n, p in wb.world.protocols.items() if isinstance(p, Comet)]


def _usd_e8(x: float) -> int:
    return round(x * 10**8)


class AbsorberSpec(StrictModel):
    """A keeper that calls ``absorb`` on liquidatable Comet accounts (no profit; pays gas)."""

    kind: Literal["absorber"]
    name: Name
    protocols: list[str] | None = None
    """``compound-v3`` protocols it watches; None: all."""
    priority_fee_gwei: Annotated[float, Field(ge=0)] = 2.0
    """Tip per gas it bids (its place in the block against competitors and background)."""
    gas_base: Annotated[int, Field(ge=21_000)] = 60_000
    gas_per_account: Annotated[int, Field(ge=1)] = 140_000
    max_accounts_per_tx: Annotated[int, Field(ge=1, le=1000)] = 10
    max_txs_per_block: Annotated[int, Field(ge=1)] = 5
    max_evaluations_per_block: Annotated[int, Field(ge=1)] = 200
    max_gas_usd_per_account: Annotated[float, Field(gt=0)] | None = None
    """Skip an ``absorb`` whose gas costs more than this per account (USD); None: no limit."""
    filter_before_absorb: bool = True
    """Check ``isLiquidatable`` on chain first and absorb only the accounts still underwater
    (else one already absorbed by a competitor reverts the whole call)."""
    private_bundles: bool = True
    """A failing ``absorb`` is dropped (no gas); False: public mempool, it reverts and pays."""

    def check(self, scn: ScenarioBase) -> Problems:
        problems: Problems = []
        _comet_protocols(scn, self.protocols, problems)
        return problems


def build_absorber(spec: AbsorberSpec, wb: WorldBuilder) -> None:
    wb.world.add_agent(CometAbsorber(
        wb.world, name=spec.name, protocols=_comets(wb, spec.protocols),
        priority_fee=round(spec.priority_fee_gwei * 10**9), gas_base=spec.gas_base,
        gas_per_account=spec.gas_per_account, max_accounts_per_tx=spec.max_accounts_per_tx,
        max_txs_per_block=spec.max_txs_per_block, max_evaluations_per_block=spec.max_evaluations_per_block,
        max_gas_usd_per_account=None if spec.max_gas_usd_per_account is None else _usd_e8(spec.max_gas_usd_per_account),
        filter_before_absorb=spec.filter_before_absorb, private_bundles=spec.private_bundles,
    ))


class CollateralBuyerSpec(StrictModel):
    """Buys absorbed Comet collateral at the store-front discount when selling it on the AMMs
    pays for gas; own capital and (optionally) flash loans; bids a share of profit as tip."""

    kind: Literal["collateral-buyer"]
    name: Name
    protocols: list[str] | None = None
    """``compound-v3`` protocols it buys from; None: all."""
    capital: TokenAmounts = {}
    flash_loans: bool = True
    bid_share: Fraction = 0.5
    min_profit_usd: Annotated[float, Field(ge=0)] = 1.0
    gas: Annotated[int, Field(ge=21_000)] = 300_000
    """Gas of ``buyCollateral`` plus the AMM sale."""
    max_txs_per_block: Annotated[int, Field(ge=1)] = 4
    private_bundles: bool = True

    def check(self, scn: ScenarioBase) -> Problems:
        problems: Problems = []
        _comet_protocols(scn, self.protocols, problems)
        return problems


def build_collateral_buyer(spec: CollateralBuyerSpec, wb: WorldBuilder) -> None:
    world = wb.world
    agent = CometCollateralBuyer(
        world, wb.router, name=spec.name, protocols=_comets(wb, spec.protocols), bid_share=spec.bid_share,
        min_profit_usd=_usd_e8(spec.min_profit_usd), gas=spec.gas, flash_loans=spec.flash_loans,
        max_txs_per_block=spec.max_txs_per_block, private_bundles=spec.private_bundles,
    )
    for token, amount in spec.capital.items():
        world.ledger.mint(token, agent.address, amount)
    world.add_agent(agent)


register("absorber", "agents", AbsorberSpec, build_absorber)
register("collateral-buyer", "agents", CollateralBuyerSpec, build_collateral_buyer)
