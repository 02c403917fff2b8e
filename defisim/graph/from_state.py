"""The exposure graph of a simulated world: protocols, assets, pools, oracles, large accounts.

Fast layer out, exact layer in: amounts are read from the protocols' exact views (token base
units, ints) and each USD figure is the protocol's own ``value_usd`` of those base units (its
oracle price, 1e8), divided by 1e8 only at the end. The result is validated with the same
checks as a graph file (:func:`~defisim.graph.io.as_exposure_graph`).

Mapping from the world's state (ids in brackets; a clash between a protocol name and a token
symbol gets ``asset:`` on the asset):

========================  ====================================================================
node (id)                 value_usd / equity_usd
========================  ====================================================================
protocol (its name)       value: collateral backing open debt, USD at the protocol's oracle
                          (perp: traders' and the vault's quote collateral). equity (buffer E):
                          insurance fund + reserves/surplus + over-collateralisation, see
                          :func:`protocol_buffer_parts`; ``family`` = the scenario kind
asset (token symbol)      ledger supply x price (the first oracle pricing it, else the
                          reference path); ``decimals`` set
pool (``pool:<market>``)  uniswap-v2: reserve0 x p0 + reserve1 x p1; external venue: its
                          ``depth_usd``; ``symbol`` = ``"TOKEN0/TOKEN1"``
oracle (``oracle:<n>``)   the collateral (perp: open interest notional) it prices
account                   the ``top_accounts`` largest borrowing positions over the lending
(``account:<p>:<acct>``)  families (aave-v3, morpho-blue, compound-v3, maker) by collateral
                          USD: value = collateral, equity = max(0, collateral - debt)
========================  ====================================================================

========================  ====================================================================
edge                      meaning (``value_usd`` and exact ``amount_base_units`` of ``token``)
========================  ====================================================================
collateral_held_in        asset -> protocol: collateral of the protocol's borrowing positions
                          (debt > 0) *other than* the large accounts; asset -> account: a large
                          account's collateral. So the sum of an asset's collateral edges into
                          a protocol and into its accounts is the protocol's total. perp:
                          quote collateral of every margin account (no account nodes)
debt_owed_to              account -> protocol, one per debt token (``key`` =
                          ``debt_owed_to:<TOKEN>`` when an account owes two)
token_issued_by           DAI -> the maker protocol issuing it (ledger supply)
oracle_feeds              oracle -> protocol: collateral the protocol prices with it (perp: the
                          market's open-interest notional at the mark)
oracle_reads_pool         oracle -> pool: a chainlink/OSM reading an external venue (through
                          OSM hops), a TWAP/AMM-spot oracle reading a Uniswap V2 pool; value =
                          the pool's liquidity
liquidations_sell_into    protocol -> pool: every pool on the router path from a collateral
                          to the debt token (the path liquidators, Comet buyers and Maker
                          keepers trade), when an agent of the scenario liquidates that
                          protocol; perp: the market's venue. value = the collateral (perp: the
                          open interest notional) that could be sold there
========================  ====================================================================

Protocol kinds this module does not know (e.g. plug-ins) appear as protocol nodes with value 0
and their oracle edges only; nothing is guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import networkx as nx

from defisim.graph.io import ExposureGraph, as_exposure_graph

if TYPE_CHECKING:
    from defisim.engine.world import World
    from defisim.results import Result
    from defisim.scenario.models import ScenarioBase

__all__ = [
    "LENDING_FAMILIES",
    "EdgeSums",
    "Position",
    "ProtocolExposure",
    "graph_at",
    "graph_at_block",
    "graph_from_world",
    "path_shocks",
    "protocol_exposures",
]

LAYER = "fast"
E8 = 10**8
RAY = 10**27
SOURCE_KEY = "defisim-state"
LENDING_FAMILIES = ("aave-v3", "morpho-blue", "compound-v3", "maker")
_SELLERS: dict[str, tuple[str, ...]] = {
    "liquidator": ("aave-v3", "morpho-blue"),
    "collateral-buyer": ("compound-v3",),
    "maker-keeper": ("maker",),
}
"""Agent kind -> protocol families whose seized collateral it sells through the router."""


@dataclass(slots=True)
class Position:
    """One position: collateral and debt in base units, their USD (1e8) at the protocol."""

    account: str
    collateral: dict[str, int] = field(default_factory=dict)
    debt: dict[str, int] = field(default_factory=dict)
    collateral_usd: dict[str, int] = field(default_factory=dict)
    debt_usd: dict[str, int] = field(default_factory=dict)

    @property
    def collateral_total_usd(self) -> int:
        return sum(self.collateral_usd.values())

    @property
    def debt_total_usd(self) -> int:
        return sum(self.debt_usd.values())


@dataclass(slots=True)
class ProtocolExposure:
    """What the graph needs of one protocol, read from its exact views (USD in 1e8 ints).

    ``positions``: borrowing positions (debt > 0; perp: margin accounts with collateral);
    ``buffer``: named parts of the loss-absorbing buffer (USD 1e8); ``oracles``: asset ->
    oracle name; ``sell_pairs``: (collateral token, token it is sold for); ``venues``: pools
    a perp market closes into, with the notional; ``issued``: tokens the protocol issues;
    ``oracle_values``: oracle name -> USD it secures (perp: notional).
    """

    name: str
    family: str
    positions: list[Position] = field(default_factory=list)
    buffer: dict[str, int] = field(default_factory=dict)
    oracles: dict[str, str] = field(default_factory=dict)
    sell_pairs: list[tuple[str, str]] = field(default_factory=list)
    venues: dict[str, int] = field(default_factory=dict)
    issued: list[str] = field(default_factory=list)
    oracle_values: dict[str, int] = field(default_factory=dict)
    lending: bool = True

    def collateral_totals(self) -> dict[str, tuple[int, int]]:
        """token -> (base units, USD 1e8) summed over the positions."""
        out: dict[str, tuple[int, int]] = {}
        for p in self.positions:
            for token, amount in p.collateral.items():
                units, usd = out.get(token, (0, 0))
                out[token] = (units + amount, usd + p.collateral_usd[token])
        return out


# ---------------------------------------------------------------------------------------------
# per-family readers


def _aave(name: str, pool: Any, spec: Any, world: World, now: int) -> ProtocolExposure:
    out = ProtocolExposure(name, "aave-v3", oracles=dict(spec.oracles))
    assets = pool.assets()
    for acct in pool.positions():
        if acct == pool.treasury:
            continue
        debt = {a: d for a in assets if (d := pool.debt_of(now, acct, a))}
        if not debt:
            continue
        coll = {a: c for a in assets if pool.is_collateral(acct, a) and (c := pool.collateral_of(now, acct, a))}
        out.positions.append(_position(acct, coll, debt, pool.value_usd))
    treasury = world.treasuries.get(name)
    if treasury is not None and treasury.fund is not None:
        asset = treasury.fund.asset
        out.buffer["insurance_fund"] = _usd_of(world, pool, asset, treasury.fund_balance())
    out.buffer["reserves"] = sum(pool.value_usd(a, pool.collateral_of(now, pool.treasury, a)) for a in assets)
    out.sell_pairs = sorted({(c, d) for p in out.positions for c in p.collateral for d in p.debt})
    return out


def _morpho(name: str, morpho: Any, spec: Any, world: World, now: int) -> ProtocolExposure:
    from defisim.engine.protocols.morpho_blue.morpho import KEY_SEPARATOR

    out = ProtocolExposure(name, "morpho-blue", oracles=dict(spec.oracles))
    for key in morpho.positions():
        market, _, user = key.partition(KEY_SEPARATOR)
        params = morpho.market_params(market)
        debt = morpho.borrow_assets(now, market, user)
        if not debt:
            continue
        coll = morpho.position(market, user).collateral
        out.positions.append(_position(key, {params.collateral_token: coll} if coll else {},
                                       {params.loan_token: debt}, morpho.value_usd))
    out.sell_pairs = sorted({(morpho.market_params(m).collateral_token, morpho.market_params(m).loan_token)
                             for m in morpho.markets()})
    return out


def _comet(name: str, comet: Any, spec: Any, world: World, now: int) -> ProtocolExposure:
    out = ProtocolExposure(name, "compound-v3", oracles=dict(spec.oracles))
    base = comet.base_token
    assets = comet.collateral_assets()
    for acct in comet.positions():
        debt = comet.borrow_balance_of(now, acct)
        if not debt:
            continue
        coll = {a: c for a in assets if (c := comet.collateral_balance_of(acct, a))}
        out.positions.append(_position(acct, coll, {base: debt}, comet.value_usd))
    out.buffer["reserves"] = comet.value_usd(base, max(0, comet.reserve_equity(now)))
    out.sell_pairs = [(a, base) for a in assets]
    return out


def _maker(name: str, system: Any, spec: Any, world: World, now: int) -> ProtocolExposure:
    out = ProtocolExposure(name, "maker", oracles={system.gems[i]: c.oracle for i, c in spec.ilks.items()
                                                   if i in system.gems})
    for ilk, urns in system.vat.urns.items():
        gem = system.gems[ilk]
        for urn, u in urns.items():
            if not u.art:
                continue
            coll = system.collateral_of(ilk, urn)
            out.positions.append(_position(f"{ilk}/{urn}", {gem: coll} if coll else {},
                                           {system.dai: system.debt_of(ilk, urn)}, system.value_usd))
    vow = system.vow.address
    surplus_rad = system.vat.dai.get(vow, 0) - system.vat.sin.get(vow, 0)
    out.buffer["surplus"] = system.value_usd(system.dai, max(0, surplus_rad) // RAY)
    out.issued = [system.dai]
    out.sell_pairs = sorted({(g, system.dai) for g in system.gems.values()})
    return out


def _perp(name: str, ex: Any, spec: Any, world: World, now: int) -> ProtocolExposure:
    out = ProtocolExposure(name, "perp", lending=False)
    quote = ex.quote
    equity = 0
    for key in ex.accounts():
        c = ex.collateral(key)
        if c > 0:
            out.positions.append(_position(key, {quote: c}, {}, ex.value_usd))
        if ex.positions(key):
            equity += max(0, ex.equity(key))
    out.buffer["insurance_fund"] = ex.value_usd(quote, ex.fund_balance())
    out.buffer["trader_equity"] = ex.value_usd(quote, equity)
    specs = {m.name: m for m in spec.markets}
    for market in ex.markets():
        params = ex.market_params(market)
        long, _ = ex.open_interest(market)
        notional = ex.value_usd(params.asset, long)
        m = specs.get(market)
        if m is None:
            continue
        out.oracles[params.asset] = m.oracle
        out.oracle_values[m.oracle] = out.oracle_values.get(m.oracle, 0) + notional
        if m.venue is not None:
            out.venues[m.venue] = out.venues.get(m.venue, 0) + notional
    return out


_READERS = {"aave-v3": _aave, "morpho-blue": _morpho, "compound-v3": _comet, "maker": _maker,
            "perp": _perp}


def _position(account: str, coll: dict[str, int], debt: dict[str, int], value_usd: Any) -> Position:
    return Position(account, coll, debt, {a: value_usd(a, x) for a, x in coll.items()},
                    {a: value_usd(a, x) for a, x in debt.items()})


def _usd_of(world: World, protocol: Any, asset: str, amount: int) -> int:
    try:
        return int(protocol.value_usd(asset, amount))
    except Exception:  # noqa: BLE001 - a token the protocol does not price: use the world's price
        return amount * _price_e8(world, asset) // 10 ** world.ledger.decimals[asset]


def protocol_exposures(world: World, scenario: ScenarioBase) -> list[ProtocolExposure]:
    """Every protocol of ``world`` read through its family's exact views, in scenario order."""
    now = world.now()
    specs = {p.name: p for p in scenario.protocols}
    out = []
    for name, protocol in world.protocols.items():
        spec = specs.get(name)
        kind = getattr(spec, "kind", "")
        reader = _READERS.get(kind)
        if reader is None:
            oracles = dict(getattr(spec, "oracles", {}) or {})
            out.append(ProtocolExposure(name, kind or "unknown", oracles=oracles, lending=False))
            continue
        exp = reader(name, protocol, spec, world, now)
        if exp.lending:
            buffer = sum(max(0, p.collateral_total_usd - p.debt_total_usd) for p in exp.positions)
            exp.buffer["overcollateralisation"] = buffer
            for asset, oracle in exp.oracles.items():
                usd = exp.collateral_totals().get(asset, (0, 0))[1]
                if usd:
                    exp.oracle_values[oracle] = exp.oracle_values.get(oracle, 0) + usd
        else:
            totals = exp.collateral_totals()
            for asset, oracle in exp.oracles.items():
                if asset in totals and oracle not in exp.oracle_values:
                    exp.oracle_values[oracle] = totals[asset][1]
        out.append(exp)
    return out


def protocol_buffer_parts(exp: ProtocolExposure, overcollateralisation: bool = True) -> dict[str, int]:
    """The parts of a protocol's buffer E (USD 1e8) that the graph's ``equity_usd`` sums.

    - ``insurance_fund``: aave-v3 insurance-fund balance, perp insurance fund;
    - ``reserves``: aave-v3 treasury aTokens, compound-v3 ``reserve_equity`` (>= 0);
    - ``surplus``: maker Vow surplus (DAI in the Vat minus its sin, >= 0);
    - ``overcollateralisation`` (lending families): Σ max(0, collateral - debt) over the
      borrowing positions, the collateral loss the borrowers absorb before lenders lose;
      ``trader_equity`` (perp): Σ max(0, equity) of accounts with open positions.

    With ``overcollateralisation=False`` the last two are left out (only the protocol's own
    funds count).
    """
    skip = () if overcollateralisation else ("overcollateralisation", "trader_equity")
    return {k: v for k, v in exp.buffer.items() if k not in skip}


# ---------------------------------------------------------------------------------------------
# prices


def _price_e8(world: World, token: str) -> int:
    """USD per whole ``token`` (1e8): the first oracle pricing it, else its reference price."""
    for oracle in world.oracles.values():
        if oracle.asset == token and oracle.has_answer:
            return int(oracle.latest_answer())
    if token in world.reference.assets:
        return world.reference_e8(token)
    for market in world.markets.values():  # priced through an AMM against a priced token
        if not hasattr(market, "reserve0") or token not in (market.token0, market.token1):
            continue
        other = market.token1 if market.token0 == token else market.token0
        mine, theirs = ((market.reserve0, market.reserve1) if market.token0 == token
                        else (market.reserve1, market.reserve0))
        if mine and other != token and (other in world.reference.assets or any(
                o.asset == other and o.has_answer for o in world.oracles.values())):
            d = world.ledger.decimals
            return theirs * 10 ** d[token] * _price_e8(world, other) // (mine * 10 ** d[other])
    return 0


def _market_tokens(market: Any) -> tuple[str, str] | None:
    if hasattr(market, "token0"):
        return market.token0, market.token1
    if hasattr(market, "asset") and hasattr(market, "quote_token"):
        return market.asset, market.quote_token
    return None


def _market_value_usd(world: World, market: Any) -> int:
    if hasattr(market, "reserve0"):
        d = world.ledger.decimals
        return (market.reserve0 * _price_e8(world, market.token0) // 10 ** d[market.token0]
                + market.reserve1 * _price_e8(world, market.token1) // 10 ** d[market.token1])
    if hasattr(market, "depth_usd"):
        return round(float(market.depth_usd) * E8)
    return 0


# ---------------------------------------------------------------------------------------------
# the graph


_ID_BAD = re.compile(r"[^A-Za-z0-9_.:/\-]+")


def _clean(text: str) -> str:
    out = _ID_BAD.sub("-", text).strip("-") or "x"
    return out if out[0].isalnum() else f"x{out}"


def _f(usd_e8: int) -> float:
    return usd_e8 / E8


class EdgeSums:
    """Edges summed per (source, target, kind, token); keys only where a triple repeats.

    ``usd`` is USD with 8 decimals (int), ``amount`` token base units (int); both are summed
    exactly and ``usd`` becomes a float only in :meth:`into`. ``source_ref`` names the
    ``meta.sources`` key of the edge (default :data:`SOURCE_KEY`, the simulated state); the
    first row of an edge sets it. Shared by :func:`graph_from_world` and
    :mod:`defisim.graph.from_chain`, so simulated and chain-read states make edges alike.
    """

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str, str | None], list[Any]] = {}

    def add(self, u: str, v: str, kind: str, usd: int, amount: int | None = None,
            token: str | None = None, notes: str = "", source_ref: str = SOURCE_KEY) -> None:
        row = self.rows.setdefault((u, v, kind, token), [0, None, notes, source_ref])
        row[0] += usd
        if amount is not None:
            row[1] = (row[1] or 0) + amount

    def into(self, g: nx.MultiDiGraph) -> None:
        triples: dict[tuple[str, str, str], int] = {}
        for u, v, kind, _ in self.rows:
            triples[(u, v, kind)] = triples.get((u, v, kind), 0) + 1
        for (u, v, kind, token), (usd, amount, notes, ref) in self.rows.items():
            key = f"{kind}:{token}" if triples[(u, v, kind)] > 1 else kind
            attrs: dict[str, Any] = {"kind": kind, "value_usd": _f(usd), "source_ref": ref}
            if amount is not None and token is not None:
                attrs["amount_base_units"] = int(amount)
                attrs["token"] = token
            if notes:
                attrs["notes"] = notes
            g.add_edge(u, v, key=key, **attrs)


def graph_from_world(
    world: World,
    scenario: ScenarioBase,
    *,
    block: int | None = None,
    top_accounts: int = 10,
    overcollateralisation: bool = True,
    shocks: bool = True,
    name: str | None = None,
) -> ExposureGraph:
    """The exposure graph of ``world`` in its current state (see the module docstring).

    ``scenario`` is the one the world was built from (it names each protocol's kind and
    oracles, the oracles' sources and the agents). ``block`` only labels the graph (default
    ``world.block``): the state read is the world's now. ``top_accounts``: how many of the
    largest borrowing positions become account nodes (0: none). ``overcollateralisation``: count
    borrowers' collateral above their debt in the protocols' buffers (see
    :func:`protocol_buffer_parts`). ``shocks``: add one asset shock per asset whose reference
    path falls after ``block`` (:func:`path_shocks`), the scenario's own shock for DebtRank.
    Validated like a graph file.
    """
    if top_accounts < 0:
        raise ValueError(f"top_accounts must be >= 0, got {top_accounts}")
    at = world.block if block is None else block
    exps = protocol_exposures(world, scenario)
    ledger = world.ledger
    protocol_ids = {e.name for e in exps}
    asset_id = {t: (f"asset:{t}" if t in protocol_ids else t) for t in ledger.decimals}
    when = datetime.fromtimestamp(world.now(), tz=UTC).date().isoformat()
    g = nx.MultiDiGraph()
    g.graph.update(
        name=name or f"{scenario.name} at block {at}",
        as_of=when,
        description=(f"State of scenario {scenario.name!r} (seed-built world) at block {at}, read "
                     "from the protocols' exact views by defisim.graph.from_state."),
        currency="USD",
        schema_version=1,
        sources={SOURCE_KEY: {"title": f"defisim simulated state of {scenario.name} at block {at}",
                              "retrieved": when, "as_of": when,
                              "notes": "simulated, not real figures"}},
        shocks=path_shocks(world, at, asset_id) if shocks else [],
        block=at,
    )
    edges = EdgeSums()
    prices = {t: _price_e8(world, t) for t in ledger.decimals}

    # large accounts: the top-N borrowing positions of the lending families by collateral USD
    ranked = sorted(((p.collateral_total_usd, e.name, p.account, p) for e in exps if e.lending
                     for p in e.positions), key=lambda r: (-r[0], r[1], r[2]))
    large = {(r[1], r[2]) for r in ranked[:top_accounts]}
    for usd, pname, acct, p in ranked[:top_accounts]:
        aid = f"account:{_clean(pname)}:{_clean(acct)}"
        g.add_node(aid, kind="account", label=f"{acct} ({pname})", value_usd=_f(usd),
                   equity_usd=_f(max(0, usd - p.debt_total_usd)), source=SOURCE_KEY)
        for token, amount in p.collateral.items():
            edges.add(asset_id[token], aid, "collateral_held_in", p.collateral_usd[token], amount, token)
        for token, amount in p.debt.items():
            edges.add(aid, pname, "debt_owed_to", p.debt_usd[token], amount, token)

    used_tokens: set[str] = set()
    for e in exps:
        totals = e.collateral_totals()
        value = sum(usd for _, usd in totals.values())
        parts = protocol_buffer_parts(e, overcollateralisation)
        note = ", ".join(f"{k} {_f(v):,.2f}" for k, v in parts.items())
        g.add_node(e.name, kind="protocol", label=e.name, value_usd=_f(value),
                   equity_usd=_f(sum(parts.values())), source=SOURCE_KEY, family=e.family,
                   notes=f"value: collateral backing debt (USD at its oracles); equity = {note or '0'}")
        for p in e.positions:
            if (e.name, p.account) in large:
                continue
            for token, amount in p.collateral.items():
                edges.add(asset_id[token], e.name, "collateral_held_in", p.collateral_usd[token], amount, token)
                used_tokens.add(token)
        for p in e.positions:
            used_tokens.update(p.collateral)
            used_tokens.update(p.debt)
        for token in e.issued:
            supply = ledger.supply(token)
            edges.add(asset_id[token], e.name, "token_issued_by",
                      supply * prices[token] // 10 ** ledger.decimals[token], supply, token)
            used_tokens.add(token)

    # assets
    for token, dec in ledger.decimals.items():
        supply = ledger.supply(token)
        g.add_node(asset_id[token], kind="asset", label=token, symbol=token, decimals=dec,
                   value_usd=_f(supply * prices[token] // 10**dec), source=SOURCE_KEY,
                   notes=f"ledger supply {supply} base units at {prices[token] / E8:g} USD")

    # pools
    pool_id = {}
    for mname, market in world.markets.items():
        tokens = _market_tokens(market)
        pid = pool_id[mname] = f"pool:{_clean(mname)}"
        attrs: dict[str, Any] = {"kind": "pool", "label": mname,
                                 "value_usd": _f(_market_value_usd(world, market)), "source": SOURCE_KEY}
        if tokens is not None:
            attrs["symbol"] = f"{tokens[0]}/{tokens[1]}"
        attrs["notes"] = "uniswap-v2 reserves" if hasattr(market, "reserve0") else "external venue depth_usd"
        g.add_node(pid, **attrs)

    # oracles and what they read
    oracle_specs = {o.name: o for o in scenario.oracles}
    secured: dict[str, int] = {}
    for e in exps:
        for oracle, usd in e.oracle_values.items():
            if oracle in world.oracles and usd:
                edges.add(f"oracle:{_clean(oracle)}", e.name, "oracle_feeds", usd)
                secured[oracle] = secured.get(oracle, 0) + usd
    for oname, oracle in world.oracles.items():
        oid = f"oracle:{_clean(oname)}"
        g.add_node(oid, kind="oracle", label=oname, value_usd=_f(secured.get(oname, 0)),
                   source=SOURCE_KEY, notes=f"prices {oracle.asset}")
        read = _oracle_reads(oname, oracle_specs, world)
        if read is not None and read in pool_id:
            liquidity = _market_value_usd(world, world.markets[read])
            edges.add(oid, pool_id[read], "oracle_reads_pool", liquidity)

    # liquidations sell into
    from defisim.engine.markets.router import NoRouteError, Router

    router = Router(world.markets)
    names_of = {id(m): n for n, m in world.markets.items()}
    sold = _sold_protocols(scenario, {e.name: e.family for e in exps})
    for e in exps:
        for venue, usd in e.venues.items():
            if venue in pool_id:
                edges.add(e.name, pool_id[venue], "liquidations_sell_into", usd)
        if e.name not in sold:
            continue
        totals = e.collateral_totals()
        for coll, out_token in e.sell_pairs:
            usd = totals.get(coll, (0, 0))[1]
            if not usd or coll == out_token:
                continue
            try:
                path = router.path(coll, out_token)
            except NoRouteError:
                continue
            for pool in path:
                edges.add(e.name, pool_id[names_of[id(pool)]], "liquidations_sell_into", usd)
    edges.into(g)
    graph = as_exposure_graph(g)
    graph.nx.graph["block"] = at
    return graph


def path_shocks(world: World, block: int, ids: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Asset shocks of the run's reference paths: for each asset, its largest fall from the
    price at ``block`` to the lowest price after it (``{"name": "WETH -40% (path)", "asset":
    ..., "drop": f}``), largest first; assets that do not fall (below 0.1 %) are left out."""
    import numpy as np

    out = []
    for asset in world.reference.assets:
        if ids is not None and asset not in ids:
            continue
        path = np.asarray(world.reference.of(asset), dtype=np.float64)
        if block >= len(path) - 1 or path[block] <= 0:
            continue
        drop = float(1.0 - np.min(path[block:]) / path[block])
        if drop >= 1e-3:
            drop = min(1.0, round(drop, 6))
            out.append({"name": f"{asset} -{drop * 100:.4g}% (path)", "asset": (ids or {}).get(asset, asset),
                        "drop": drop, "description": f"the reference path's largest fall after block {block}"})
    return sorted(out, key=lambda s: -s["drop"])


def _oracle_reads(name: str, specs: dict[str, Any], world: World, depth: int = 0) -> str | None:
    """The market an oracle reads, following OSM/chainlink hops through other oracles."""
    spec = specs.get(name)
    if spec is None or depth > 10:
        return None
    pool = getattr(spec, "pool", None)
    if isinstance(pool, str) and pool in world.markets:
        return pool
    source = getattr(spec, "source", None)
    if not isinstance(source, str) or source == "reference":
        return None
    if source in world.markets:
        return source
    return _oracle_reads(source, specs, world, depth + 1)


def _sold_protocols(scenario: ScenarioBase, families: dict[str, str]) -> set[str]:
    out: set[str] = set()
    for agent in scenario.agents:
        fams = _SELLERS.get(getattr(agent, "kind", ""))
        if fams is None:
            continue
        watched = getattr(agent, "protocols", None)
        for name, family in families.items():
            if family in fams and (watched is None or name in watched):
                out.add(name)
    return out


# ---------------------------------------------------------------------------------------------
# graphs of a run


def graph_at_block(scenario: ScenarioBase, block: int = 0, *, seed: int | None = None,
                   blocks: int | None = None, **options: Any) -> ExposureGraph:
    """The graph of ``scenario``'s run at the end of ``block`` (0: after seeding).

    Builds the world exactly as :func:`~defisim.simulate.simulate` does (the same seed and
    reference paths for ``blocks``, default ``chain.blocks``) and runs blocks 1..``block`` only,
    so the state is the one the full run has at that block. ``options`` go to
    :func:`graph_from_world`.
    """
    from defisim.scenario.assemble import build_world

    n = scenario.chain.blocks if blocks is None else blocks
    if not 0 <= block <= n:
        raise ValueError(f"block must be in [0, {n}], got {block}")
    run_seed = scenario.seed if seed is None else seed
    world = build_world(scenario, run_seed, n)
    if block > 0:
        world.run(1, block)
    return graph_from_world(world, scenario, block=block, **options)


def graph_at(result: Result, block: int, **options: Any) -> ExposureGraph:
    """The graph of ``result``'s run at ``block``.

    Taken from ``result.graphs`` when the run recorded it (``simulate(..., graph_blocks=...)``),
    from ``result.world`` for the last block (default options only), else replayed: the world
    is rebuilt from the result's scenario and seed and run to ``block``
    (:func:`graph_at_block`), which costs up to one run.
    """
    graphs = getattr(result, "graphs", None) or {}
    if block in graphs and not options:
        return graphs[block]
    if block == result.blocks and result.world is not None:
        return graph_from_world(result.world, result.scenario, block=block, **options)
    return graph_at_block(result.scenario, block, seed=result.seed, blocks=result.blocks, **options)


def graphs_observer(world: World, scenario: ScenarioBase, blocks: Iterable[int],
                    store: dict[int, ExposureGraph], **options: Any) -> Any:
    """An OBSERVE-phase handler storing the graph at each of ``blocks`` into ``store``."""
    wanted = frozenset(blocks)

    def observe(block: int) -> None:
        if block in wanted:
            store[block] = graph_from_world(world, scenario, block=block, **options)

    return observe
