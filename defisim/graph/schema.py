"""The exposure-graph file format: pydantic models, cross-checks, and readable problems.

A graph file is JSON (schema version 1). Every figure can name its public source, a key of
``meta.sources``. Each edge reads as a sentence, ``<source> <kind> <target>``: ``wsteth
collateral_held_in aave-v3``. Amounts are USD (``value_usd``, float) with optional exact token
amounts (``amount_base_units``, an integer in the token's smallest unit, e.g. wei)::

    {
      "schema_version": 1,
      "meta": {
        "name": "example-small", "as_of": "2025-01-31", "currency": "USD",
        "description": "free text",
        "sources": {"llama": {"title": "DefiLlama protocol TVL", "url": "https://defillama.com",
                              "retrieved": "2025-01-31", "notes": ""}}
      },
      "nodes": [
        {"id": "aave-v3", "kind": "protocol", "label": "Aave V3", "value_usd": 2.0e10,
         "equity_usd": 4.0e8, "source": "llama", "equity_source": "llama"},
        {"id": "wsteth", "kind": "asset", "symbol": "wstETH", "value_usd": 1.2e10,
         "source": "llama", "address": "0x7f39c581f595b53c5cb19bd0b3f8da6c935e2ca0"}
      ],
      "edges": [
        {"source": "wsteth", "target": "aave-v3", "kind": "collateral_held_in",
         "value_usd": 5.0e9, "amount_base_units": "1500000000000000000000000",
         "token": "wstETH", "source_ref": "llama"}
      ],
      "shocks": [
        {"name": "wstETH -30%", "asset": "wsteth", "drop": 0.3},
        {"name": "Aave collateral -10%", "protocol": "aave-v3", "collateral_loss": 0.1},
        {"name": "Aave fails", "node": "aave-v3", "distress": 1.0}
      ]
    }

Nodes (``id`` unique: letters, digits and ``_ . : / -``; ``kind`` one of :data:`NODE_KINDS`):

- ``value_usd`` (>= 0): the node's economic size. protocol: total value locked (collateral
  plus supplied liquidity); asset: market value of the supply (or of the part in scope, say
  which in ``notes``); pool: liquidity (both sides); oracle: 0 or the value it secures;
  account: its collateral.
- ``equity_usd`` (>= 0): the loss-absorbing buffer ``E`` of DebtRank. Required for protocol
  (reserves + insurance fund / surplus buffer + the over-collateralisation that absorbs a
  collateral loss before lenders lose, as the file's source states it) and account (collateral
  minus debt). Optional for asset, pool and oracle, which default to: asset = ``value_usd``
  (so a 30 % price drop is distress 0.3), pool = ``value_usd`` (its liquidity), oracle = the sum
  of the ``value_usd`` of its ``oracle_reads_pool`` edges (each pool's share of what the oracle
  reads; 1.0 if it reads none). See :mod:`defisim.graph.impact`.
- ``source`` (required) names the source of ``value_usd``; ``equity_source`` that of
  ``equity_usd`` (default: ``source``). Optional: ``label``, ``symbol``, ``address`` (0x + 40
  hex), ``chain`` (default ``"ethereum"``), ``notes``; ``family`` (protocol: ``aave-v3``,
  ``morpho-blue``, ``compound-v3``, ``maker`` or ``perp``, the mechanism a scenario built from
  the graph uses) and ``decimals`` (asset: the token's decimals).

Edges (``kind`` one of :data:`EDGE_KINDS`; allowed endpoint kinds in :data:`EDGE_ENDPOINTS`):

- ``value_usd`` (>= 0): the USD exposure; ``amount_base_units`` (optional, integer >= 0, may be
  a decimal string for amounts beyond 2**53) with ``token`` naming whose base units;
  ``source_ref`` (required) names the source; optional ``key`` tells apart two edges with the
  same source, target and kind; ``notes``.
- No self-loops (``x token_issued_by x`` is refused); a token has at most one issuer.

Dates: ``meta.as_of`` is the date the graph describes. A source may give the date its figures
describe (``as_of``; without it the source counts as undated), and a node or edge may give its
own ``as_of`` when its figure is of another date than its source (a derived figure: the oldest
date that went into it). :mod:`defisim.graph.dates` reports how far each figure is from
``meta.as_of``.

Shocks (``name`` unique), one of three shapes: ``{"asset": ID, "drop": f}`` (the asset's price
falls by the fraction f), ``{"protocol": ID, "collateral_loss": f}`` (the protocol's collateral
loses the fraction f of its value), ``{"node": ID, "distress": f}`` (the node starts with
distress f). Fractions in (0, 1].

Problems are reported all at once as ``(field path, message)`` pairs in a
:class:`GraphFileError`, with the node or edge named in the message.
"""

from __future__ import annotations

import difflib
import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
)

from defisim.errors import DefisimError, ScenarioError

__all__ = [
    "EDGE_ENDPOINTS",
    "EDGE_KINDS",
    "NODE_KINDS",
    "SCHEMA_VERSION",
    "AssetShock",
    "Edge",
    "GraphError",
    "GraphFile",
    "GraphFileError",
    "Meta",
    "Node",
    "NodeShock",
    "ProtocolShock",
    "Shock",
    "Source",
    "graph_file_from_dict",
    "graph_json_schema",
    "read_graph_file",
]

SCHEMA_VERSION = 1

NODE_KINDS: tuple[str, ...] = ("protocol", "asset", "pool", "oracle", "account")
EDGE_KINDS: tuple[str, ...] = (
    "collateral_held_in",
    "debt_owed_to",
    "token_issued_by",
    "oracle_feeds",
    "oracle_reads_pool",
    "liquidations_sell_into",
)
EDGE_ENDPOINTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # kind: (allowed source kinds, allowed target kinds); the edge reads "source kind target"
    "collateral_held_in": (frozenset({"asset", "pool"}), frozenset({"protocol", "account"})),
    "debt_owed_to": (frozenset({"account", "protocol"}), frozenset({"protocol"})),
    "token_issued_by": (frozenset({"asset"}), frozenset({"protocol", "pool"})),
    "oracle_feeds": (frozenset({"oracle"}), frozenset({"protocol"})),
    "oracle_reads_pool": (frozenset({"oracle"}), frozenset({"pool"})),
    "liquidations_sell_into": (frozenset({"protocol"}), frozenset({"pool"})),
}
"""Which node kinds each edge kind may join, as (source kinds, target kinds)."""

NodeKind = Literal["protocol", "asset", "pool", "oracle", "account"]
EdgeKind = Literal[
    "collateral_held_in", "debt_owed_to", "token_issued_by", "oracle_feeds",
    "oracle_reads_pool", "liquidations_sell_into",
]


class GraphError(DefisimError, ValueError):
    """A request about a graph cannot be answered (unknown node or shock, bad shock text)."""


class GraphFileError(ScenarioError):
    """A graph file is invalid; ``problems`` holds ``(field_path, message)`` pairs."""


def _digits_to_int(value: Any) -> Any:
    """``"1500000000000000000000000"`` -> int (JSON writers that cannot keep big ints exact)."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


Id = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/\-]*$")]
SourceKey = Annotated[str, Field(min_length=1, max_length=100)]
Usd = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Share = Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)]
BaseUnits = Annotated[int, BeforeValidator(_digits_to_int), Field(ge=0)]
Day = Annotated[date, Field(strict=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class Source(_Strict):
    """A public source of figures: what it is, where, and when it was read."""

    title: Annotated[str, Field(min_length=1)]
    url: Annotated[str, Field(pattern=r"^https?://\S+$")] | None = None
    """Where to check the figures (required in practice for real figures; an illustrative
    file may leave it out)."""
    retrieved: Day
    as_of: Day | None = None
    """The date the source's figures describe (a report's "as of", a snapshot's day); None:
    undated. A figure of a different date says so in its own ``as_of``."""
    notes: str = ""


class Meta(_Strict):
    """What the graph is, its date, its currency (USD), and the sources of its figures."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    as_of: Day
    """The date the figures describe (block or day of the snapshot)."""
    description: str = ""
    currency: Literal["USD"] = "USD"
    sources: dict[SourceKey, Source] = Field(default_factory=dict)


class Node(_Strict):
    """A protocol, asset, pool, oracle or large account. Amounts in USD."""

    id: Id
    kind: NodeKind
    label: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    value_usd: Usd
    """Economic size, USD (TVL, market value, pool liquidity, an account's collateral)."""
    equity_usd: Usd | None = None
    """Loss-absorbing buffer E, USD (required for protocol and account)."""
    source: SourceKey
    """Key of ``meta.sources`` for ``value_usd``."""
    equity_source: SourceKey | None = None
    """Key of ``meta.sources`` for ``equity_usd`` (default: ``source``)."""
    symbol: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    address: Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{40}$")] | None = None
    chain: Annotated[str, Field(min_length=1, max_length=40)] = "ethereum"
    family: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    """protocol only, optional: the mechanism family (``aave-v3``, ``morpho-blue``,
    ``compound-v3``, ``maker``, ``perp``) a scenario built from the graph should use."""
    decimals: Annotated[int, Field(ge=0, le=36)] | None = None
    """asset only, optional: the token's decimals (whose base units ``amount_base_units`` counts)."""
    as_of: Day | None = None
    """The date ``value_usd`` describes when it is not its source's ``as_of`` (e.g. a figure
    derived from sources of several dates: the oldest)."""
    notes: str = ""

    @property
    def name(self) -> str:
        """``label`` or, without one, ``id``."""
        return self.label or self.id


class Edge(_Strict):
    """An exposure ``source --kind--> target``; ``value_usd`` in USD, optional exact amount."""

    source: Id
    target: Id
    kind: EdgeKind
    key: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    """Tells apart edges with the same source, target and kind (default: the kind)."""
    value_usd: Usd
    amount_base_units: BaseUnits | None = None
    """The exposure in ``token`` base units (e.g. wei), exact."""
    token: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    source_ref: SourceKey
    """Key of ``meta.sources`` for the figures on this edge."""
    as_of: Day | None = None
    """The date the figures describe when it is not the source's ``as_of``."""
    notes: str = ""

    @property
    def edge_key(self) -> str:
        return self.key or self.kind


class AssetShock(_Strict):
    """The asset's price falls by ``drop`` (fraction of its value)."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    asset: Id
    drop: Share
    description: str = ""


class ProtocolShock(_Strict):
    """The protocol's collateral loses ``collateral_loss`` (fraction) of its USD value."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    protocol: Id
    collateral_loss: Share
    description: str = ""


class NodeShock(_Strict):
    """The node starts with DebtRank distress ``distress`` (fraction of its buffer lost)."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    node: Id
    distress: Share
    description: str = ""


_SHOCK_KEYS = {"asset": "asset", "protocol": "protocol", "node": "node"}


def _shock_tag(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return {AssetShock: "asset", ProtocolShock: "protocol", NodeShock: "node"}.get(type(value))
    if isinstance(value, dict):
        present = [k for k in _SHOCK_KEYS if k in value]
        return present[0] if len(present) == 1 else None
    return None


Shock = Annotated[
    Annotated[AssetShock, Tag("asset")] | Annotated[ProtocolShock, Tag("protocol")]
    | Annotated[NodeShock, Tag("node")],
    Discriminator(_shock_tag),
]


class GraphFile(_Strict):
    """A whole graph file (schema version 1)."""

    schema_version: Literal[1] = 1
    meta: Meta
    nodes: list[Node]
    edges: list[Edge] = Field(default_factory=list)
    shocks: list[Shock] = Field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# reading and checking


def read_graph_file(path: str | Path) -> GraphFile:
    """Read and validate a graph file; :class:`GraphFileError` lists every problem."""
    from defisim.scenario.loader import read_input_file

    p = Path(path)
    text = read_input_file(p, GraphFileError)
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except _DuplicateKey as exc:
        raise GraphFileError([("", str(exc))], source=str(p)) from None
    except json.JSONDecodeError as exc:
        raise GraphFileError([("", (f"malformed JSON at line {exc.lineno}, column {exc.colno}: "
                                   f"{exc.msg}"))], source=str(p)) from None
    return graph_file_from_dict(data, source=str(p))


class _DuplicateKey(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(f"duplicate key {key!r} in one JSON object")
        out[key] = value
    return out


def graph_file_from_dict(data: Any, source: str | None = None) -> GraphFile:
    """Validate a graph given as plain data and cross-check its references."""
    if not isinstance(data, dict):
        raise GraphFileError([("", ("a graph file must be a JSON object with meta, nodes, edges, "
                                   f"shocks; got {type(data).__name__}"))], source=source)
    try:
        model = GraphFile.model_validate(data)
    except ValidationError as exc:
        problems = _problems(exc, data)
        problems += _raw_reference_problems(data)
        raise GraphFileError(_dedupe(problems), source=source) from None
    problems = reference_problems(model)
    if problems:
        raise GraphFileError(problems, source=source)
    return model


def reference_problems(model: GraphFile) -> list[tuple[str, str]]:
    """Duplicate ids, dangling edges, wrong endpoint kinds, self-loops, unknown sources."""
    problems: list[tuple[str, str]] = []
    kinds: dict[str, str] = {}
    first: dict[str, int] = {}
    sources = set(model.meta.sources)
    for i, node in enumerate(model.nodes):
        where = f"nodes.{i}"
        if node.id in first:
            problems.append((f"{where}.id", (f"duplicate node id {node.id!r} (first given at "
                                           f"nodes.{first[node.id]})")))
            continue
        first[node.id] = i
        kinds[node.id] = node.kind
        if node.kind in ("protocol", "account") and node.equity_usd is None:
            problems.append((f"{where}.equity_usd", (f"node {node.id!r}: a {node.kind} needs "
                             "equity_usd, its loss-absorbing buffer in USD (DebtRank's E)")))
        for field in ("source", "equity_source"):
            ref = getattr(node, field)
            if ref is not None and ref not in sources:
                problems.append((f"{where}.{field}", f"node {node.id!r}: "
                                 + _unknown("source", ref, sources, "meta.sources")))
    seen_edges: dict[tuple[str, str, str], int] = {}
    issuer: dict[str, tuple[int, str]] = {}
    for i, edge in enumerate(model.edges):
        where = f"edges.{i}"
        name = _edge_name(edge.source, edge.target, edge.kind)
        dangling = False
        for end in ("source", "target"):
            ref = getattr(edge, end)
            if ref not in kinds:
                dangling = True
                problems.append((f"{where}.{end}", f"{name}: " + _unknown("node", ref, kinds, "nodes")))
        if edge.source_ref not in sources:
            problems.append((f"{where}.source_ref", f"{name}: "
                             + _unknown("source", edge.source_ref, sources, "meta.sources")))
        if edge.amount_base_units is not None and edge.token is None:
            problems.append((f"{where}.token", (f"{name}: amount_base_units needs 'token' (whose "
                             "base units they are)")))
        if edge.source == edge.target:
            what = ("a token cannot be issued by itself" if edge.kind == "token_issued_by"
                    else "an exposure of a node to itself is not an edge")
            problems.append((where, f"{name} is a self-loop: {what}"))
            continue
        if dangling:
            continue
        allowed_src, allowed_dst = EDGE_ENDPOINTS[edge.kind]
        for end, allowed in (("source", allowed_src), ("target", allowed_dst)):
            ref = getattr(edge, end)
            if kinds[ref] not in allowed:
                problems.append((f"{where}.{end}", (f"{name}: the {end} of {_a(edge.kind)} edge must be "
                                 f"{_or([_a(k) for k in sorted(allowed)])}; {ref!r} is {_a(kinds[ref])}")))
        ident = (edge.source, edge.target, edge.edge_key)
        if ident in seen_edges:
            problems.append((where, (f"{name}: duplicate edge (same as edges.{seen_edges[ident]}); "
                             "merge them or give each a distinct 'key'")))
        seen_edges.setdefault(ident, i)
        if edge.kind == "token_issued_by":
            if edge.source in issuer and issuer[edge.source][1] != edge.target:
                j, other = issuer[edge.source]
                problems.append((where, (f"{name}: token {edge.source!r} already has issuer "
                                 f"{other!r} (edges.{j}); a token has one issuer")))
            issuer.setdefault(edge.source, (i, edge.target))
    shock_names: dict[str, int] = {}
    for i, shock in enumerate(model.shocks):
        where = f"shocks.{i}"
        if shock.name in shock_names:
            problems.append((f"{where}.name", (f"duplicate shock name {shock.name!r} (first at "
                             f"shocks.{shock_names[shock.name]})")))
        shock_names.setdefault(shock.name, i)
        field, ref, want = _shock_target(shock)
        if ref not in kinds:
            problems.append((f"{where}.{field}", f"shock {shock.name!r}: "
                             + _unknown("node", ref, kinds, "nodes")))
        elif want is not None and kinds[ref] != want:
            problems.append((f"{where}.{field}", (f"shock {shock.name!r}: {ref!r} is "
                             f"{_a(kinds[ref])}, not {_a(want)}")))
    return problems


def _shock_target(shock: Any) -> tuple[str, str, str | None]:
    if isinstance(shock, AssetShock):
        return "asset", shock.asset, "asset"
    if isinstance(shock, ProtocolShock):
        return "protocol", shock.protocol, "protocol"
    return "node", shock.node, None


def _edge_name(source: Any, target: Any, kind: Any) -> str:
    return f"edge {source!r} -> {target!r} ({kind})"


def _a(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def _or(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _unknown(what: str, ref: str, known: Any, where: str) -> str:
    close = difflib.get_close_matches(str(ref), [str(k) for k in known], n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown {what} {ref!r}{hint} (not in {where})"


def _raw_reference_problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    """Duplicate node ids and dangling edges on the raw data, when the schema failed.

    (So one run reports them alongside the schema problems.)
    """
    nodes = data.get("nodes")
    edges = data.get("edges")
    if not isinstance(nodes, list):
        return []
    ids: dict[str, int] = {}
    problems: list[tuple[str, str]] = []
    for i, node in enumerate(nodes):
        nid = node.get("id") if isinstance(node, dict) else None
        if not isinstance(nid, str):
            return problems  # a node without an id: any edge may mean it
        if nid in ids:
            problems.append((f"nodes.{i}.id", (f"duplicate node id {nid!r} (first given at "
                             f"nodes.{ids[nid]})")))
        ids.setdefault(nid, i)
    for i, edge in enumerate(edges if isinstance(edges, list) else []):
        if not isinstance(edge, dict):
            continue
        for end in ("source", "target"):
            ref = edge.get(end)
            if isinstance(ref, str) and ref not in ids:
                name = _edge_name(edge.get("source"), edge.get("target"), edge.get("kind"))
                problems.append((f"edges.{i}.{end}", f"{name}: " + _unknown("node", ref, ids, "nodes")))
    return problems


def _problems(exc: ValidationError, data: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for err in exc.errors(include_url=False):
        loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and x.startswith("function-")))
        loc = _drop_tags(loc)
        path = ".".join(str(x) for x in loc)
        kind = err["type"]
        message = str(err["msg"])
        message = message.removeprefix("Value error, ")
        if kind == "extra_forbidden":
            message = "unknown key (not part of the graph schema; check spelling)"
        elif kind == "literal_error" and loc and loc[-1] == "kind" and len(loc) == 3:
            known = NODE_KINDS if loc[0] == "nodes" else EDGE_KINDS
            what = "node" if loc[0] == "nodes" else "edge"
            got = err.get("input")
            close = difflib.get_close_matches(str(got), known, n=3, cutoff=0.5)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            message = f"unknown {what} kind {got!r}{hint} (known: {', '.join(known)})"
        elif kind == "union_tag_not_found" and loc[:1] == ("shocks",):
            message = ("a shock needs exactly one of: asset + drop, protocol + collateral_loss, "
                       "node + distress")
        elif kind in ("greater_than_equal", "greater_than") and loc and loc[-1] in (
                "value_usd", "equity_usd", "amount_base_units"):
            message = f"{message}, got {err.get('input')!r} (an exposure or value cannot be negative)"
        elif kind in ("int_type", "int_from_float") and loc and loc[-1] == "amount_base_units":
            message = (f"must be a whole number of base units (an integer, or a string of digits), "
                       f"got {err.get('input')!r}")
        elif kind == "missing":
            message = "missing (required)"
        out.append((path, _who(loc, data) + message))
    return _dedupe(out)


def _drop_tags(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    if len(loc) >= 3 and loc[0] == "shocks" and loc[2] in ("asset", "protocol", "node") and len(loc) > 3:
        return loc[:2] + loc[3:]
    return loc


def _who(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """``"node 'aave-v3': "`` / ``"edge 'a' -> 'b' (kind): "`` for a problem inside one."""
    if len(loc) < 2 or not isinstance(loc[1], int):
        return ""
    items = data.get(str(loc[0]))
    item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
    if not isinstance(item, dict):
        return ""
    if loc[0] == "nodes" and "id" in item:
        return f"node {item['id']!r}: "
    if loc[0] == "edges":
        return _edge_name(item.get("source"), item.get("target"), item.get("kind")) + ": "
    if loc[0] == "shocks" and "name" in item:
        return f"shock {item['name']!r}: "
    return ""


def _dedupe(problems: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[tuple[str, str]] = set()
    out = []
    for p in problems:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


def graph_json_schema() -> dict[str, Any]:
    """JSON Schema of graph files (for editors and other tools)."""
    schema = GraphFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "defisim exposure graph"
    return schema
