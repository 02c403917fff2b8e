"""Protocol kinds: ``aave-v3`` lending pools with their borrowers, treasury and insurance fund."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, model_validator

from defisim.engine.protocols.aave_v3 import AaveError, AavePool, ReserveParams
from defisim.engine.treasury import FeeBurnConfig, InsuranceFundConfig, Treasury
from defisim.scenario.amounts import TokenAmounts, amount_in
from defisim.scenario.base import Fraction, Name, StrictModel, fraction_to_bps
from defisim.scenario.kinds._common import Problems, need_name, need_token
from defisim.scenario.populations import BorrowerPopulation, draw_population
from defisim.scenario.registry import register

if TYPE_CHECKING:
    from defisim.scenario.assemble import WorldBuilder
    from defisim.scenario.models import ScenarioBase


class AccountSpec(StrictModel):
    """A hand-written account: what it supplies (as collateral) and borrows."""

    name: Name
    supply: TokenAmounts = {}
    borrow: TokenAmounts = {}


class InsuranceFundSpec(StrictModel):
    """The protocol's insurance fund (held in ``asset``)."""

    asset: str
    initial: amount_in("asset") = 0  # type: ignore[valid-type]
    liquidation_fee_share: Fraction = 0.5
    """Share of liquidation protocol fees paid into the fund."""
    reserve_income_share: Fraction = 0.0
    """Share of reserve-factor income paid into the fund."""
    socialize_uncovered: bool = True
    """Write deficit the fund cannot cover off against suppliers (else it stays as deficit)."""


class FeeBurnSpec(StrictModel):
    """Buy ``token`` with ``share`` of liquidation protocol fees and burn it."""

    token: str
    share: Fraction = 0.5


class AaveV3Spec(StrictModel):
    """An Aave V3 pool: ``version`` ``"3.6"`` (aave-v3-origin 3.6.0: 3.3+ liquidation rules,
    deficit accounting) or ``"3.0"`` (``@aave/core-v3@1.19.3``: 50 % close factor on the
    reserve's debt, no dust rule, no deficit, v1 rate strategy).

    The reserves' rate fields mean the same under both versions and map to the same RAY
    values (``bps * 1e23``): 3.6 stores them in bps in ``DefaultReserveInterestRateStrategyV2``,
    3.0 passes them in RAY to ``DefaultReserveInterestRateStrategy`` with every stable-rate
    parameter 0 (stable borrowing disabled). Both are validated by the 3.6 rules of
    :class:`ReserveParams`, which are stricter than 3.0's (``optimalUsageRatio <= 1``).
    Under 3.0 bad debt stays on borrowers (no deficit): the insurance fund only collects fees.
    """

    kind: Literal["aave-v3"]
    name: Name
    version: Literal["3.0", "3.6"] = "3.6"
    """Aave rule set to mirror."""
    oracles: dict[str, str]
    """Asset -> oracle name, for every reserve."""
    reserves: dict[str, ReserveParams]
    suppliers: TokenAmounts = {}
    """Passive liquidity supplied by the account ``supplier:<name>``."""
    borrowers: list[BorrowerPopulation] = []
    accounts: list[AccountSpec] = []
    insurance_fund: InsuranceFundSpec | None = None
    fee_burn: FeeBurnSpec | None = None
    treasury_every_blocks: Annotated[int, Field(ge=1)] = 50

    @model_validator(mode="after")
    def _shares(self) -> AaveV3Spec:
        fund = self.insurance_fund.liquidation_fee_share if self.insurance_fund else 0.0
        burn = self.fee_burn.share if self.fee_burn else 0.0
        if fund + burn > 1.0 + 1e-12:
            raise ValueError(
                f"insurance_fund.liquidation_fee_share ({fund}) + fee_burn.share ({burn}) "
                "must not exceed 1"
            )
        return self

    def check(self, scn: ScenarioBase) -> Problems:
        problems: Problems = []
        for asset in self.reserves:
            problems += need_token(scn, asset, f"reserves.{asset}")
            if asset not in self.oracles:
                problems.append(("oracles", f"reserve {asset} has no oracle"))
        for asset, oracle in self.oracles.items():
            problems += need_name(scn, "oracles", oracle, f"oracles.{asset}", "oracle")
            if asset not in self.reserves:
                problems.append((f"oracles.{asset}", f"{asset} is not a reserve of {self.name}"))
            else:
                feeds = {o.name: o for o in scn.oracles}
                if oracle in feeds and feeds[oracle].asset != asset:
                    problems.append((f"oracles.{asset}", f"oracle {oracle!r} prices {feeds[oracle].asset}, not {asset}"))
        for token in self.suppliers:
            if token not in self.reserves:
                problems.append((f"suppliers.{token}", f"{token} is not a reserve of {self.name}"))
        for i, pop in enumerate(self.borrowers):
            for asset in pop.collateral:
                if asset not in self.reserves:
                    problems.append((f"borrowers.{i}.collateral.{asset}", f"{asset} is not a reserve"))
                elif self.reserves[asset].ltv == 0:
                    problems.append((f"borrowers.{i}.collateral.{asset}", f"{asset} has ltv 0: it cannot back a borrow"))
            if pop.debt not in self.reserves:
                problems.append((f"borrowers.{i}.debt", f"{pop.debt} is not a reserve"))
            for asset in list(pop.collateral) + [pop.debt]:
                if asset in self.reserves and asset not in scn.prices.assets:
                    problems.append((f"borrowers.{i}", f"{asset} needs a reference price to size positions"))
        for i, acct in enumerate(self.accounts):
            for token in list(acct.supply) + list(acct.borrow):
                if token not in self.reserves:
                    problems.append((f"accounts.{i}", f"{token} is not a reserve of {self.name}"))
        if self.insurance_fund is not None:
            problems += need_token(scn, self.insurance_fund.asset, "insurance_fund.asset")
        if self.fee_burn is not None:
            problems += need_token(scn, self.fee_burn.token, "fee_burn.token")
        return problems


def build_aave_v3(spec: AaveV3Spec, wb: WorldBuilder) -> None:
    world = wb.world
    ledger = world.ledger
    feeds = {asset: world.oracles[name] for asset, name in spec.oracles.items()}
    configs = {asset: p.to_config(ledger.decimals[asset]) for asset, p in spec.reserves.items()}
    now = world.now(0)
    pool = AavePool(
        spec.name, ledger, configs, lambda asset: feeds[asset].latest_answer(),
        treasury=f"aave-treasury:{spec.name}", created_at=now, version=spec.version,
    )
    supplier = f"supplier:{spec.name}"
    for token, amount in spec.suppliers.items():
        ledger.mint(token, supplier, amount)
        pool.supply(now, supplier, token, amount)
    for k, acct in enumerate(spec.accounts):
        for token, amount in acct.supply.items():
            ledger.mint(token, acct.name, amount)
            pool.supply(now, acct.name, token, amount)
        for token, amount in acct.borrow.items():
            try:
                pool.borrow(now, acct.name, token, amount)
            except AaveError as exc:
                wb.fail(f"{wb.path_of(spec)}.accounts.{k}.borrow.{token}",
                        f"{acct.name} cannot borrow {amount} base units of {token}: {exc}")
    prices = {a: world.reference_price(a, 0) for a in spec.reserves if a in world.reference.assets}
    for i, pop in enumerate(spec.borrowers):
        drawn = draw_population(
            pop, index=i, prices=prices, decimals=ledger.decimals,
            liquidation_threshold={a: p.liquidation_threshold for a, p in spec.reserves.items()},
            ltv={a: p.ltv for a, p in spec.reserves.items()},
            rng=wb.rng("population", spec.name, i),
        )
        need = sum(int(x) for x in drawn.debt)
        available = ledger.balance_of(pop.debt, pool.address)
        if need > available:
            wb.fail(
                f"{wb.path_of(spec)}.suppliers.{pop.debt}",
                f"borrowers[{i}] need {need} base units of {pop.debt} but the pool only has "
                f"{available} to lend; supply more or lower count/size_usd",
            )
        for j, name in enumerate(drawn.names):
            supplies = {a: int(amounts[j]) for a, amounts in drawn.collateral.items() if amounts[j]}
            for asset, amount in supplies.items():
                ledger.mint(asset, name, amount)
            debt = int(drawn.debt[j])
            try:
                pool.open_position(now, name, supplies, {pop.debt: debt} if debt else {})
            except AaveError as exc:
                wb.fail(f"{wb.path_of(spec)}.borrowers.{i}",
                        f"{name} cannot borrow {debt} base units of {pop.debt}: {exc}")
    world.add_protocol(spec.name, pool)
    fund = None
    if spec.insurance_fund is not None:
        f = spec.insurance_fund
        fund = InsuranceFundConfig(
            f.asset, fraction_to_bps(f.liquidation_fee_share, "liquidation_fee_share"),
            fraction_to_bps(f.reserve_income_share, "reserve_income_share"), f.socialize_uncovered,
        )
    burn = None
    if spec.fee_burn is not None:
        burn = FeeBurnConfig(spec.fee_burn.token, fraction_to_bps(spec.fee_burn.share, "share"))
    treasury = Treasury(world, wb.router, spec.name, pool, fund, burn, spec.treasury_every_blocks)
    if fund is not None and spec.insurance_fund is not None and spec.insurance_fund.initial:
        ledger.mint(fund.asset, treasury.fund_address, spec.insurance_fund.initial)
    world.add_treasury(spec.name, treasury)


register("aave-v3", "protocols", AaveV3Spec, build_aave_v3)
