"""The exposure graph of real contracts at a block, from what :mod:`defisim.chain.ecosystem_read` read.

:func:`build_graph_from_chain` reads a registry's contracts at block N (read-only) and
:func:`graph_from_chain` assembles the graph with the same edge helper
(:class:`~defisim.graph.from_state.EdgeSums`) and the same conventions as the graph of a
simulated state (:mod:`defisim.graph.from_state`). Exact in, float out: every amount is the
integer a contract returned (token base units) and every USD figure an integer with 8
decimals computed from it with one floor division, made a float only when written.

USD prices (per whole token, 8 decimals), first that applies: the ``AaveOracle`` of the first
registry pool listing the token (``getAssetPrice × 1e8 / BASE_CURRENCY_UNIT``); the registry's
``usd_feed`` for it (``latestRoundData().answer × 1e8 / 10**decimals``); a Morpho market's
oracle for its collateral (``price() / 1e36`` loan base units per collateral base unit, times
the loan token's USD price); else unpriced (0, said in the node's notes).

==========================  =================================================================
node (id)                   value_usd / equity_usd
==========================  =================================================================
protocol, Aave V3 pool      value: its collateral edges (supplied in reserves with a liquidation
(registry id)               threshold > 0). equity: the treasury's reserves (its aToken
                            balance + ``accruedToTreasury`` × income), USD at the oracle;
                            borrowers' over-collateralisation is not included (it needs every
                            position). ``family`` aave-v3
protocol, Morpho Blue       value: collateral of the borrowing positions found (all listed
                            markets). equity: Σ max(0, collateral − debt) over them (as
                            :func:`~defisim.graph.from_state.protocol_buffer_parts`).
                            ``family`` morpho-blue
protocol, issuer            a registry ``issuer`` that is not a read protocol: value = USD of the
                            tokens it issues; equity 0 (its balance sheet is not read)
asset (symbol)              ``totalSupply()`` × USD price; ``decimals``, ``address``; a symbol
                            two tokens share gets ``-<6 hex of the address>``
oracle (``oracle:<addr>``)  Aave ``getSourceOfAsset(asset)``, Morpho market oracle; value = the
                            collateral USD it prices
account                     the ``top_accounts`` largest Morpho borrowing positions (collateral
(``account:<p>:<m>:<a>``)   USD): value = collateral, equity = max(0, collateral − debt)
==========================  =================================================================

==========================  =================================================================
edge                        ``value_usd``, ``amount_base_units`` of ``token``
==========================  =================================================================
collateral_held_in          asset -> Aave pool: ``aToken.totalSupply()`` of a reserve with a
                            liquidation threshold > 0 (everything supplied: also deposits not
                            enabled as collateral, and lenders' liquidity). asset -> Morpho:
                            collateral of the borrowing positions (debt > 0) found, other than
                            the large accounts; asset -> account: a large account's collateral
debt_owed_to                account -> Morpho: the account's debt, ``toAssetsUp(borrowShares)``
                            on the stored totals. Aave debt is read as totals only (variable +
                            stable debt tokens' ``totalSupply()``, in the protocol's notes):
                            the schema's debt edges need a debtor node
token_issued_by             registry token -> its ``issuer``: ``totalSupply()``
oracle_feeds                oracle -> protocol: the collateral USD it prices there
==========================  =================================================================

Every node and edge names a source in ``meta.sources``, titled like ``eth_call totalSupply()
on 0x… , chain 1, block N (timestamp T)``, with the conversion and the registry's source of the
address in its notes. ``meta.as_of`` is the block's date (UTC); the graph's ``block`` and
``timestamp`` attributes hold N and T.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from defisim.graph.from_state import E8, EdgeSums, Position, _clean, _f
from defisim.graph.io import ExposureGraph, as_exposure_graph
from defisim.graph.registry import Registry, load_registry

if TYPE_CHECKING:
    from defisim.chain.ecosystem_read import EcosystemRead, MorphoMarketRead

__all__ = ["build_graph_from_chain", "graph_from_chain"]

LAYER = "fast"
E36 = 10**36


def _token_name(token: Any) -> str:
    """An edge's ``token``: the token's symbol, else the start of its address (a symbol that
    could not be read; the schema keeps token names to 40 characters)."""
    return token.symbol or token.address[:10]


def build_graph_from_chain(registry: Registry | str | Path, rpc_url: str | None, block: int | None = None, *,
                           top_accounts: int = 5, log_blocks: int | None = None,
                           progress: Callable[[str], None] | None = None) -> ExposureGraph:
    """Read ``registry``'s contracts at ``block`` (None: latest) from ``rpc_url`` and build the graph.

    Raises :class:`~defisim.graph.registry.RegistryError` (bad registry) or
    :class:`~defisim.chain.fork.ForkError` (bad input or the chain cannot be read)."""
    from defisim.chain.ecosystem_read import read_ecosystem

    reg = registry if isinstance(registry, Registry) else load_registry(registry)
    state = read_ecosystem(reg, rpc_url, block, log_blocks=log_blocks, progress=progress)
    return graph_from_chain(state, top_accounts=top_accounts)


class _Build:
    """The graph under construction: sources, ids, prices, nodes and summed edges."""

    def __init__(self, state: EcosystemRead) -> None:
        self.state = state
        self.when = datetime.fromtimestamp(state.timestamp, tz=UTC).date().isoformat()
        self.read_on = datetime.now(tz=UTC).date().isoformat()  # the day the chain was read
        self.at = f"chain {state.chain_id}, block {state.block} (timestamp {state.timestamp})"
        self.sources: dict[str, dict[str, Any]] = {}
        self.g = nx.MultiDiGraph()
        self.edges = EdgeSums()
        self.price: dict[str, tuple[int, str]] = {}  # token (lower) -> (USD 1e8 per whole token, how)
        self.secured: dict[str, int] = {}
        self.oracle_label: dict[str, str] = {}

    def source(self, key: str, title: str, notes: str = "") -> str:
        self.sources.setdefault(key, {"title": f"{title}, {self.at}", "retrieved": self.read_on,
                                     "as_of": self.when, "notes": notes})
        return key

    def token(self, address: str) -> Any:
        return self.state.tokens[address.lower()]

    def usd(self, address: str, amount: int) -> int:
        """USD (1e8) of ``amount`` base units at the token's price (0 if unpriced)."""
        p = self.price.get(address.lower())
        return 0 if p is None else amount * p[0] // 10 ** self.token(address).decimals


def _prices(b: _Build) -> None:
    s = b.state
    for pool in s.aave:
        for r in pool.reserves:
            if r.price > 0:
                b.price.setdefault(r.asset.lower(), (r.price * E8 // pool.base_currency_unit,
                                   (f"AaveOracle {pool.oracle} of {pool.label}: getAssetPrice {r.price} "
                                   f"({pool.base_currency_unit} per unit)")))
    for addr, feed in s.feeds.items():
        if feed.answer > 0:
            b.price.setdefault(addr, (feed.answer * E8 // 10**feed.decimals,
                                      (f"registry USD feed {feed.address}: latestRoundData {feed.answer} "
                                      f"({feed.decimals} decimals)")))
    for mb in s.morpho:
        for m in mb.markets:
            loan = b.price.get(m.loan.lower())
            if loan is not None and m.price > 0 and int(m.collateral, 16):
                dec_c, dec_l = b.token(m.collateral).decimals, b.token(m.loan).decimals
                b.price.setdefault(m.collateral.lower(), (m.price * 10**dec_c * loan[0] // (E36 * 10**dec_l),
                                   (f"Morpho market {m.label} oracle {m.oracle}: price() {m.price} (1e36) x "
                                   f"the loan token's USD price")))


def _asset_ids(b: _Build, protocol_ids: set[str]) -> dict[str, str]:
    s = b.state
    symbols = {a: _clean(t.symbol or t.address[:10]) for a, t in s.tokens.items()}
    count: dict[str, int] = {}
    for sym in symbols.values():
        count[sym.lower()] = count.get(sym.lower(), 0) + 1
    ids = {}
    for a, sym in symbols.items():
        nid = sym if count[sym.lower()] == 1 else f"{sym}-{a[2:8]}"
        ids[a] = f"asset:{nid}" if nid in protocol_ids else nid
    return ids


def _aave(b: _Build, ids: dict[str, str]) -> None:
    for pool in b.state.aave:
        pid = pool.id
        key = b.source(pid, (f"eth_call getReservesList, getReserveData, aToken/debt-token totalSupply, treasury "
                             f"balanceOf on Aave V3 pool {pool.pool} and getAssetPrice on AaveOracle {pool.oracle}"),
                       f"pool address: {pool.source}")
        value = supplied = borrowed = reserves = 0
        for r in pool.reserves:
            t = b.token(r.asset)
            sym = _token_name(t)
            unit = pool.base_currency_unit
            usd_of = (lambda x, r=r, unit=unit: x * r.price * E8 // (10**r.decimals * unit))
            supplied += usd_of(r.supplied)
            borrowed += usd_of(r.variable_debt + r.stable_debt)
            reserves += usd_of(r.treasury_balance + r.accrued_to_treasury_units)
            oid = f"oracle:{r.price_source.lower()}"
            b.oracle_label.setdefault(oid, f"{sym} price source of {pool.label} ({r.price_source})")
            if r.liquidation_threshold == 0 or r.supplied == 0:
                continue
            usd = usd_of(r.supplied)
            value += usd
            rkey = b.source(f"{pid}:{_clean(sym)}", (f"eth_call totalSupply() on aToken {r.a_token} ({sym} reserve "
                                                     f"{r.asset}) and getAssetPrice on AaveOracle {pool.oracle}"),
                            (f"amount: aToken totalSupply (scaled supply x liquidity index accrued to the block), "
                             f"{sym} base units ({r.decimals} decimals); USD = amount x {r.price} / "
                             f"{pool.base_currency_unit} / 10^{r.decimals}; liquidation threshold "
                             f"{r.liquidation_threshold} bps; pool address: {pool.source}"))
            b.edges.add(ids[r.asset.lower()], pid, "collateral_held_in", usd, r.supplied, sym,
                        notes="everything supplied to a collateral-eligible reserve (aToken totalSupply)",
                        source_ref=rkey)
            if usd:
                b.edges.add(oid, pid, "oracle_feeds", usd, source_ref=b.source(
                    f"{pid}:oracles", f"eth_call getSourceOfAsset(asset) on AaveOracle {pool.oracle}"))
                b.secured[oid] = b.secured.get(oid, 0) + usd
        base = "" if not int(pool.base_currency, 16) else f"; oracle base currency {pool.base_currency}, not USD"
        b.g.add_node(pid, kind="protocol", label=pool.label, value_usd=_f(value), equity_usd=_f(reserves),
                     source=key, family="aave-v3", address=pool.pool, chain=b.state.registry.chain,
                     notes=(f"value: supplied to collateral-eligible reserves; all supplied {_f(supplied):,.2f} USD, "
                            f"borrowed {_f(borrowed):,.2f} USD (debt tokens' totalSupply); equity = treasury "
                            f"reserves {_f(reserves):,.2f} USD (aToken balance + accruedToTreasury); borrowers' "
                            f"over-collateralisation not read (it needs every position); "
                            f"revision {pool.revision}{base}"))


def _market_positions(b: _Build, m: MorphoMarketRead) -> list[Position]:
    from defisim.engine.protocols.morpho_blue.sharesmath import to_assets_up

    out = []
    loan, coll = m.loan.lower(), m.collateral.lower()
    for p in m.positions:
        if not p.borrow_shares:
            continue
        debt = to_assets_up(p.borrow_shares, m.total_borrow_assets, m.total_borrow_shares)
        loan_e8 = b.price.get(loan, (0, ""))[0]
        coll_usd = p.collateral * m.price * loan_e8 // (E36 * 10 ** b.token(m.loan).decimals)
        out.append(Position(p.account, {coll: p.collateral} if p.collateral else {}, {loan: debt},
                            {coll: coll_usd} if p.collateral else {}, {loan: b.usd(m.loan, debt)}))
    return out


def _morpho(b: _Build, ids: dict[str, str], top_accounts: int) -> None:
    ranked: list[tuple[int, str, Any, Any, Position]] = []
    per_market: dict[tuple[str, str], tuple[list[Position], str]] = {}
    for mb in b.state.morpho:
        for m in mb.markets:
            loan_sym = _token_name(b.token(m.loan))
            coll_sym = _token_name(b.token(m.collateral)) if int(m.collateral, 16) else "none"
            positions = _market_positions(b, m)
            held = sum(p.collateral for p in m.positions)
            key = b.source(f"{mb.id}:{m.id[:10]}", (
                f"eth_call market(id), idToMarketParams(id), position(id, account) on Morpho Blue {mb.address} "
                f"and price() on oracle {m.oracle} for market {m.id}; eth_getLogs {m.scan}"), (
                f"collateral in {coll_sym} base units: sum over the {len(positions)} borrowing positions found "
                f"({'complete scan' if m.complete else 'partial scan: positions opened before it are missing'}); "
                f"USD = collateral x price / 1e36 x loan USD price / 10^loan decimals; debt = "
                f"toAssetsUp(borrowShares) on the stored totals (lastUpdate {m.last_update}). Morpho holds "
                f"{m.morpho_collateral_balance} base units of {coll_sym} over all its markets; the accounts found "
                f"hold {held} in this one. Addresses: Morpho {mb.source}; market {m.source}"))
            per_market[(mb.id, m.id)] = (positions, key)
            ranked += [(p.collateral_total_usd, mb.id, m, key, p) for p in positions]
            coll_usd = sum(p.collateral_total_usd for p in positions)
            if coll_usd:
                oid = f"oracle:{m.oracle.lower()}"
                b.oracle_label.setdefault(oid, f"Morpho oracle of {m.label} ({loan_sym} per {coll_sym})")
                b.edges.add(oid, mb.id, "oracle_feeds", coll_usd, source_ref=key)
                b.secured[oid] = b.secured.get(oid, 0) + coll_usd
    ranked.sort(key=lambda r: (-r[0], r[1], r[2].id, r[4].account))
    large = {(r[1], r[2].id, r[4].account) for r in ranked[:top_accounts]}
    for usd, pid, m, key, p in ranked[:top_accounts]:
        aid = f"account:{_clean(pid)[:30]}:{m.id[:10]}:{p.account}"
        b.g.add_node(aid, kind="account", label=f"{p.account} ({m.label})", value_usd=_f(usd),
                     equity_usd=_f(max(0, usd - p.debt_total_usd)), source=key, address=p.account,
                     chain=b.state.registry.chain)
        for token, amount in p.collateral.items():
            b.edges.add(ids[token], aid, "collateral_held_in", p.collateral_usd[token], amount,
                        _token_name(b.token(token)), source_ref=key)
        for token, amount in p.debt.items():
            b.edges.add(aid, pid, "debt_owed_to", p.debt_usd[token], amount, _token_name(b.token(token)),
                        source_ref=key)
    for mb in b.state.morpho:
        value = buffer = supply = borrow = 0
        notes = []
        for m in mb.markets:
            positions, key = per_market[(mb.id, m.id)]
            for p in positions:
                value += p.collateral_total_usd
                buffer += max(0, p.collateral_total_usd - p.debt_total_usd)
                if (mb.id, m.id, p.account) in large:
                    continue
                for token, amount in p.collateral.items():
                    b.edges.add(ids[token], mb.id, "collateral_held_in", p.collateral_usd[token], amount,
                                _token_name(b.token(token)), source_ref=key)
            supply += b.usd(m.loan, m.total_supply_assets)
            borrow += b.usd(m.loan, m.total_borrow_assets)
            notes.append(f"{m.label}: supplied {m.total_supply_assets}, borrowed {m.total_borrow_assets} loan base "
                         f"units, {len(positions)} borrowers found{'' if m.complete else ' (partial scan)'}")
        key = b.source(mb.id, f"eth_call reads of Morpho Blue {mb.address} (markets {', '.join(m.id for m in mb.markets)})",
                       f"Morpho address: {mb.source}")
        b.g.add_node(mb.id, kind="protocol", label=mb.label, value_usd=_f(value), equity_usd=_f(buffer), source=key,
                     family="morpho-blue", address=mb.address, chain=b.state.registry.chain,
                     notes=(f"value: collateral of the borrowing positions found; equity = over-collateralisation "
                            f"{_f(buffer):,.2f} USD; supplied {_f(supply):,.2f} USD, borrowed {_f(borrow):,.2f} USD "
                            f"as stored; " + "; ".join(notes)))


def graph_from_chain(state: EcosystemRead, *, top_accounts: int = 5, name: str | None = None) -> ExposureGraph:
    """The exposure graph of ``state`` (see the module docstring), validated like a graph file.

    ``top_accounts``: how many of the largest Morpho borrowing positions (collateral USD)
    become account nodes (0: none)."""
    if top_accounts < 0:
        raise ValueError(f"top_accounts must be >= 0, got {top_accounts}")
    b = _Build(state)
    reg = state.registry
    _prices(b)
    issuers = {t.issuer for t in reg.tokens if t.issuer}
    ids = _asset_ids(b, {p.id for p in reg.protocols} | issuers)
    _aave(b, ids)
    _morpho(b, ids, top_accounts)

    issued: dict[str, int] = {}
    for t in reg.tokens:
        tok = b.token(t.address)
        key = b.source(f"token:{ids[t.address.lower()]}", f"eth_call totalSupply() on {tok.address}",
                       f"address: {t.source}")
        if t.issuer:
            usd = b.usd(t.address, tok.total_supply)
            b.edges.add(ids[t.address.lower()], t.issuer, "token_issued_by", usd, tok.total_supply,
                        _token_name(tok), source_ref=key)
            issued[t.issuer] = issued.get(t.issuer, 0) + usd
    labels = {t.issuer: t.issuer_label for t in reg.tokens if t.issuer and t.issuer_label}
    for issuer, usd in issued.items():
        if issuer not in b.g:
            key = b.source(f"issuer:{issuer}", f"the registry {reg.name}: issuer of the tokens it lists")
            b.g.add_node(issuer, kind="protocol", label=labels.get(issuer, issuer), value_usd=_f(usd),
                         equity_usd=0.0, source=key, chain=reg.chain,
                         notes=("issuer named by the registry; its balance sheet is not read: value = USD of the "
                                "listed tokens it issues (totalSupply x price), equity 0 (unknown)"))

    for addr, tok in state.tokens.items():
        price = b.price.get(addr)
        key = b.source(f"token:{ids[addr]}", f"eth_call totalSupply() on {tok.address}",
                       f"price: {price[1]}" if price else "unpriced: no read oracle prices it")
        note = (f"totalSupply {tok.total_supply} base units at block {state.block}; "
                + (f"at {price[0] / E8:g} USD ({price[1]})" if price else "unpriced (no read oracle prices it)"))
        attrs: dict[str, Any] = {"kind": "asset", "label": tok.symbol or tok.address, "decimals": tok.decimals,
                                 "value_usd": _f(b.usd(addr, tok.total_supply)), "source": key,
                                 "address": tok.address, "chain": reg.chain, "notes": note}
        if tok.symbol:
            attrs["symbol"] = tok.symbol[:40]
        b.g.add_node(ids[addr], **attrs)
    for oid, label in b.oracle_label.items():
        b.g.add_node(oid, kind="oracle", label=label, value_usd=_f(b.secured.get(oid, 0)),
                     address=oid.removeprefix("oracle:"), chain=reg.chain,
                     source=b.source(f"{oid}", f"eth_call getSourceOfAsset / market params naming oracle {oid[7:]}"),
                     notes="value: the collateral USD it prices in the read protocols")
    b.edges.into(b.g)
    b.g.graph.update(
        name=name or f"{reg.name} at block {state.block}", as_of=b.when, currency="USD", schema_version=1,
        description=(f"State of the contracts in registry {reg.name!r} on chain {state.chain_id} at block "
                     f"{state.block} (timestamp {state.timestamp}), read with eth_call by defisim.graph.from_chain. "
                     + " ".join(state.notes)).strip(),
        sources=b.sources, shocks=[],
    )
    graph = as_exposure_graph(b.g)
    graph.nx.graph.update(block=state.block, timestamp=state.timestamp, chain_id=state.chain_id)
    return graph
