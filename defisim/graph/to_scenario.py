"""A scenario from an exposure graph: the graph's ecosystem as a simulation's initial state.

Fast layer (float USD in, scenario data out; the loader turns amounts into base units). The
mapping (all USD figures multiplied by ``scale``):

==========================  ==================================================================
graph                       scenario
==========================  ==================================================================
asset node                  a token (``symbol``, else the id; ``decimals``, else USDC/USDT 6,
                            WBTC 8, others 18) and its reference price: from an edge with
                            ``amount_base_units`` of that token (``value_usd`` / whole
                            tokens), else $1 (the price only fixes the unit; positions are
                            sized in USD; a state graph's asset notes ``... at P USD`` are
                            read too). Every asset gets a Chainlink feed on its reference
                            path (``<symbol>-usd``)
protocol node               a protocol of kind ``family`` (``aave-v3``, ``morpho-blue``,
                            ``compound-v3``; ``maker``, ``perp`` and unknown families run as
                            ``aave-v3``, said in the description), named by its id
collateral_held_in          per (collateral asset, protocol), folding in the protocol's large
  asset -> protocol, and    accounts (account -> protocol ``debt_owed_to``): one borrower
  asset -> account -> p.    population whose collateral totals the edges' USD x scale
                            (equal sizes, at most ``max_positions`` positions of at least
                            ``position_usd``), health factors log-uniform in [1.03, 2.5]
debt_owed_to                the population's debt token: the ``token`` of the protocol's
                            incoming debt edges, else the first stablecoin among the assets
                            (USDC, USDT, DAI, USDS, USDe), else an added USDC; never the
                            collateral itself. Lenders supply what the borrowers can take
equity_usd                  the insurance fund (aave-v3, in the debt token) or initial
                            reserves (compound-v3): the ``insurance_fund``/``reserves`` part
                            named in the node's notes (graphs of a scenario state), else all of
                            ``equity_usd``; x scale
pool node                   a Uniswap V2 pool (``pool:`` dropped from the name) with its
                            ``value_usd`` x scale as liquidity, half per side; its tokens from
                            ``symbol`` ``"A/B"``, else two asset symbols in its label, else the
                            collateral and debt of a protocol selling into it
(route)                     a ``<collateral>-<debt>`` pool is added where no pool path joins a
                            population's collateral to its debt (liquidators must sell)
shock                       the scripted price path: flat, then the shocked asset falls by the
                            drop over an hour from minute 10 and stays there. Default: the
                            graph's first asset shock, else a 40 % fall of the largest
                            collateral asset; a protocol shock falls the protocol's largest
                            collateral by ``collateral_loss``
==========================  ==================================================================

Agents: two liquidators (flash loans, capital in each debt token) and, for compound-v3, an
absorber and a collateral buyer. Oracles and the graph's oracle nodes are not mapped (every
feed reads the reference path).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from defisim.graph.io import ExposureGraph, as_exposure_graph
from defisim.graph.schema import AssetShock, GraphError, NodeShock, ProtocolShock

if TYPE_CHECKING:
    from defisim.scenario.models import ScenarioBase

__all__ = ["component_name", "load_any", "scenario_from_graph", "scenario_model_from_graph"]

LAYER = "fast"

_DECIMALS = {"USDC": 6, "USDT": 6, "WBTC": 8}
_STABLES = ("USDC", "USDT", "DAI", "USDS", "USDE", "GHO", "LUSD")
_FAMILIES = ("aave-v3", "morpho-blue", "compound-v3")
_NAME_BAD = re.compile(r"[^A-Za-z0-9_.\-]+")
_SYM_BAD = re.compile(r"[^A-Za-z0-9.\-]+")


def component_name(node_id: str) -> str:
    """The scenario name of a graph node: ``pool:`` dropped, other characters outside
    ``A-Za-z0-9_.-`` as ``-``, at most 64 characters."""
    base = node_id.removeprefix("pool:").removeprefix("asset:")
    out = _NAME_BAD.sub("-", base).strip("-_.") or "x"
    if not out[0].isalnum():
        out = "x" + out
    return out[:64]


def _symbol(text: str) -> str:
    out = _SYM_BAD.sub("-", text).strip("-.") or "T"
    return out if out[0].isalpha() else "T" + out


def _usd_amount(usd: float, price: float, decimals: int) -> int:
    """Base units worth ``usd`` at ``price`` (floored)."""
    whole = usd / price
    micro = math.floor(whole * 1e6)
    return micro * 10 ** (decimals - 6) if decimals >= 6 else micro // 10 ** (6 - decimals)


def scenario_from_graph(
    graph: ExposureGraph | Any,
    *,
    scale: float | None = None,
    shock: str | None = None,
    blocks: int = 600,
    seed: int = 0,
    max_positions: int = 200,
    position_usd: float = 50_000.0,
    template: dict[str, Any] | None = None,
    prices: dict[str, float] | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """Scenario data (a dict for :func:`defisim.scenario.loader.scenario_from_dict`) for
    ``graph`` (see the module docstring).

    ``scale``: factor on every USD figure (default: so the largest protocol holds $200M of
    collateral, never above 1). ``shock``: a shock of the graph by name (default its first
    asset shock, else a 40 % fall of the largest collateral asset). ``blocks``: run length
    (12 s blocks). ``template``: top-level keys merged over the result (e.g. ``{"chain":
    {...}}``), shallowly. ``prices``: USD per whole token by symbol, over the derived ones
    (e.g. ``{"WETH": 4389.26}`` for a graph without exact ETH amounts). Raises :class:`~defisim.graph.schema.GraphError` if the graph has
    no protocol with collateral.
    """
    g = as_exposure_graph(graph)
    nodes = {n.id: n for n in g.file.nodes}
    edges = g.file.edges
    # --- tokens and prices
    symbols: dict[str, str] = {}
    taken: set[str] = set()
    for n in g.file.nodes:
        if n.kind != "asset":
            continue
        sym = _symbol(n.symbol or n.id)
        while sym.upper() in taken:
            sym = sym + "2"
        taken.add(sym.upper())
        symbols[n.id] = sym
    decimals = {a: (nodes[a].decimals if nodes[a].decimals is not None
                    else _DECIMALS.get(s.upper(), 18)) for a, s in symbols.items()}
    prices_ = {a: 1.0 for a in symbols}
    priced: set[str] = set()
    by_symbol = {s.upper(): a for a, s in symbols.items()}
    for e in edges:
        if e.amount_base_units and e.token and e.value_usd > 0:
            a = e.source if e.source in symbols and symbols[e.source].upper() == _symbol(e.token).upper() \
                else by_symbol.get(_symbol(e.token).upper())
            if a is not None and a not in priced:
                prices_[a] = e.value_usd / (e.amount_base_units / 10 ** decimals[a])
                priced.add(a)
    for a in symbols:
        stated = re.search(r" at ([0-9][0-9.e+\-]*) USD", nodes[a].notes or "")  # graphs of a state
        if a not in priced and stated is not None:
            try:
                value = float(stated.group(1))
            except ValueError:
                value = 0.0
            if value > 0:
                prices_[a] = value
                priced.add(a)
    for a, sym in symbols.items():
        if prices and sym in prices:
            if not prices[sym] > 0:
                raise GraphError(f"price of {sym} must be > 0, got {prices[sym]}")
            prices_[a] = float(prices[sym])
    tokens: dict[str, dict[str, Any]] = {symbols[a]: {"decimals": decimals[a]} for a in symbols}
    price_of = {symbols[a]: prices_[a] for a in symbols}
    dec_of = {symbols[a]: decimals[a] for a in symbols}

    oracle_name = {sym: f"{sym.lower()}-usd" for sym in tokens}

    def add_token(sym: str, dec: int, price: float) -> str:
        if sym not in tokens:
            tokens[sym] = {"decimals": dec}
            oracle_name[sym] = f"{sym.lower()}-usd"
            price_of[sym] = price
            dec_of[sym] = dec
        return sym

    stables = [symbols[a] for a in symbols if symbols[a].upper() in _STABLES]

    # --- exposures per protocol
    owner: dict[str, str] = {}  # account -> protocol it owes
    debt_tokens: dict[str, list[str]] = {}
    for e in edges:
        if e.kind == "debt_owed_to" and nodes[e.target].kind == "protocol":
            if nodes[e.source].kind == "account":
                owner.setdefault(e.source, e.target)
            if e.token:
                debt_tokens.setdefault(e.target, []).append(_symbol(e.token))
    collateral: dict[str, dict[str, float]] = {}
    for e in edges:
        if e.kind != "collateral_held_in" or e.source not in symbols:
            continue
        target = e.target if nodes[e.target].kind == "protocol" else owner.get(e.target)
        if target is None:
            continue
        sym = symbols[e.source]
        collateral.setdefault(target, {})
        collateral[target][sym] = collateral[target].get(sym, 0.0) + e.value_usd
    protocols = [n for n in g.file.nodes if n.kind == "protocol" and collateral.get(n.id)]
    if not protocols:
        raise GraphError(f"graph {g.name!r} has no protocol with collateral_held_in edges to simulate")
    largest = max(sum(collateral[p.id].values()) for p in protocols)
    k = scale if scale is not None else min(1.0, 2e8 / largest) if largest > 0 else 1.0
    if not k > 0:
        raise GraphError(f"scale must be > 0, got {scale}")

    # --- the shock
    shock_asset, drop, shock_name = _pick_shock(g, shock, symbols, collateral)

    # --- protocols
    notes: list[str] = []
    specs: list[dict[str, Any]] = []
    pairs: list[tuple[str, str, float]] = []  # (collateral, debt, USD) that must be sellable
    debt_needs: dict[str, float] = {}

    def default_debt(coll: str, pid: str) -> str:
        for sym in [t for t in debt_tokens.get(pid, []) if t in tokens] + stables:
            if sym != coll:
                return sym
        return add_token("USDC", 6, 1.0) if coll != "USDC" else add_token("USDT", 6, 1.0)

    for p in protocols:
        pid = p.id
        family = p.family or "aave-v3"
        if family not in _FAMILIES:
            notes.append(f"{pid} ({family}) runs as aave-v3")
            family = "aave-v3"
        pops = []
        fund_usd = _fund_usd(p) * k
        per_debt: dict[str, float] = {}
        for i, (coll, usd) in enumerate(sorted(collateral[pid].items(), key=lambda kv: -kv[1])):
            debt = default_debt(coll, pid)
            if family == "compound-v3" and per_debt and debt not in per_debt:
                debt = next(iter(per_debt))  # one base token per Comet
                if debt == coll:
                    notes.append(f"{pid}: {coll} is the base token, left out as collateral")
                    continue
            total = usd * k
            count = max(1, min(max_positions, math.ceil(total / position_usd)))
            pops.append({"count": count, "prefix": f"{component_name(pid)}-{i}", "collateral": {coll: 1.0},
                         "debt": debt, "size_usd": {"median": total / count, "sigma": 0.0},
                         "health": {"min": 1.03, "max": 2.5}})
            per_debt[debt] = per_debt.get(debt, 0.0) + total
            pairs.append((coll, debt, total))
        if not pops:
            continue
        colls = sorted({c for pop in pops for c in pop["collateral"]})
        debts = sorted(per_debt)
        supply = {d: _usd_amount(per_debt[d] * 0.9 * 1.2 + 1000.0, price_of[d], dec_of[d]) for d in debts}
        for d in debts:
            debt_needs[d] = debt_needs.get(d, 0.0) + per_debt[d] * 0.9
        spec = _protocol_spec(family, component_name(pid), colls, debts, pops, supply, fund_usd,
                              price_of, dec_of, oracle_name)
        specs.append(spec)

    # --- pools
    markets: list[dict[str, Any]] = []
    pool_pairs: list[tuple[str, str]] = []
    sells = {}
    for e in edges:
        if e.kind == "liquidations_sell_into":
            sells.setdefault(e.target, e.source)
    for n in g.file.nodes:
        if n.kind != "pool":
            continue
        pair = _pool_tokens(n, symbols, tokens, sells, collateral, debt_tokens)
        if pair is None:
            notes.append(f"pool {n.id}: tokens unknown, left out")
            continue
        liquidity_usd = max(n.value_usd * k, 20_000.0)
        markets.append(_pool(component_name(n.id), pair, liquidity_usd, price_of, dec_of))
        pool_pairs.append(pair)
    for coll, debt, usd in pairs:
        if not _has_path(pool_pairs, coll, debt):
            markets.append(_pool(component_name(f"{coll}-{debt}".lower()), (coll, debt),
                                 max(2e6, 0.5 * usd), price_of, dec_of))
            pool_pairs.append((coll, debt))

    # --- chain, prices, oracles, agents
    gas = next((s for s in tokens if s.upper() in ("WETH", "ETH")), None)
    if gas is None:
        gas = add_token("WETH", 18, 3000.0)
    assets: dict[str, Any] = {}
    for sym in tokens:
        p0 = price_of[sym]
        if sym == shock_asset:
            assets[sym] = {"points": [[0, p0], ["10m", p0], ["70m", p0 * (1.0 - drop)]]}
        else:
            assets[sym] = {"start": p0}
    oracles = [{"kind": "chainlink", "name": oracle_name[sym], "asset": sym, "source": "reference",
                "deviation": 0.0025 if sym.upper() in _STABLES else 0.005,
                "heartbeat": "24h" if sym.upper() in _STABLES else "1h"} for sym in tokens]
    capital = {d: _usd_amount(max(1e5, 0.02 * need), price_of[d], dec_of[d]) for d, need in debt_needs.items()}
    agents: list[dict[str, Any]] = [
        {"kind": "liquidator", "name": "alpha", "capital": capital, "bid_share": 0.9},
        {"kind": "liquidator", "name": "bravo", "capital": capital, "bid_share": 0.8},
    ]
    if any(s["kind"] == "compound-v3" for s in specs):
        agents += [{"kind": "absorber", "name": "comet-keeper"},
                   {"kind": "collateral-buyer", "name": "comet-buyer", "capital": capital, "bid_share": 0.9}]
    title = name or component_name(f"graph-{g.name}")
    description = (f"Built from exposure graph {g.name!r} (as of {g.meta.as_of}) by "
                   f"defisim.graph.to_scenario: USD figures x {k:.6g}; shock: {shock_name}."
                   + (" " + "; ".join(notes) + "." if notes else ""))
    data: dict[str, Any] = {
        "name": title[:64],
        "description": description,
        "seed": seed,
        "chain": {"block_time_s": 12, "blocks": blocks, "gas_asset": gas, "flash_loan_fee_bps": 0},
        "tokens": tokens,
        "prices": {"model": "scripted", "interpolation": "log", "assets": assets},
        "markets": markets,
        "oracles": oracles,
        "protocols": specs,
        "agents": agents,
    }
    for key, value in (template or {}).items():
        data[key] = value
    return data


def _fund_usd(node: Any) -> float:
    """The insurance fund / reserves part of a protocol's buffer (see the module docstring)."""
    found = re.findall(r"(insurance_fund|reserves|surplus) ([0-9][0-9,]*\.?[0-9]*)", node.notes or "")
    if "equity =" in (node.notes or ""):
        return sum(float(v.replace(",", "")) for _, v in found)
    return float(node.equity_usd or 0.0)


def _pick_shock(g: ExposureGraph, shock: str | None, symbols: dict[str, str],
                collateral: dict[str, dict[str, float]]) -> tuple[str | None, float, str]:
    def largest_of(pid: str | None) -> str | None:
        pool = collateral.get(pid, {}) if pid is not None else {
            s: sum(c.get(s, 0.0) for c in collateral.values()) for c in collateral.values() for s in c}
        return max(pool, key=lambda s: pool[s]) if pool else None

    chosen: Any = None
    if shock is not None:
        by_name = {s.name.lower(): s for s in g.file.shocks}
        chosen = by_name.get(shock.strip().lower())
        if chosen is None:
            names = ", ".join(repr(s.name) for s in g.file.shocks) or "none"
            raise GraphError(f"unknown shock {shock!r} (shocks in the graph: {names})")
    else:
        chosen = next((s for s in g.file.shocks if isinstance(s, AssetShock) and s.asset in symbols), None)
    if isinstance(chosen, AssetShock) and chosen.asset in symbols:
        return symbols[chosen.asset], chosen.drop, chosen.name
    if isinstance(chosen, ProtocolShock):
        return largest_of(chosen.protocol), chosen.collateral_loss, chosen.name
    if isinstance(chosen, NodeShock) and chosen.node in symbols:
        return symbols[chosen.node], chosen.distress, chosen.name
    asset = largest_of(None)
    return asset, 0.4, f"{asset} -40% (largest collateral asset)"


def _protocol_spec(family: str, name: str, colls: list[str], debts: list[str], pops: list[dict[str, Any]],
                   supply: dict[str, int], fund_usd: float, price_of: dict[str, float],
                   dec_of: dict[str, int], oracle_name: dict[str, str]) -> dict[str, Any]:
    oracles = {t: oracle_name[t] for t in sorted(set(colls) | set(debts))}
    main_debt = debts[0]
    fund = _usd_amount(fund_usd, price_of[main_debt], dec_of[main_debt]) if fund_usd > 0 else 0
    if family == "morpho-blue":
        markets = []
        for pop in pops:
            coll = next(iter(pop["collateral"]))
            mine = [q for q in pops if q["debt"] == pop["debt"] and next(iter(q["collateral"])) == coll]
            if mine[0] is not pop:
                continue
            usd = sum(q["size_usd"]["median"] * q["count"] for q in mine)
            markets.append({"name": f"{coll}-{pop['debt']}".lower(), "collateral": coll, "loan": pop["debt"],
                            "lltv": 0.86, "fee": 0.1,
                            "supply": _usd_amount(usd * 0.9 * 1.2 + 1000.0, price_of[pop["debt"]],
                                                  dec_of[pop["debt"]]),
                            "borrowers": mine})
        return {"kind": "morpho-blue", "name": name, "oracles": oracles, "markets": markets}
    if family == "compound-v3":
        return {
            "kind": "compound-v3", "name": name, "base": main_debt, "oracles": oracles,
            "collaterals": {c: {"borrow_collateral_factor": 0.82, "liquidate_collateral_factor": 0.90,
                                "liquidation_factor": 0.95,
                                "supply_cap": _usd_amount(1e13, price_of[c], dec_of[c])} for c in colls},
            "store_front_price_factor": 0.5, "target_reserves": fund, "initial_reserves": fund,
            "suppliers": supply[main_debt], "borrowers": pops,
        }
    reserves: dict[str, Any] = {}
    for t in sorted(set(colls) | set(debts)):
        if t in colls:
            reserves[t] = {"ltv": 0.80, "liquidation_threshold": 0.825, "liquidation_bonus": 0.05,
                           "liquidation_protocol_fee": 0.10, "reserve_factor": 0.15}
        else:
            reserves[t] = {"ltv": 0.75, "liquidation_threshold": 0.78, "liquidation_bonus": 0.045,
                           "reserve_factor": 0.10}
    spec: dict[str, Any] = {"kind": "aave-v3", "name": name, "oracles": oracles, "reserves": reserves,
                            "suppliers": supply, "borrowers": pops}
    if fund:
        spec["insurance_fund"] = {"asset": main_debt, "initial": fund, "liquidation_fee_share": 0.5}
    return spec


def _pool(name: str, pair: tuple[str, str], usd: float, price_of: dict[str, float],
          dec_of: dict[str, int]) -> dict[str, Any]:
    a, b = pair
    return {"kind": "uniswap-v2", "name": name, "tokens": [a, b],
            "liquidity": {a: _usd_amount(usd / 2, price_of[a], dec_of[a]),
                          b: _usd_amount(usd / 2, price_of[b], dec_of[b])}}


def _pool_tokens(node: Any, symbols: dict[str, str], tokens: dict[str, Any], sells: dict[str, str],
                 collateral: dict[str, dict[str, float]], debt_tokens: dict[str, list[str]]) -> tuple[str, str] | None:
    known = {s.upper(): s for s in tokens}
    if node.symbol and "/" in node.symbol:
        a, _, b = node.symbol.partition("/")
        if _symbol(a).upper() in known and _symbol(b).upper() in known and a != b:
            return known[_symbol(a).upper()], known[_symbol(b).upper()]
    ids = {aid.lower(): s for aid, s in symbols.items()} | {s.lower(): s for s in symbols.values()}
    found: list[str] = []
    for word in re.split(r"[^A-Za-z0-9]+", f"{node.label or ''} {node.id}"):
        sym = ids.get(word.lower())
        if sym is None and word.lower().startswith("w"):
            sym = ids.get(word.lower()[1:])  # wstETH -> stETH, WETH -> ETH
        if sym is not None and sym not in found:
            found.append(sym)
    if len(found) >= 2:
        return found[0], found[1]
    seller = sells.get(node.id)
    if seller is not None and collateral.get(seller):
        coll = max(collateral[seller], key=lambda s: collateral[seller][s])
        debt = next((t for t in debt_tokens.get(seller, []) if t in tokens and t != coll), None)
        debt = debt or next((s for s in tokens if s.upper() in _STABLES and s != coll), None)
        if debt is not None:
            return coll, debt
    return None


def _has_path(pairs: list[tuple[str, str]], a: str, b: str, hops: int = 3) -> bool:
    frontier, seen = {a}, {a}
    for _ in range(hops):
        nxt = set()
        for x, y in pairs:
            for u, v in ((x, y), (y, x)):
                if u in frontier and v not in seen:
                    nxt.add(v)
        if b in nxt:
            return True
        seen |= nxt
        frontier = nxt
    return False


def scenario_model_from_graph(graph: ExposureGraph | Any, **options: Any) -> ScenarioBase:
    """:func:`scenario_from_graph` validated by the normal loader (ScenarioError if invalid)."""
    from defisim.scenario.loader import scenario_from_dict

    g = as_exposure_graph(graph)
    return scenario_from_dict(scenario_from_graph(g, **options), source=f"graph {g.name}")


def load_any(path: str | Path, **options: Any) -> ScenarioBase:
    """A scenario from a scenario file (.yaml/.yml/.toml) or an exposure-graph file (.json,
    through :func:`scenario_model_from_graph` with ``options``)."""
    from defisim.graph.io import load_graph
    from defisim.scenario import load_scenario

    p = Path(path)
    if p.suffix.lower() == ".json":
        return scenario_model_from_graph(load_graph(p), **options)
    return load_scenario(p)
