"""Contagion kinds: ``psm``, ``aave-static-atoken``, ``receipt-rate``, ``peg-arbitrageur``,
``holder-pressure``.

They link protocols through each other's tokens (see :mod:`defisim.engine.contagion`):

```yaml
oracles:
  - {kind: receipt-rate, name: waUSDC-usd, asset: waUSDC, source: usdc-usd, receipt: waUSDC}
protocols:
  - {kind: maker, name: maker, ...}
  - kind: psm                      # DssPsm on its own ilk of the maker deployment
    name: psm-usdc
    maker: maker
    gem: USDC
    tin: 0.0
    tout: 0.001
    line: "500000000 DAI"          # debt ceiling
    buffer: "20000000 USDC"        # gem it holds at genesis (the DAI goes to buffer_holder)
  - {kind: aave-v3, name: aave, ...}
  - {kind: aave-static-atoken, name: waUSDC, pool: aave, asset: USDC, token: waUSDC}
  - {kind: morpho-blue, ..., oracles: {waUSDC: waUSDC-usd, ...}}   # listed after the wrapper
agents:
  - {kind: peg-arbitrageur, name: psm-arb, psm: psm-usdc, pool: dai-usdc, capital: {USDC: "50000000 USDC"}}
  - {kind: holder-pressure, name: dai-float, maker: maker, pool: dai-usdc, psm: psm-usdc,
     holdings: "200000000 DAI", sensitivity: 0.5, max_fraction_per_block: 0.002}
```

The PSM and the wrapper are not entries of ``world.protocols`` (they liquidate nothing); they
are checked with the world's invariants, and the wrapper is added to the router, so
liquidators can redeem seized receipt tokens for the underlying.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal
from weakref import WeakKeyDictionary

from pydantic import Field

from defisim.engine.agents.holder_pressure import HolderPressure
from defisim.engine.agents.peg_arbitrageur import PegArbitrageur
from defisim.engine.clock import Phase
from defisim.engine.markets.psm import PegStabilityModule, PsmError
from defisim.engine.markets.router import Router
from defisim.engine.markets.static_atoken import StaticAToken
from defisim.engine.oracles.receipt_rate import ReceiptRateOracle
from defisim.engine.protocols.maker import MakerError
from defisim.engine.protocols.maker.config import to_wad
from defisim.scenario.amounts import Amount, TokenAmounts, amount_in
from defisim.scenario.base import Fraction, Name, StrictModel, fraction_to_bps
from defisim.scenario.kinds._common import Problems, Seconds, need_name, need_token
from defisim.scenario.registry import register

if TYPE_CHECKING:
    from defisim.engine.world import World
    from defisim.scenario.assemble import WorldBuilder
    from defisim.scenario.models import ScenarioBase

_PARTS: WeakKeyDictionary[World, dict[str, dict[str, Any]]] = WeakKeyDictionary()


def parts(world: World) -> dict[str, dict[str, Any]]:
    """The contagion components of ``world``: ``{"psm": {...}, "receipts": {...}}`` by name."""
    return _PARTS.setdefault(world, {"psm": {}, "receipts": {}})


def _index(scn: ScenarioBase, section: str, name: str) -> int:
    for i, c in enumerate(getattr(scn, section)):
        if c.name == name:
            return i
    return -1


def _earlier(scn: ScenarioBase, section: str, name: str, before: str, kind: str, path: str,
             what: str) -> Problems:
    """``name`` must be a ``kind`` component of ``section`` listed before ``before``."""
    i, j = _index(scn, section, name), _index(scn, section, before)
    if i < 0:
        return need_name(scn, section, name, path, what)
    comp = getattr(scn, section)[i]
    if comp.kind != kind:
        return [(path, f"{name!r} is a {comp.kind}, not a {kind}")]
    if j >= 0 and i > j:
        return [(path, f"{name!r} must be listed before {before!r}")]
    return []


# --- psm ---------------------------------------------------------------------------------------

class PsmSpec(StrictModel):
    """A peg-stability module (``DssPsm``) on its own ilk of a ``maker`` deployment."""

    kind: Literal["psm"]
    name: Name
    maker: str
    gem: str
    ilk: str | None = None
    """Ilk name; default ``PSM-<gem>-A``."""
    tin: Fraction = 0.0
    """Fee on gem -> stablecoin (``sellGem``)."""
    tout: Fraction = 0.0
    """Fee on stablecoin -> gem (``buyGem``)."""
    line: Amount = 0
    """Debt ceiling, stablecoin amount (e.g. ``"500000000 DAI"``)."""
    buffer: amount_in("gem") = 0  # type: ignore[valid-type]
    """Gem the PSM holds at genesis (swapped in without fee)."""
    buffer_holder: Name | None = None
    """Who holds the stablecoin minted for the genesis buffer; default ``holders:<stablecoin>``."""
    drained_below: amount_in("gem") = 0  # type: ignore[valid-type]
    """Buffer (gem base units) at or below which it counts as drained."""

    def check(self, scn: ScenarioBase) -> Problems:
        problems = _earlier(scn, "protocols", self.maker, self.name, "maker", "maker", "protocol")
        problems += need_token(scn, self.gem, "gem")
        if self.gem in scn.tokens and scn.tokens[self.gem].decimals > 18:
            problems.append(("gem", f"{self.gem} has more than 18 decimals"))
        if self.tin >= 1 or self.tout >= 1:
            problems.append(("tin", "fees must be below 1"))
        return problems


def build_psm(spec: PsmSpec, wb: WorldBuilder) -> None:
    world = wb.world
    system = world.protocols[spec.maker]
    now = world.now(0)
    where = wb.path_of(spec)
    try:
        psm = PegStabilityModule(
            spec.name, system, ilk=spec.ilk or f"PSM-{spec.gem}-A", gem=spec.gem,
            tin=to_wad(spec.tin, "tin"), tout=to_wad(spec.tout, "tout"),
            line=spec.line, drained_below=spec.drained_below, now=now,
        )
    except (PsmError, MakerError, ValueError) as exc:
        wb.fail(where, f"cannot deploy the PSM: {exc}")
    if spec.buffer:
        holder = spec.buffer_holder or f"holders:{system.dai}"
        world.ledger.mint(spec.gem, holder, spec.buffer)
        tin, psm.tin = psm.tin, 0
        try:
            world.emit(psm.sell_gem(0, holder, spec.buffer))
        except PsmError as exc:
            wb.fail(f"{where}.buffer", f"cannot seed the buffer: {exc} (raise line)")
        finally:
            psm.tin = tin
    parts(world)["psm"][spec.name] = psm
    world.checked.append(psm)


# --- static aToken -----------------------------------------------------------------------------

class StaticATokenSpec(StrictModel):
    """A wrapped aToken (``StataTokenV2``-like) of one reserve of an ``aave-v3`` pool."""

    kind: Literal["aave-static-atoken"]
    name: Name
    pool: str
    asset: str
    token: str
    """The share token (in ``tokens``, with the asset's decimals)."""

    def check(self, scn: ScenarioBase) -> Problems:
        problems = _earlier(scn, "protocols", self.pool, self.name, "aave-v3", "pool", "protocol")
        problems += need_token(scn, self.asset, "asset") + need_token(scn, self.token, "token")
        i = _index(scn, "protocols", self.pool)
        if i >= 0 and scn.protocols[i].kind == "aave-v3" and self.asset not in scn.protocols[i].reserves:
            problems.append(("asset", f"{self.asset} is not a reserve of {self.pool}"))
        if (self.asset in scn.tokens and self.token in scn.tokens
                and scn.tokens[self.asset].decimals != scn.tokens[self.token].decimals):
            problems.append(("token", f"{self.token} must have {self.asset}'s decimals"))
        # protocols pricing the token through a receipt-rate oracle of this wrapper come later
        rate_oracles = {o.name for o in scn.oracles if o.kind == "receipt-rate" and o.receipt == self.name}
        here = _index(scn, "protocols", self.name)
        for k, p in enumerate(scn.protocols):
            used = set(getattr(p, "oracles", {}).values()) if isinstance(getattr(p, "oracles", None), dict) else set()
            if used & rate_oracles and k < here:
                message = f"{p.name!r} uses a receipt-rate oracle of {self.name!r}: list it after the wrapper"
                problems.append(("name", message))
        return problems


def build_static_atoken(spec: StaticATokenSpec, wb: WorldBuilder) -> None:
    world = wb.world
    wrapper = StaticAToken(spec.name, world.protocols[spec.pool], spec.asset, spec.token,
                           clock=lambda: world.now())
    mine = parts(world)
    mine["receipts"][spec.name] = wrapper
    world.checked.append(wrapper)
    wb.router = Router({**world.markets, **mine["receipts"]})
    now = world.now(0)
    for oracle in world.oracles.values():
        if isinstance(oracle, ReceiptRateOracle) and getattr(oracle, "receipt", None) == spec.name:
            oracle.bind(wrapper.rate_fraction, issuer=spec.pool)
            world.emit(oracle.on_block(0, now))
    done = [False]

    def back(block: int) -> None:
        if not done[0]:
            done[0] = True
            world.emit(wrapper.back_external_shares(block, world.now(block)))

    world.clock.on(Phase.ORACLE, back)


# --- receipt-rate oracle -----------------------------------------------------------------------

class ReceiptRateSpec(StrictModel):
    """A receipt token priced at the underlying's oracle times its issuer's exchange rate."""

    kind: Literal["receipt-rate"]
    name: Name
    asset: str
    """The receipt token."""
    source: str
    """Oracle of the underlying (listed before this one)."""
    receipt: str
    """The ``aave-static-atoken`` protocol entry that issues ``asset``."""
    deviation: Annotated[float, Field(ge=0, lt=1)] = 0.0001
    heartbeat: Seconds = 86_400

    def check(self, scn: ScenarioBase) -> Problems:
        problems = need_token(scn, self.asset, "asset")
        order = [o.name for o in scn.oracles]
        if self.source not in order:
            problems += need_name(scn, "oracles", self.source, "source", "oracle")
        elif order.index(self.source) > order.index(self.name):
            problems.append(("source", f"{self.source!r} must be listed before {self.name!r}"))
        i = _index(scn, "protocols", self.receipt)
        if i < 0:
            problems += need_name(scn, "protocols", self.receipt, "receipt", "protocol")
        else:
            w = scn.protocols[i]
            if w.kind != "aave-static-atoken":
                problems.append(("receipt", f"{self.receipt!r} is a {w.kind}, not an aave-static-atoken"))
            elif w.token != self.asset:
                problems.append(("asset", f"{self.receipt!r} issues {w.token}, not {self.asset}"))
            else:
                src = {o.name: o for o in scn.oracles}.get(self.source)
                if src is not None and src.asset != w.asset:
                    problems.append(("source", f"{self.source!r} prices {src.asset}, not {w.asset}"))
        return problems


def build_receipt_rate(spec: ReceiptRateSpec, wb: WorldBuilder) -> None:
    world = wb.world
    wrapper_spec = next(p for p in wb.scenario.protocols if p.name == spec.receipt)
    source = world.oracles[spec.source]
    oracle = ReceiptRateOracle(
        spec.name, spec.asset, wrapper_spec.asset, source.latest_answer,
        deviation_bps=fraction_to_bps(spec.deviation, "deviation"), heartbeat_s=spec.heartbeat,
        issuer=wrapper_spec.pool,
    )
    oracle.receipt = spec.receipt  # type: ignore[attr-defined]
    world.add_oracle(spec.name, oracle)


# --- agents -------------------------------------------------------------------------------------

def _usd_e8(x: float) -> int:
    return round(x * 10**8)


def _pool_problems(scn: ScenarioBase, pool: str, tokens: set[str], path: str) -> Problems:
    pools = {m.name: m for m in scn.markets if m.kind == "uniswap-v2"}
    if pool not in pools:
        return [(path, f"no uniswap-v2 market named {pool!r} (known: {', '.join(pools) or 'none'})")]
    if not tokens <= set(pools[pool].tokens):
        return [(path, f"pool {pool!r} trades {list(pools[pool].tokens)}, not {sorted(tokens)}")]
    return []


class PegArbitrageurSpec(StrictModel):
    """Arbitrages a stablecoin's AMM pool against its PSM (holds gem ``capital``)."""

    kind: Literal["peg-arbitrageur"]
    name: Name
    psm: str
    pool: str
    capital: TokenAmounts = {}
    bid_share: Fraction = 0.5
    min_profit_usd: Annotated[float, Field(ge=0)] = 1.0
    gas: Annotated[int, Field(ge=21_000)] = 250_000
    private_bundles: bool = True

    def check(self, scn: ScenarioBase) -> Problems:
        i = _index(scn, "protocols", self.psm)
        if i < 0 or scn.protocols[i].kind != "psm":
            return need_name(scn, "protocols", self.psm, "psm", "protocol") or [("psm", f"{self.psm!r} is not a psm")]
        psm = scn.protocols[i]
        maker = scn.protocols[_index(scn, "protocols", psm.maker)] if _index(scn, "protocols", psm.maker) >= 0 else None
        tokens = {psm.gem} | ({maker.dai} if maker is not None and maker.kind == "maker" else set())
        return _pool_problems(scn, self.pool, tokens, "pool")


def build_peg_arbitrageur(spec: PegArbitrageurSpec, wb: WorldBuilder) -> None:
    world = wb.world
    agent = PegArbitrageur(
        world, name=spec.name, psm=parts(world)["psm"][spec.psm], pool=world.markets[spec.pool],
        bid_share=spec.bid_share, min_profit_usd=_usd_e8(spec.min_profit_usd), gas=spec.gas,
        private_bundles=spec.private_bundles,
    )
    for token, amount in spec.capital.items():
        world.ledger.mint(token, agent.address, amount)
    world.add_agent(agent)


class HolderPressureSpec(StrictModel):
    """Stablecoin holders selling a share of their balance per block while the issuer's bad
    debt is uncovered: ``min(max_fraction_per_block, sensitivity * u)`` (see
    :mod:`defisim.engine.agents.holder_pressure`)."""

    kind: Literal["holder-pressure"]
    name: Name
    maker: str
    pool: str
    psm: str | None = None
    holdings: Amount = 0
    """Stablecoin they hold at genesis (e.g. ``"200000000 DAI"``)."""
    sensitivity: Annotated[float, Field(ge=0, le=1000)] = 0.5
    max_fraction_per_block: Fraction = 0.002
    min_unbacked_share: Fraction = 0.0
    peg_band: Fraction = 0.01
    """Depeg mark for the ``PegLost`` record (0.01: below $0.99)."""
    gas: Annotated[int, Field(ge=21_000)] = 150_000
    tip_gwei: Annotated[float, Field(ge=0)] = 1.0

    def check(self, scn: ScenarioBase) -> Problems:
        i = _index(scn, "protocols", self.maker)
        if i < 0 or scn.protocols[i].kind != "maker":
            return need_name(scn, "protocols", self.maker, "maker", "protocol") or [
                ("maker", f"{self.maker!r} is not a maker protocol")]
        problems = _pool_problems(scn, self.pool, {scn.protocols[i].dai}, "pool")
        if self.psm is not None:
            j = _index(scn, "protocols", self.psm)
            if j < 0 or scn.protocols[j].kind != "psm":
                problems += need_name(scn, "protocols", self.psm, "psm", "protocol") or [
                    ("psm", f"{self.psm!r} is not a psm")]
        return problems


def build_holder_pressure(spec: HolderPressureSpec, wb: WorldBuilder) -> None:
    world = wb.world
    system = world.protocols[spec.maker]
    holdings = spec.holdings
    agent = HolderPressure(
        world, name=spec.name, system=system, pool=world.markets[spec.pool],
        kappa=to_wad(spec.sensitivity, "sensitivity"), phi_max=to_wad(spec.max_fraction_per_block,
                                                                     "max_fraction_per_block"),
        u_min=to_wad(spec.min_unbacked_share, "min_unbacked_share"),
        band_bps=fraction_to_bps(spec.peg_band, "peg_band"),
        psm=parts(world)["psm"][spec.psm] if spec.psm is not None else None,
        gas=spec.gas, tip_wei=round(spec.tip_gwei * 10**9),
    )
    if holdings:
        world.ledger.mint(system.dai, agent.address, holdings)
    world.add_agent(agent)


register("psm", "protocols", PsmSpec, build_psm)
register("aave-static-atoken", "protocols", StaticATokenSpec, build_static_atoken)
register("receipt-rate", "oracles", ReceiptRateSpec, build_receipt_rate)
register("peg-arbitrageur", "agents", PegArbitrageurSpec, build_peg_arbitrageur)
register("holder-pressure", "agents", HolderPressureSpec, build_holder_pressure)
