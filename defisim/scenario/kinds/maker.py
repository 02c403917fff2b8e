"""Protocol kind ``maker`` (a dss deployment) and agent kind ``maker-keeper``.

One ``maker`` entry is one :class:`~defisim.engine.protocols.maker.MakerSystem`: a Vat with
one or more collateral types (``ilks``), each priced by an oracle of the scenario (normally an
``osm``: the price one ``hop`` late), liquidated by Dog + Clipper Dutch auctions
(``liquidations: "2.0"``) or Cat + Flipper English auctions (``"1.2"``), with a Vow whose
surplus above ``hump`` is sold in ``bump``-DAI lots for MKR, which is burned (``flap``: Flapper
English auctions, bids rise by ``vow.flap.beg``), and whose bad debt is covered by minting MKR
(``flop``: Flopper reverse auctions for ``sump`` DAI starting at ``dump`` MKR, lots fall by
``vow.flop.beg``, an unbid auction's lot grows by ``vow.flop.pad`` on ``tick``). ``maker-keeper``
agents bid in both with their ``capital`` (MKR or DAI for flaps, DAI for flops); without
bidders the auctions only restart. ``ttl``/``tau`` default to dss's constructor values (3 h /
2 days), longer than most runs: set them to the run's time scale. ``vow.flap.lid`` caps the
DAI on auction at once (unlimited when left out).

Vaults come from generated populations (``vaults``, the model of the ``aave-v3`` kind with
``1 / mat`` as both threshold and borrowing limit; drawn vaults whose debt is below ``dust``
are not opened) and hand-written ``accounts``. Readable numbers become dss integers once:
``mat``, ``buf``, ``cusp``, ``cut`` -> ray; ``chop``, ``chip``, ``1 + beg`` -> wad; DAI amounts
-> rad; ``duty`` is the annual stability fee (or give the exact per-second ``duty_ray``);
``1 + vow.flap.beg``, ``1 + vow.flop.beg``, ``1 + vow.flop.pad`` -> wad.

```yaml
- kind: maker
  name: maker
  liquidations: "2.0"
  dai: DAI
  gov: MKR
  Hole: "100000000 DAI"
  vow:
    hump: "1000000 DAI"
    bump: "10000 DAI"
    sump: "50000 DAI"
    dump: "250 MKR"
    wait: 0
    flap: {beg: 0.04, ttl: 30m, tau: 72h, lid: "150000 DAI"}
    flop: {beg: 0.03, pad: 0.2, ttl: 6h, tau: 72h}
  ilks:
    ETH-A:
      gem: WETH
      oracle: eth-osm
      mat: 1.45
      chop: 1.13
      line: "500000000 DAI"
      dust: "5000 DAI"
      duty: 0.02
      hole: "40000000 DAI"
      buf: 1.2
      tail: 140m
      cusp: 0.4
      chip: 0.001
      tip: "300 DAI"
      calc: {kind: stairstep-exponential, step: 90, cut: 0.99}
      vaults:
        - {count: 500, collateral: {WETH: 1.0}, debt: DAI, size_usd: {median: 60000}}
```
"""

from __future__ import annotations

from fractions import Fraction as Frac
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from defisim.engine.agents.maker_keeper import KeeperGas, MakerKeeper
from defisim.engine.clock import Phase
from defisim.engine.protocols.maker import (
    CalcConfig,
    FlapConfig,
    FlopConfig,
    IlkConfig,
    MakerError,
    MakerSystem,
    VowConfig,
    annual_to_duty,
    to_ray,
    to_wad,
)
from defisim.scenario.amounts import Amount, TokenAmounts, parse_amount
from defisim.scenario.base import Fraction, Name, StrictModel
from defisim.scenario.kinds._common import Problems, Seconds, need_name, need_token
from defisim.scenario.populations import BorrowerPopulation, draw_population
from defisim.scenario.registry import register

if TYPE_CHECKING:
    from defisim.scenario.assemble import WorldBuilder
    from defisim.scenario.models import ScenarioBase

RAY = 10**27
UINT256_MAX = 2**256 - 1

IlkName = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")]


class CalcSpec(StrictModel):
    """The Clipper's price curve (Abacus).

    ``stairstep-exponential``: times ``cut`` every ``step`` seconds (ETH-A: 0.99 / 90 s);
    ``exponential``: times ``cut`` every second; ``linear``: to zero over ``tau`` seconds.
    """

    kind: Literal["linear", "stairstep-exponential", "exponential"] = "stairstep-exponential"
    step: Annotated[Seconds, Field(ge=1)] = 90
    cut: float = 0.99
    tau: Seconds = 0

    @field_validator("cut")
    @classmethod
    def _cut(cls, v: float) -> float:
        if not 0 < v <= 1:
            raise ValueError(f"cut must be in (0, 1] (a price multiplier), got {v}")
        return v

    @model_validator(mode="after")
    def _tau(self) -> CalcSpec:
        if self.kind == "linear" and self.tau <= 0:
            raise ValueError("tau: a linear curve needs tau > 0 (seconds until the price reaches zero)")
        return self

    def to_config(self) -> CalcConfig:
        return CalcConfig(self.kind, tau=self.tau, step=self.step, cut=to_ray(self.cut, "cut"))


class MakerVaultSpec(StrictModel):
    """A hand-written vault: ``collateral`` (the ilk's token) locked, ``debt`` DAI drawn."""

    name: Name
    collateral: Amount
    debt: Amount = 0


class MakerIlkSpec(StrictModel):
    """One collateral type. 2.0 fields: ``hole``, ``buf``, ``tail``, ``cusp``, ``chip``,
    ``tip``, ``calc``; 1.2 fields: ``beg``, ``ttl``, ``tau``, ``dunk``."""

    gem: str
    """Collateral token."""
    oracle: str
    """Scenario oracle pricing ``gem`` (an ``osm`` for Maker's one-hour delay)."""
    mat: float
    """Liquidation ratio, > 1 (1.45 = 145 % collateralisation)."""
    chop: float = 1.13
    """Liquidation penalty multiplier, >= 1 (1.13 = 13 %)."""
    line: Amount
    """Debt ceiling (DAI)."""
    dust: Amount = 0
    """Smallest vault debt (DAI)."""
    duty: Annotated[float, Field(ge=0, le=10)] = 0.0
    """Annual stability fee (0.02 = 2 % a year)."""
    duty_ray: int | None = None
    """Exact per-second duty (ray); overrides ``duty``."""
    hole: Amount = 0
    """2.0: the most DAI the ilk's auctions may be raising at once."""
    buf: float = 1.2
    """2.0: start price over the feed price, >= 1."""
    tail: Seconds = 8400
    """2.0: seconds before a sale needs a reset."""
    cusp: float = 0.4
    """2.0: price / top below which a sale needs a reset, in (0, 1)."""
    chip: Annotated[float, Field(ge=0, le=1)] = 0.001
    """2.0: keeper reward as a share of the tab."""
    tip: Amount = 0
    """2.0: flat keeper reward (DAI)."""
    calc: CalcSpec = CalcSpec()
    beg: float = 0.03
    """1.2: minimum bid step (0.03 = 3 %), > 0."""
    ttl: Seconds = 600
    """1.2: a bid's lifetime (seconds); the auction ends ttl after the last bid."""
    tau: Seconds = 21_600
    """1.2: auction length (seconds), >= ttl."""
    dunk: Amount = 50_000 * 10**18
    """1.2: the most DAI (tab) one auction raises."""
    vaults: list[BorrowerPopulation] = []
    accounts: list[MakerVaultSpec] = []

    @field_validator("mat")
    @classmethod
    def _mat(cls, v: float) -> float:
        if not v > 1:
            raise ValueError(f"mat must be > 1 (a collateralisation ratio such as 1.5), got {v}")
        return v

    @field_validator("chop")
    @classmethod
    def _chop(cls, v: float) -> float:
        if not v >= 1:
            raise ValueError(f"chop must be >= 1 (1.13 = 13 % penalty), got {v}")
        return v

    @field_validator("buf")
    @classmethod
    def _buf(cls, v: float) -> float:
        if not v >= 1:
            raise ValueError(f"buf must be >= 1 (the start price over the feed price), got {v}")
        return v

    @field_validator("cusp")
    @classmethod
    def _cusp(cls, v: float) -> float:
        if not 0 < v < 1:
            raise ValueError(f"cusp must be in (0, 1) (a price drop before reset), got {v}")
        return v

    @field_validator("beg")
    @classmethod
    def _beg(cls, v: float) -> float:
        if not v > 0:
            raise ValueError(f"beg must be > 0 (0.03 = bids rise by at least 3 %), got {v}")
        return v

    @model_validator(mode="after")
    def _ttl_tau(self) -> MakerIlkSpec:
        if self.ttl > self.tau:
            raise ValueError(f"ttl ({self.ttl} s) must not exceed tau ({self.tau} s)")
        for field in ("mat", "chop", "buf", "cusp", "chip", "beg"):
            value = getattr(self, field)
            scale = 10**27 if field in ("mat", "buf", "cusp") else 10**18
            if field == "beg":
                value = Frac(1) + Frac(str(value))
            if (Frac(str(value)) * scale).denominator != 1:
                raise ValueError(f"{field}: {value} has more decimals than dss stores")
        return self

    def to_config(self) -> IlkConfig:
        """Exact dss parameters (see :class:`~defisim.engine.protocols.maker.IlkConfig`)."""
        duty = self.duty_ray if self.duty_ray is not None else annual_to_duty(self.duty)
        return IlkConfig(
            mat=to_ray(self.mat, "mat"), chop=to_wad(self.chop, "chop"), line=self.line * RAY,
            dust=self.dust * RAY, duty=duty, hole=self.hole * RAY, buf=to_ray(self.buf, "buf"),
            tail=self.tail, cusp=to_ray(self.cusp, "cusp"), chip=to_wad(self.chip, "chip"),
            tip=self.tip * RAY, calc=self.calc.to_config(), beg=to_wad(Frac(1) + Frac(str(self.beg)), "beg"),
            ttl=self.ttl, tau=self.tau, dunk=self.dunk * RAY,
        )


def _exact_wad(field: str, value: float) -> None:
    """``1 + value`` must be a whole number of wad units (dss stores it as a wad)."""
    if ((Frac(1) + Frac(str(value))) * 10**18).denominator != 1:
        raise ValueError(f"{field}: {value} has more decimals than dss stores")


class FlapSpec(StrictModel):
    """The Flapper: English auctions selling ``bump`` DAI for MKR bids."""

    beg: float = 0.05
    """Minimum bid increase, > 0 (0.05 = each bid at least 5 % above the last)."""
    ttl: Seconds = 3 * 3600
    """A bid's lifetime (seconds): the auction ends ``ttl`` after the last bid."""
    tau: Seconds = 2 * 86400
    """Auction length (seconds), > 0 and >= ttl."""
    lid: Amount | None = None
    """Most DAI on auction at once (``fill`` limit); None: unlimited."""

    @field_validator("beg")
    @classmethod
    def _beg(cls, v: float) -> float:
        if not v > 0:
            raise ValueError(f"beg must be > 0 (0.05 = bids rise by at least 5 %), got {v}")
        _exact_wad("beg", v)
        return v

    @field_validator("tau")
    @classmethod
    def _tau(cls, v: int) -> int:
        if v <= 0:
            raise ValueError("tau must be > 0 seconds (no bid could ever be placed)")
        return v

    @model_validator(mode="after")
    def _ttl_tau(self) -> FlapSpec:
        if self.ttl > self.tau:
            raise ValueError(f"ttl ({self.ttl} s) must not exceed tau ({self.tau} s)")
        return self

    def to_config(self) -> FlapConfig:
        return FlapConfig(beg=to_wad(Frac(1) + Frac(str(self.beg)), "beg"), ttl=self.ttl, tau=self.tau,
                          lid=self.lid * RAY if self.lid is not None else UINT256_MAX)


class FlopSpec(StrictModel):
    """The Flopper: reverse auctions minting MKR for a fixed ``sump`` of DAI."""

    beg: float = 0.05
    """Minimum lot decrease, > 0 (0.05 = each bid asks for at least 5 % less MKR)."""
    pad: float = 0.5
    """Lot increase on ``tick`` of an auction nobody bid on, >= 0 (0.5 = +50 %)."""
    ttl: Seconds = 3 * 3600
    """A bid's lifetime (seconds)."""
    tau: Seconds = 2 * 86400
    """Auction length (seconds), > 0 and >= ttl."""

    @field_validator("beg")
    @classmethod
    def _beg(cls, v: float) -> float:
        if not v > 0:
            raise ValueError(f"beg must be > 0 (0.05 = lots fall by at least 5 %), got {v}")
        _exact_wad("beg", v)
        return v

    @field_validator("pad")
    @classmethod
    def _pad(cls, v: float) -> float:
        if not v >= 0:
            raise ValueError(f"pad must be >= 0 (0.5 = an unbid lot grows 50 % on tick), got {v}")
        _exact_wad("pad", v)
        return v

    @field_validator("tau")
    @classmethod
    def _tau(cls, v: int) -> int:
        if v <= 0:
            raise ValueError("tau must be > 0 seconds (no bid could ever be placed)")
        return v

    @model_validator(mode="after")
    def _ttl_tau(self) -> FlopSpec:
        if self.ttl > self.tau:
            raise ValueError(f"ttl ({self.ttl} s) must not exceed tau ({self.tau} s)")
        return self

    def to_config(self) -> FlopConfig:
        return FlopConfig(beg=to_wad(Frac(1) + Frac(str(self.beg)), "beg"),
                          pad=to_wad(Frac(1) + Frac(str(self.pad)), "pad"), ttl=self.ttl, tau=self.tau)


class VowSpec(StrictModel):
    """The Vow: surplus buffer ``hump``, flap lot ``bump``, flop bid ``sump`` (DAI), flop's
    initial MKR lot ``dump``, the debt queue's ``wait``, and its auction houses."""

    hump: Amount = 0
    bump: Amount = 0
    """0: no surplus auctions."""
    sump: Amount = 0
    """0: no debt auctions."""
    dump: Amount = 0
    wait: Seconds = 0
    flap: FlapSpec = FlapSpec()
    flop: FlopSpec = FlopSpec()

    @model_validator(mode="after")
    def _lid(self) -> VowSpec:
        if self.flap.lid is not None and self.bump and self.flap.lid < self.bump:
            raise ValueError(f"flap.lid ({self.flap.lid / 1e18:g} DAI) is below bump ({self.bump / 1e18:g} DAI): "
                             "no surplus auction could start")
        return self

    def to_config(self) -> VowConfig:
        return VowConfig(hump=self.hump * RAY, bump=self.bump * RAY, sump=self.sump * RAY, dump=self.dump,
                         wait=self.wait, flap=self.flap.to_config(), flop=self.flop.to_config())


_DAI_FIELDS = ("line", "dust", "hole", "tip", "dunk")


class MakerSpec(StrictModel):
    """A Maker (dss) deployment (see module docstring)."""

    kind: Literal["maker"]
    name: Name
    liquidations: Literal["2.0", "1.2"] = "2.0"
    """``"2.0"``: Dog + Clipper Dutch auctions; ``"1.2"``: Cat + Flipper English auctions."""
    dai: str = "DAI"
    gov: str = "MKR"
    Line: Amount | None = None
    """Global debt ceiling (DAI); default: the sum of the ilks' ``line``."""
    Hole: Amount = 0
    """2.0: the most DAI all auctions may be raising at once."""
    box: Amount = 0
    """1.2: the most DAI (tabs) out for liquidation at once."""
    vow: VowSpec = VowSpec()
    ilks: Annotated[dict[IlkName, MakerIlkSpec], Field(min_length=1)]
    drip_every_blocks: Annotated[int, Field(ge=1)] = 1

    @model_validator(mode="before")
    @classmethod
    def _token_amounts(cls, data: Any, info: ValidationInfo) -> Any:
        """Parse ``"5000 DAI"``-style amounts in the token each field is in (DAI for ceilings,
        limits, rewards and vault debt, MKR for ``dump``, the ilk's ``gem`` for collateral)."""
        if not isinstance(data, dict):
            return data
        ctx = info.context or {}
        decimals = dict(ctx.get("decimals") or {})
        unchecked = frozenset(ctx.get("unchecked_tokens") or ())
        dai, gov = data.get("dai", "DAI"), data.get("gov", "MKR")
        problems: list[Any] = []

        def parse(where: str, raw: Any, token: Any) -> Any:
            if not isinstance(raw, str):
                return raw
            expected = token if isinstance(token, str) and token in decimals else None
            try:
                return parse_amount(raw, decimals, expected=expected, unchecked=unchecked)
            except ValueError as exc:
                problems.append({
                    "type": PydanticCustomError("amount", "{message}", {"message": str(exc)}),
                    "loc": tuple(where.split(".")), "input": raw,
                })
                return 0

        out = dict(data)
        for field in ("Line", "Hole", "box"):
            if field in out:
                out[field] = parse(field, out[field], dai)
        if isinstance(out.get("vow"), dict):
            vow = dict(out["vow"])
            for field in ("hump", "bump", "sump"):
                if field in vow:
                    vow[field] = parse(f"vow.{field}", vow[field], dai)
            if "dump" in vow:
                vow["dump"] = parse("vow.dump", vow["dump"], gov)
            if isinstance(vow.get("flap"), dict) and "lid" in vow["flap"]:
                vow["flap"] = {**vow["flap"], "lid": parse("vow.flap.lid", vow["flap"]["lid"], dai)}
            out["vow"] = vow
        if isinstance(out.get("ilks"), dict):
            ilks = {}
            for name, ilk in out["ilks"].items():
                if isinstance(ilk, dict):
                    ilk = dict(ilk)
                    for field in _DAI_FIELDS:
                        if field in ilk:
                            ilk[field] = parse(f"ilks.{name}.{field}", ilk[field], dai)
                    if isinstance(ilk.get("accounts"), list):
                        accounts = []
                        for k, acct in enumerate(ilk["accounts"]):
                            if isinstance(acct, dict):
                                acct = dict(acct)
                                if "collateral" in acct:
                                    acct["collateral"] = parse(f"ilks.{name}.accounts.{k}.collateral",
                                                               acct["collateral"], ilk.get("gem"))
                                if "debt" in acct:
                                    acct["debt"] = parse(f"ilks.{name}.accounts.{k}.debt", acct["debt"], dai)
                            accounts.append(acct)
                        ilk["accounts"] = accounts
                ilks[name] = ilk
            out["ilks"] = ilks
        if problems:  # each under its own field path (protocols.0.ilks.ETH-A.dust)
            raise ValidationError.from_exception_data("MakerSpec", problems)
        return out

    @model_validator(mode="after")
    def _limits(self) -> MakerSpec:
        if self.liquidations == "2.0":
            if self.Hole <= 0:
                raise ValueError("Hole: Liquidations 2.0 needs a global limit Hole > 0 (DAI)")
            for name, ilk in self.ilks.items():
                if ilk.hole <= 0:
                    raise ValueError(f"ilks.{name}.hole: Liquidations 2.0 needs hole > 0 (DAI)")
        elif self.box <= 0:
            raise ValueError("box: Liquidations 1.2 needs a limit box > 0 (DAI)")
        if self.vow.sump and self.vow.dump <= 0:
            raise ValueError("vow.dump: debt sales (sump > 0) need dump > 0 (the most MKR one flop mints)")
        return self

    def check(self, scn: ScenarioBase) -> Problems:
        problems: Problems = need_token(scn, self.dai, "dai") + need_token(scn, self.gov, "gov")
        if self.dai in scn.tokens and scn.tokens[self.dai].decimals != 18:
            problems.append(("dai", f"{self.dai} must have 18 decimals (DAI is a wad token)"))
        feeds = {o.name: o for o in scn.oracles}
        for name, ilk in self.ilks.items():
            here = f"ilks.{name}"
            problems += need_token(scn, ilk.gem, f"{here}.gem")
            if ilk.gem in scn.tokens and scn.tokens[ilk.gem].decimals > 18:
                problems.append((f"{here}.gem", f"{ilk.gem} has more than 18 decimals"))
            if ilk.gem == self.dai:
                problems.append((f"{here}.gem", f"{self.dai} cannot be collateral of its own system"))
            problems += need_name(scn, "oracles", ilk.oracle, f"{here}.oracle", "oracle")
            if ilk.oracle in feeds and feeds[ilk.oracle].asset != ilk.gem:
                problems.append((f"{here}.oracle", f"oracle {ilk.oracle!r} prices {feeds[ilk.oracle].asset}, not {ilk.gem}"))
            for i, pop in enumerate(ilk.vaults):
                if set(pop.collateral) != {ilk.gem}:
                    problems.append((f"{here}.vaults.{i}.collateral", f"must be {{{ilk.gem}: 1.0}}: ilk {name} locks only {ilk.gem}"))
                if pop.debt != self.dai:
                    problems.append((f"{here}.vaults.{i}.debt", f"must be {self.dai}"))
            names = [a.name for a in ilk.accounts]
            for j, acct in enumerate(ilk.accounts):
                if names.index(acct.name) != j:
                    problems.append((f"{here}.accounts.{j}.name", f"account {acct.name!r} is listed twice"))
        return problems


def build_maker(spec: MakerSpec, wb: WorldBuilder) -> None:
    world = wb.world
    ledger = world.ledger
    where = wb.path_of(spec)
    system = MakerSystem(
        spec.name, ledger, liquidations=spec.liquidations, dai=spec.dai, gov=spec.gov,
        vow=spec.vow.to_config(),
        Line=spec.Line * RAY if spec.Line is not None else None, Hole=spec.Hole * RAY, box=spec.box * RAY,
        drip_every_blocks=spec.drip_every_blocks,
        usd_price=lambda token: world.reference_e8(token) if token in world.reference.assets else 0,
    )
    now = world.now(0)
    population = 0
    for name, ilk in spec.ilks.items():
        here = f"{where}.ilks.{name}"
        feed = world.oracles[ilk.oracle]
        try:
            system.add_ilk(now, name, ilk.gem, feed, ilk.to_config())
        except (MakerError, ValueError) as exc:
            wb.fail(here, f"cannot deploy ilk {name}: {exc}")
        if not feed.has_answer:
            wb.fail(f"{here}.oracle", f"oracle {ilk.oracle!r} has no price at block 0")
        for j, acct in enumerate(ilk.accounts):
            ledger.mint(ilk.gem, acct.name, acct.collateral)
            try:
                system.open_vault(now, name, acct.name, acct.collateral, acct.debt)
            except MakerError as exc:
                wb.fail(f"{here}.accounts.{j}", f"{acct.name} cannot draw {acct.debt} base units of "
                        f"{spec.dai}: {exc}")
        price = feed.latest_answer() / 1e8
        lt = 1.0 / ilk.mat
        for i, pop in enumerate(ilk.vaults):
            drawn = draw_population(
                pop, index=population, prices={ilk.gem: price, spec.dai: 1.0}, decimals=ledger.decimals,
                liquidation_threshold={ilk.gem: lt}, ltv={ilk.gem: lt},
                rng=wb.rng("population", spec.name, name, i),
            )
            population += 1
            amounts = drawn.collateral[ilk.gem]
            for n, owner in enumerate(drawn.names):
                collateral, debt = int(amounts[n]), int(drawn.debt[n])
                if debt < ilk.dust or collateral == 0:
                    continue  # below the dust floor: the Vat would refuse such a vault
                ledger.mint(ilk.gem, owner, collateral)
                try:
                    system.open_vault(now, name, owner, collateral, debt)
                except MakerError as exc:
                    wb.fail(f"{here}.vaults.{i}", f"{owner} cannot draw {debt} base units of {spec.dai}: {exc}"
                            + (" (raise line)" if exc.reason == "Vat/ceiling-exceeded" else ""))
    world.add_protocol(spec.name, system)
    system.emit = world.emit
    world.clock.on(Phase.ORACLE, lambda block: system.on_block(block, world.now(block)))
    world.clock.on(Phase.SETTLEMENT, lambda block: system.settle(block, world.now(block)))


class KeeperGasSpec(StrictModel):
    """Gas per keeper transaction."""

    bark: Annotated[int, Field(ge=21_000)] = 450_000
    take: Annotated[int, Field(ge=21_000)] = 400_000
    redo: Annotated[int, Field(ge=21_000)] = 150_000
    bid: Annotated[int, Field(ge=21_000)] = 200_000
    deal: Annotated[int, Field(ge=21_000)] = 250_000
    tick: Annotated[int, Field(ge=21_000)] = 80_000


class MakerKeeperSpec(StrictModel):
    """A Maker keeper: barks/bites unsafe vaults, takes Clipper sales, bids in Flipper auctions
    with its own DAI, and in the Vow's flap (MKR, or DAI to buy it) and flop (DAI) auctions
    (``capital``); see :mod:`defisim.engine.agents.maker_keeper`."""

    kind: Literal["maker-keeper"]
    name: Name
    protocols: list[str] | None = None
    """``maker`` protocols it watches; None: all."""
    capital: TokenAmounts = {}
    bark: bool = True
    take: bool = True
    bid: bool = True
    """Bid in Flipper (1.2) auctions."""
    flap: bool = True
    """Bid in surplus auctions (pays MKR, buying what it lacks on the AMM with DAI)."""
    flop: bool = True
    """Bid in debt auctions (pays DAI, sells the MKR it wins on the AMM)."""
    bark_unprofitable: bool = False
    """Bark even when the 2.0 reward does not pay for the gas."""
    margin: Fraction = 0.02
    """Required discount of the auction price to the AMM exit (0.02 = 2 %)."""
    bid_share: Fraction = 0.5
    min_profit_usd: Annotated[float, Field(ge=0)] = 1.0
    max_fee_gwei: Annotated[float, Field(gt=0)] | None = None
    """Most it pays per gas (base fee + tip); it sends nothing while the base fee is higher."""
    min_tip_gwei: Annotated[float, Field(ge=0)] = 1.0
    opening_bid_dai: Annotated[float, Field(ge=0)] = 0.0
    """1.2: open every auction nobody has bid on with this many DAI (0: never lowball)."""
    gas: KeeperGasSpec = KeeperGasSpec()
    max_txs_per_block: Annotated[int, Field(ge=1)] = 10
    private_bundles: bool = True

    def check(self, scn: ScenarioBase) -> Problems:
        problems: Problems = []
        makers = {p.name for p in scn.protocols if p.kind == "maker"}
        for i, p in enumerate(self.protocols or []):
            if p not in makers:
                problems.append((f"protocols.{i}", f"no maker protocol named {p!r} (known: {', '.join(sorted(makers)) or 'none'})"))
        return problems


def build_maker_keeper(spec: MakerKeeperSpec, wb: WorldBuilder) -> None:
    world = wb.world
    names = list(spec.protocols) if spec.protocols is not None else [
        n for n, p in world.protocols.items() if isinstance(p, MakerSystem)]
    agent = MakerKeeper(
        world, wb.router, name=spec.name, protocols=names, bark=spec.bark, take=spec.take, bid=spec.bid,
        flap=spec.flap, flop=spec.flop,
        bark_unprofitable=spec.bark_unprofitable, margin_bps=round(spec.margin * 10_000),
        bid_share=spec.bid_share, min_profit_usd=round(spec.min_profit_usd * 10**8),
        max_fee_wei=round(spec.max_fee_gwei * 10**9) if spec.max_fee_gwei is not None else None,
        min_tip_wei=round(spec.min_tip_gwei * 10**9),
        opening_bid=int(Frac(str(spec.opening_bid_dai)) * 10**18),
        gas=KeeperGas(**spec.gas.model_dump()), max_txs_per_block=spec.max_txs_per_block,
        private_bundles=spec.private_bundles,
    )
    for token, amount in spec.capital.items():
        world.ledger.mint(token, agent.address, amount)
    world.add_agent(agent)


register("maker", "protocols", MakerSpec, build_maker)
register("maker-keeper", "agents", MakerKeeperSpec, build_maker_keeper)
