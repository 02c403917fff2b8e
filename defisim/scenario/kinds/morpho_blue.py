"""Protocol kind ``morpho-blue``: one Morpho Blue instance with several isolated markets.

One scenario entry is one :class:`~defisim.engine.protocols.morpho_blue.MorphoBlue` contract.
Each market names its collateral and loan tokens, LLTV, IRM and fee; its oracle is a
``MorphoChainlinkOracleV2``-style ratio of the protocol's USD feeds for the two tokens
(``oracles``: token -> oracle name, like ``aave-v3``). Per market, ``supply`` is lent by the
account ``supplier:<protocol>``, ``borrowers`` are generated populations (the same model as
``aave-v3``, with LLTV as both threshold and borrowing limit) and ``accounts`` hand-written
positions. Liquidators see each position as ``<market>/<user>``.

IRMs (``irm``): ``linear-utilization`` (Morpho's ``IrmMock``, the default), ``fixed`` (``apr`` or
``rate_per_second``) and ``adaptive-curve``, Morpho's mainnet AdaptiveCurveIrm: its rate at
target starts at the contract's 4 % a year, or at ``initial_rate_at_target`` (a yearly rate
between 0.001 and 2.0), and then drifts with utilisation as on chain.

```yaml
- kind: morpho-blue
  name: morpho
  oracles: {WETH: eth-usd, USDC: usdc-usd}
  markets:
    - name: weth-usdc
      collateral: WETH
      loan: USDC
      lltv: 0.86
      irm: {kind: adaptive-curve}          # or {kind: linear-utilization}, {kind: fixed, apr: 0.05}
      supply: "50000000 USDC"
      borrowers:
        - {count: 500, collateral: {WETH: 1.0}, debt: USDC, size_usd: {median: 20000}}
```
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from defisim.engine.protocols.morpho_blue import (
    ChainlinkPairOracle,
    MarketParams,
    MorphoBlue,
    MorphoError,
)
from defisim.engine.protocols.morpho_blue.config import (
    IrmParams,
    LinearUtilizationIrmParams,
    check_fee,
    check_lltv,
)
from defisim.scenario.amounts import Amount, amount_in, parse_amount
from defisim.scenario.base import Name, StrictModel
from defisim.scenario.kinds._common import Problems, need_name, need_token
from defisim.scenario.populations import BorrowerPopulation, draw_population
from defisim.scenario.registry import register

if TYPE_CHECKING:
    from defisim.scenario.assemble import WorldBuilder
    from defisim.scenario.models import ScenarioBase


class MorphoAccountSpec(StrictModel):
    """A hand-written position in one market (amounts in the market's tokens).

    ``collateral`` (collateral token) is supplied as collateral, ``borrow`` (loan token) is
    borrowed against it, ``supply`` (loan token) is lent. Amounts are base units or
    ``"2.5 WETH"`` in the right token.
    """

    name: Name
    collateral: Amount = 0
    borrow: Amount = 0
    supply: Amount = 0


class MorphoMarketSpec(StrictModel):
    """One isolated market: collateral and loan token, LLTV, IRM, fee and its positions."""

    name: Name
    collateral: str
    loan: str
    lltv: float
    """Liquidation LTV as a fraction in (0, 1), e.g. 0.86 (mainnet uses 0.385 ... 0.98)."""
    irm: IrmParams = LinearUtilizationIrmParams(kind="linear-utilization")
    fee: float = 0.0
    """Share of interest minted to the fee recipient as supply shares, in [0, 0.25]."""
    supply: amount_in("loan") = 0  # type: ignore[valid-type]
    """Loan tokens lent by ``supplier:<protocol>``."""
    borrowers: list[BorrowerPopulation] = []
    accounts: list[MorphoAccountSpec] = []

    @field_validator("lltv")
    @classmethod
    def _lltv(cls, v: float) -> float:
        check_lltv(v)
        return v

    @field_validator("fee")
    @classmethod
    def _fee(cls, v: float) -> float:
        check_fee(v)
        return v

    @field_validator("accounts", mode="before")
    @classmethod
    def _account_amounts(cls, value: Any, info: ValidationInfo) -> Any:
        """Parse each account's amounts in the market's tokens (``"10 WETH"`` in a WETH/USDC
        market's ``collateral``, USDC for ``borrow``/``supply``), rejecting the wrong token."""
        if not isinstance(value, list):
            return value
        ctx = info.context or {}
        decimals = dict(ctx.get("decimals") or {})
        unchecked = frozenset(ctx.get("unchecked_tokens") or ())
        tokens = {"collateral": info.data.get("collateral"), "borrow": info.data.get("loan"),
                  "supply": info.data.get("loan")}
        out = []
        for item in value:
            if isinstance(item, dict):
                item = dict(item)
                for field, token in tokens.items():
                    raw = item.get(field)
                    if isinstance(raw, str):
                        # an unknown market token is reported by `check`, not once per amount
                        expected = token if isinstance(token, str) and token in decimals else None
                        item[field] = parse_amount(raw, decimals, expected=expected, unchecked=unchecked)
            out.append(item)
        return out


class MorphoBlueSpec(StrictModel):
    """A Morpho Blue 1.0 instance (mirrored from ``@morpho-org/morpho-blue@1.0.0``)."""

    kind: Literal["morpho-blue"]
    name: Name
    oracles: dict[str, str]
    """Token -> USD oracle name, for every collateral and loan token of the markets."""
    markets: Annotated[list[MorphoMarketSpec], Field(min_length=1)]
    fee_recipient: Name | None = None
    """Receives fee shares; default ``fee-recipient:<name>``."""

    @model_validator(mode="after")
    def _unique_markets(self) -> MorphoBlueSpec:
        seen: set[str] = set()
        for m in self.markets:
            if m.name in seen:
                raise ValueError(f"market name {m.name!r} is used twice")
            seen.add(m.name)
        return self

    def check(self, scn: ScenarioBase) -> Problems:
        problems: Problems = []
        feeds = {o.name: o for o in scn.oracles}
        for asset, oracle in self.oracles.items():
            problems += need_token(scn, asset, f"oracles.{asset}")
            problems += need_name(scn, "oracles", oracle, f"oracles.{asset}", "oracle")
            if oracle in feeds and feeds[oracle].asset != asset:
                problems.append((f"oracles.{asset}", f"oracle {oracle!r} prices {feeds[oracle].asset}, not {asset}"))
        for k, m in enumerate(self.markets):
            here = f"markets.{k}"
            for field, token in (("collateral", m.collateral), ("loan", m.loan)):
                known = need_token(scn, token, f"{here}.{field}")
                problems += known
                if not known and token not in self.oracles:
                    problems.append((f"{here}.{field}", f"{token} has no oracle: add it to {self.name}.oracles"))
            if m.collateral == m.loan:
                problems.append((f"{here}.loan", f"loan token {m.loan} is also the collateral token"))
            for i, pop in enumerate(m.borrowers):
                path = f"{here}.borrowers.{i}"
                if set(pop.collateral) != {m.collateral}:
                    problems.append((f"{path}.collateral",
                                     f"must be {{{m.collateral}: 1.0}}: market {m.name} takes only {m.collateral}"))
                if pop.debt != m.loan:
                    problems.append((f"{path}.debt", f"must be {m.loan}: market {m.name} lends {m.loan}"))
                for token in (m.collateral, m.loan):
                    if token in scn.tokens and token not in scn.prices.assets:
                        problems.append((path, f"{token} needs a reference price to size positions"))
            names = [a.name for a in m.accounts]
            for j, acct in enumerate(m.accounts):
                if names.index(acct.name) != j:
                    problems.append((f"{here}.accounts.{j}.name", f"account {acct.name!r} is listed twice"))
                if acct.borrow and not acct.collateral:
                    problems.append((f"{here}.accounts.{j}", f"{acct.name} borrows without collateral"))
        return problems


def build_morpho_blue(spec: MorphoBlueSpec, wb: WorldBuilder) -> None:
    world = wb.world
    ledger = world.ledger
    feeds = {asset: world.oracles[name] for asset, name in spec.oracles.items()}
    now = world.now(0)
    morpho = MorphoBlue(
        spec.name, ledger, lambda asset: feeds[asset].latest_answer(),
        fee_recipient=spec.fee_recipient or f"fee-recipient:{spec.name}",
    )
    where = wb.path_of(spec)
    supplier = f"supplier:{spec.name}"
    prices = {a: world.reference_price(a, 0) for a in spec.oracles if a in world.reference.assets}
    population = 0
    for k, m in enumerate(spec.markets):
        here = f"{where}.markets.{k}"
        irm = m.irm.build()
        lltv = check_lltv(m.lltv)
        if not morpho.is_irm_enabled(irm):
            morpho.enable_irm(irm)
        if not morpho.is_lltv_enabled(lltv):
            morpho.enable_lltv(lltv)
        oracle = ChainlinkPairOracle(
            feeds[m.collateral].latest_answer, feeds[m.loan].latest_answer,
            ledger.decimals[m.collateral], ledger.decimals[m.loan],
        )
        morpho.create_market(now, MarketParams(m.name, m.loan, m.collateral, oracle, irm, lltv))
        fee = check_fee(m.fee)
        if fee:
            morpho.set_fee(now, m.name, fee)
        if m.supply:
            ledger.mint(m.loan, supplier, m.supply)
            morpho.supply(now, supplier, m.name, m.supply, 0)
        for j, acct in enumerate(m.accounts):
            try:
                if acct.supply:
                    ledger.mint(m.loan, acct.name, acct.supply)
                    morpho.supply(now, acct.name, m.name, acct.supply, 0)
                if acct.collateral:
                    ledger.mint(m.collateral, acct.name, acct.collateral)
                morpho.open_position(now, m.name, acct.name, acct.collateral, acct.borrow)
            except MorphoError as exc:
                wb.fail(f"{here}.accounts.{j}",
                        f"{acct.name} cannot borrow {acct.borrow} base units of {m.loan}: {exc}")
        for i, pop in enumerate(m.borrowers):
            drawn = draw_population(
                pop, index=population, prices=prices, decimals=ledger.decimals,
                liquidation_threshold={m.collateral: m.lltv}, ltv={m.collateral: m.lltv},
                rng=wb.rng("population", spec.name, m.name, i),
            )
            population += 1
            need = sum(int(x) for x in drawn.debt)
            state = morpho.market(m.name)
            available = state.total_supply_assets - state.total_borrow_assets
            if need > available:
                wb.fail(f"{here}.supply",
                        f"borrowers[{i}] need {need} base units of {m.loan} but market {m.name} only has "
                        f"{available} to lend; supply more or lower count/size_usd")
            amounts = drawn.collateral[m.collateral]
            for n, name in enumerate(drawn.names):
                collateral, debt = int(amounts[n]), int(drawn.debt[n])
                if collateral:
                    ledger.mint(m.collateral, name, collateral)
                try:
                    morpho.open_position(now, m.name, name, collateral, debt)
                except MorphoError as exc:
                    wb.fail(f"{here}.borrowers.{i}",
                            f"{name} cannot borrow {debt} base units of {m.loan}: {exc}")
    world.add_protocol(spec.name, morpho)


register("morpho-blue", "protocols", MorphoBlueSpec, build_morpho_blue)
