"""The registry of a chain graph: which contracts to read, and where each address is published.

A registry is a YAML (or TOML) file that :mod:`defisim.graph.from_chain` reads at a block to
build an exposure graph. Every address carries a ``source``: the public place the address is
published (an address book, a protocol's docs); the builder checks each address on chain
anyway (code at the block, answers as the named protocol) and never guesses one::

    name: ethereum-mainnet
    chain_id: 1                 # the RPC must serve this chain
    chain: ethereum             # label on the graph's nodes
    protocols:
      - id: aave-v3             # graph node id
        label: Aave V3 Core
        family: aave-v3         # an Aave V3 Pool (Aave V3 Core, Spark, other forks)
        pool: "0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2"
        source: https://github.com/bgd-labs/aave-address-book (AaveV3Ethereum.POOL)
      - id: morpho-blue
        family: morpho-blue     # the Morpho Blue singleton and the markets to read
        address: "0xBBBBBbbBBb9cC5e90e3b3Af64bdAF62C37EEFFCb"
        source: ...
        logs_from_block: 18883124   # scan positions from here (the deployment: every position)
        markets:
          - id: "0xb323495f7e4148be5643a4ea4a8221eef163e4bccfdedc2a6f4696baacbc86cc"
            label: wstETH/USDC 86%
            source: ...
    tokens:                     # issued tokens whose totalSupply() to read
      - address: "0x6B175474E89094C44Da98b954EedeAC495271d0F"
        symbol: DAI             # expected symbol (checked against symbol() on chain)
        issuer: sky             # graph node id of the issuer (token_issued_by)
        issuer_label: Sky (formerly MakerDAO)
        source: ...
        usd_feed:               # optional: a Chainlink-style USD feed for a token no Aave
          address: "0x..."      # pool of the registry prices
          source: ...

Problems are reported all at once as ``(field path, message)`` pairs in a
:class:`RegistryError` (a :class:`~defisim.errors.ScenarioError`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError

from defisim.errors import ScenarioError

__all__ = [
    "AavePoolEntry",
    "MorphoEntry",
    "MorphoMarketEntry",
    "Registry",
    "RegistryError",
    "TokenEntry",
    "UsdFeed",
    "load_registry",
    "registry_from_dict",
]


class RegistryError(ScenarioError):
    """A registry file is invalid; ``problems`` holds ``(field_path, message)`` pairs."""


Address = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{40}$")]
MarketId = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{64}$")]
NodeId = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
Text = Annotated[str, Field(min_length=1, max_length=500)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class UsdFeed(_Strict):
    """A Chainlink-style USD feed (``latestRoundData``, ``decimals``) pricing a token."""

    address: Address
    source: Text


class AavePoolEntry(_Strict):
    """An Aave V3 Pool proxy (Aave V3 Core, Spark and other Aave V3 forks)."""

    id: NodeId
    family: Literal["aave-v3"]
    pool: Address
    source: Text
    label: Text | None = None


class MorphoMarketEntry(_Strict):
    """One Morpho Blue market by id (``keccak256(abi.encode(marketParams))``)."""

    id: MarketId
    source: Text
    label: Text | None = None


class MorphoEntry(_Strict):
    """The Morpho Blue singleton and the markets of it to read.

    ``logs_from_block``: first block of the ``Borrow``/``SupplyCollateral`` log scan that
    finds the markets' positions (Morpho stores no per-market collateral total). From the
    contract's deployment block the scan finds every position; later, only those opened or
    topped up since (the graph says which)."""

    id: NodeId
    family: Literal["morpho-blue"]
    address: Address
    source: Text
    markets: Annotated[list[MorphoMarketEntry], Field(min_length=1)]
    logs_from_block: Annotated[int, Field(ge=0)] = 0
    logs_from_block_source: Text | None = None
    label: Text | None = None


def _family(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return getattr(value, "family", None)
    if isinstance(value, dict):
        fam = value.get("family")
        return fam if fam in ("aave-v3", "morpho-blue") else None
    return None


ProtocolEntry = Annotated[
    Annotated[AavePoolEntry, Tag("aave-v3")] | Annotated[MorphoEntry, Tag("morpho-blue")],
    Discriminator(_family),
]


class TokenEntry(_Strict):
    """An ERC-20 whose ``totalSupply()`` to read, and who issues it."""

    address: Address
    source: Text
    symbol: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    issuer: NodeId | None = None
    issuer_label: Text | None = None
    usd_feed: UsdFeed | None = None


class Registry(_Strict):
    """A whole registry (see the module docstring)."""

    name: Annotated[str, Field(min_length=1, max_length=80)]
    chain_id: Annotated[int, Field(ge=1)]
    chain: Annotated[str, Field(min_length=1, max_length=40)] = "ethereum"
    description: str = ""
    protocols: Annotated[list[ProtocolEntry], Field(min_length=1)]
    tokens: list[TokenEntry] = Field(default_factory=list)


def load_registry(path: str | Path) -> Registry:
    """Read and validate a registry file; :class:`RegistryError` lists every problem."""
    from defisim.scenario.loader import _parse, read_input_file

    p = Path(path)
    text = read_input_file(p, RegistryError)
    try:
        data = _parse(text, p)
    except ScenarioError as exc:
        raise RegistryError(exc.problems, source=str(p)) from None
    return registry_from_dict(data, source=str(p))


def registry_from_dict(data: Any, source: str | None = None) -> Registry:
    """Validate registry data and cross-check ids; :class:`RegistryError` if invalid."""
    if not isinstance(data, dict):
        what = type(data).__name__
        raise RegistryError([("", f"a registry is a mapping with chain_id, protocols, tokens; got {what}")],
                            source=source)
    try:
        model = Registry.model_validate(data)
    except ValidationError as exc:
        raise RegistryError(_problems(exc), source=source) from None
    problems: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    for i, p in enumerate(model.protocols):
        if p.id in seen:
            problems.append((f"protocols.{i}.id", f"duplicate protocol id {p.id!r} (also {seen[p.id]})"))
        seen.setdefault(p.id, f"protocols.{i}")
        if isinstance(p, MorphoEntry):
            ids: set[str] = set()
            for j, m in enumerate(p.markets):
                if m.id.lower() in ids:
                    problems.append((f"protocols.{i}.markets.{j}.id", f"market {m.id} listed twice"))
                ids.add(m.id.lower())
    addresses: set[str] = set()
    for i, t in enumerate(model.tokens):
        if t.address.lower() in addresses:
            problems.append((f"tokens.{i}.address", f"token {t.address} listed twice"))
        addresses.add(t.address.lower())
        if t.issuer_label is not None and t.issuer is None:
            problems.append((f"tokens.{i}.issuer_label", "issuer_label needs issuer (the issuer's node id)"))
    if problems:
        raise RegistryError(problems, source=source)
    return model


_TAGS = ("aave-v3", "morpho-blue")


def _problems(exc: ValidationError) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for err in exc.errors(include_url=False):
        loc = tuple(x for x in err["loc"] if x not in _TAGS)
        path = ".".join(str(x) for x in loc)
        kind, field = err["type"], (loc[-1] if loc else "")
        message = str(err["msg"]).removeprefix("Value error, ")
        got = err.get("input")
        if kind == "extra_forbidden":
            message = "unknown key (not part of the registry; check spelling)"
        elif kind == "missing":
            message = "missing (required)"
        elif kind == "string_type" and isinstance(got, int) and field in ("pool", "address", "id"):
            message = "must be a quoted string: YAML reads an unquoted 0x... as a number"
        elif kind == "string_pattern_mismatch" and field in ("pool", "address"):
            message = f"must be an address (0x followed by 40 hex digits), got {got!r}"
        elif kind == "string_pattern_mismatch" and len(loc) >= 2 and loc[-3:-2] == ("markets",):
            message = f"must be a Morpho Blue market id (0x followed by 64 hex digits), got {got!r}"
        elif kind == "union_tag_invalid" or kind == "union_tag_not_found":
            path = f"{path}.family" if path else "family"
            message = f"family must be aave-v3 or morpho-blue, got {got.get('family') if isinstance(got, dict) else got!r}"
        out.append((path, message))
    return list(dict.fromkeys(out))
