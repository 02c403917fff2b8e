"""Read the contracts a registry names, at one block, read-only: exact integers for a graph.

:func:`read_ecosystem` is the chain half of ``defisim graph --from-chain``
(:mod:`defisim.graph.from_chain` turns what it reads into a graph). Every read is an
``eth_call`` pinned to block N (``"0x…"`` block tag, batched) or an ``eth_getLogs`` over
blocks up to N, sent through :class:`~defisim.chain.rpc.ReadOnlyRpc`, which refuses any
other method before sending. No node is started and nothing is written anywhere.

1. **Checks** (:func:`~defisim.chain.fork.check_remote`, per protocol): the RPC serves the
   registry's ``chain_id``; block N exists (default: the latest); each address has code at N
   and answers as its family (Aave: ``ADDRESSES_PROVIDER()`` and ``getReservesList()``;
   Morpho: ``owner()`` and a created ``market(id)`` for every listed id).
2. **Aave V3 pools** (any 3.x, and forks such as Spark): per reserve of
   ``getReservesList()``, ``getReserveData`` (the 3.0 layout every 3.x keeps:
   configuration, indexes, token addresses, ``accruedToTreasury``), the configuration's LTV,
   liquidation threshold (bps) and decimals, the aToken's and debt tokens' own
   ``totalSupply()`` at N (scaled supply × the index accrued to N's timestamp, as the
   contracts compute it; token base units), the treasury's aToken ``balanceOf``,
   ``getReserveNormalizedIncome``, and from the pool's ``AaveOracle`` (the provider's
   ``getPriceOracle()``): ``getAssetPrice`` (base-currency units, ``BASE_CURRENCY_UNIT`` per
   unit: 1e8 = USD with 8 decimals on Ethereum) and ``getSourceOfAsset``.
3. **Morpho Blue markets**: ``idToMarketParams(id)`` (checked to hash to the id),
   ``market(id)`` as stored (totals at its ``lastUpdate``; interest since then is not accrued:
   Morpho has no view for it), the market oracle's ``price()`` (loan-token base units per
   collateral base unit, scaled 1e36), the positions ``position(id, user)`` at N of every
   ``onBehalf`` of the market's ``Borrow``/``SupplyCollateral`` events from the registry's
   ``logs_from_block`` (or the last ``log_blocks``) to N, and Morpho's ``balanceOf`` in the
   collateral token (collateral of every market with that token, plus any supplied).
   Morpho keeps no per-market collateral total; the sum over those positions is the total
   when the scan starts at or before the market's creation (the registry's default for
   mainnet: the Morpho deployment block), and a lower bound otherwise.
4. **Tokens**: ``symbol()``, ``decimals()`` and ``totalSupply()`` (base units) of every token
   met, and ``latestRoundData()``/``decimals()`` of the registry's USD feeds.

Errors: :class:`~defisim.chain.fork.ForkInputError` for bad input (no URL, wrong chain, a
block in the future, an address without code or not of its family — the message names the
registry field, or the token's address for a token that does not answer as an ERC-20),
:class:`~defisim.chain.fork.ForkError` for the rest; messages never show a
key from the URL (:func:`~defisim.chain.fork.scrub`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak, to_checksum_address

from defisim.chain.errors import ChainError, RpcError
from defisim.chain.fork import ForkError, ForkInputError, check_remote, scrub
from defisim.chain.fork_aave import decode_configuration
from defisim.chain.redact import redact_url
from defisim.chain.rpc import ReadOnlyRpc
from defisim.errors import DefisimError
from defisim.graph.registry import AavePoolEntry, MorphoEntry, Registry

__all__ = [
    "MISSING_RPC_URL",
    "AavePoolRead",
    "AaveReserveRead",
    "EcosystemRead",
    "FeedRead",
    "MorphoMarketRead",
    "MorphoRead",
    "PositionRead",
    "TokenRead",
    "read_ecosystem",
]

ZERO = "0x" + "00" * 20
BATCH = 50
"""``eth_call`` requests per JSON-RPC batch."""
LOG_CHUNK = 50_000
"""Blocks per ``eth_getLogs`` request of the Morpho position scan (halved when refused)."""

MISSING_RPC_URL = (
    "graph --from-chain needs the RPC URL of the registry's chain: --rpc-url URL or the "
    "DEFISIM_RPC_URL environment variable. It must serve state at --block (archive-capable for old "
    "blocks). It is only read from (eth_chainId, eth_blockNumber, eth_getBlockByNumber, eth_getCode, "
    "eth_call, eth_getLogs); nothing is ever sent to it, no node is started, and keys in the URL are "
    "never printed."
)

_RESERVE_DATA = ["uint256", "uint128", "uint128", "uint128", "uint128", "uint128", "uint40", "uint16",
                 "address", "address", "address", "address", "uint128", "uint128", "uint128"]
"""``getReserveData(asset)``: the 3.0 ``ReserveData`` layout (3.1+ return it as ``ReserveDataLegacy``)."""


# --- what is read ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TokenRead:
    """An ERC-20 at N: ``symbol`` (None if it has none), ``decimals``, ``total_supply`` (base units)."""

    address: str
    symbol: str | None
    decimals: int
    total_supply: int


@dataclass(frozen=True, slots=True)
class FeedRead:
    """A USD feed at N: ``answer`` with ``decimals`` decimals (USD per whole token)."""

    address: str
    answer: int
    decimals: int
    description: str | None


@dataclass(frozen=True, slots=True)
class AaveReserveRead:
    """One reserve of an Aave V3 pool at N. Amounts in the reserve token's base units.

    ``supplied``: ``aToken.totalSupply()``; ``variable_debt`` / ``stable_debt``: the debt
    tokens' ``totalSupply()`` (stable: 0 where the pool has none); ``treasury_balance``: the
    treasury's aToken ``balanceOf``; ``accrued_to_treasury``: ``getReserveData``'s scaled
    amount not yet minted to the treasury; ``normalized_income``: RAY; ``ltv`` and
    ``liquidation_threshold``: bps; ``price``: ``getAssetPrice`` in the oracle's base-currency
    units; ``price_source``: ``getSourceOfAsset``."""

    asset: str
    decimals: int
    ltv: int
    liquidation_threshold: int
    a_token: str
    variable_debt_token: str
    stable_debt_token: str
    supplied: int
    variable_debt: int
    stable_debt: int
    treasury: str
    treasury_balance: int
    accrued_to_treasury: int
    normalized_income: int
    price: int
    price_source: str

    @property
    def accrued_to_treasury_units(self) -> int:
        """``accruedToTreasury × normalizedIncome / RAY`` rounded half up (``rayMul``): base units."""
        return (self.accrued_to_treasury * self.normalized_income + 10**27 // 2) // 10**27


@dataclass(frozen=True, slots=True)
class AavePoolRead:
    """An Aave V3 pool at N: addresses, oracle (``base_currency_unit`` units per base-currency
    unit; ``base_currency``: ``BASE_CURRENCY()``, zero address = USD), reserves in list order."""

    id: str
    label: str
    pool: str
    provider: str
    oracle: str
    base_currency_unit: int
    base_currency: str
    revision: int | None
    reserves: tuple[AaveReserveRead, ...]
    source: str


@dataclass(frozen=True, slots=True)
class PositionRead:
    """``position(id, account)`` at N: supply shares, borrow shares, collateral (base units)."""

    account: str
    supply_shares: int
    borrow_shares: int
    collateral: int


@dataclass(frozen=True, slots=True)
class MorphoMarketRead:
    """One Morpho Blue market at N (totals as stored at ``last_update``; loan-token base units,
    shares; ``price``: the oracle's ``price()``, 1e36-scaled; ``lltv``, ``fee``: WAD).

    ``positions``: the non-empty positions of the accounts found in the logs;
    ``scan``: what was scanned, ``complete``: whether the scan covered the whole history
    given by the registry (``logs_from_block``) without a refused range;
    ``morpho_collateral_balance``: Morpho's ``balanceOf`` in the collateral token."""

    id: str
    label: str
    loan: str
    collateral: str
    oracle: str
    irm: str
    lltv: int
    total_supply_assets: int
    total_supply_shares: int
    total_borrow_assets: int
    total_borrow_shares: int
    last_update: int
    fee: int
    price: int
    positions: tuple[PositionRead, ...]
    scan: str
    complete: bool
    morpho_collateral_balance: int
    source: str


@dataclass(frozen=True, slots=True)
class MorphoRead:
    """A Morpho Blue singleton and its listed markets at N."""

    id: str
    label: str
    address: str
    markets: tuple[MorphoMarketRead, ...]
    source: str


@dataclass
class EcosystemRead:
    """Everything read at block N (timestamp: unix seconds), keyed for the graph builder.

    ``tokens`` and ``feeds`` are keyed by lower-case token address."""

    registry: Registry
    chain_id: int
    block: int
    timestamp: int
    rpc: str
    aave: list[AavePoolRead] = field(default_factory=list)
    morpho: list[MorphoRead] = field(default_factory=list)
    tokens: dict[str, TokenRead] = field(default_factory=dict)
    feeds: dict[str, FeedRead] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# --- eth_call at a block -------------------------------------------------------------------------

Call = tuple[str, str, tuple[Any, ...], Sequence[str]]
"""(contract, ``"name(type,…)"`` with flat input types, arguments, output types)."""


class _At:
    """``eth_call`` at one block through the read-only client, batched."""

    def __init__(self, rpc: ReadOnlyRpc, block: int) -> None:
        self.rpc, self.tag = rpc, hex(block)

    @staticmethod
    def _data(sig: str, args: tuple[Any, ...]) -> str:
        inputs = sig[sig.index("(") + 1:-1]
        types = [t for t in inputs.split(",") if t]
        return "0x" + (keccak(text=sig)[:4] + abi_encode(types, list(args))).hex()

    @staticmethod
    def _decode(out: Sequence[str], raw: str) -> Any:
        values = abi_decode(list(out), bytes.fromhex(raw[2:]))
        return values[0] if len(values) == 1 else values

    def many(self, calls: Sequence[Call]) -> list[Any]:
        result: list[Any] = []
        for i in range(0, len(calls), BATCH):
            chunk = calls[i:i + BATCH]
            raws = self.rpc.batch([("eth_call", [{"to": to, "data": self._data(sig, args)}, self.tag])
                                   for to, sig, args, _ in chunk])
            result += [self._decode(out, raw) for (_, _, _, out), raw in zip(chunk, raws, strict=True)]
        return result

    def one(self, to: str, sig: str, args: tuple[Any, ...], out: Sequence[str]) -> Any:
        return self.many([(to, sig, args, out)])[0]

    def maybe(self, to: str, sig: str, args: tuple[Any, ...], out: Sequence[str]) -> Any | None:
        """:meth:`one`, or None when the call reverts or answers something undecodable."""
        try:
            return self.one(to, sig, args, out)
        except (RpcError, DecodingError, OverflowError, ValueError):
            return None


def _symbol(at: _At, address: str) -> str | None:
    raw = at.maybe(address, "symbol()", (), ["bytes"])  # a dynamic string decodes as bytes
    if raw is None:
        raw = at.maybe(address, "symbol()", (), ["bytes32"])
        raw = raw.rstrip(b"\0") if raw is not None else None
    if not raw:
        return None
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None
    return text if text and text.isprintable() and len(text) <= 32 else None


def _tokens(at: _At, addresses: Sequence[str]) -> dict[str, TokenRead]:
    out: dict[str, TokenRead] = {}
    for a in dict.fromkeys(to_checksum_address(x) for x in addresses if int(x, 16)):
        try:
            decimals, supply = at.many([(a, "decimals()", (), ["uint8"]), (a, "totalSupply()", (), ["uint256"])])
        except (RpcError, DecodingError, OverflowError) as exc:
            raise ForkError(f"token {a} does not answer decimals() and totalSupply() at the block: {exc}") from None
        out[a.lower()] = TokenRead(a, _symbol(at, a), int(decimals), int(supply))
    return out


# --- readers ------------------------------------------------------------------------------------

def _read_aave(at: _At, entry: AavePoolEntry) -> AavePoolRead:
    pool = to_checksum_address(entry.pool)
    provider = to_checksum_address(at.one(pool, "ADDRESSES_PROVIDER()", (), ["address"]))
    oracle = to_checksum_address(at.one(provider, "getPriceOracle()", (), ["address"]))
    assets = [to_checksum_address(a) for a in at.one(pool, "getReservesList()", (), ["address[]"])]
    revision = at.maybe(pool, "POOL_REVISION()", (), ["uint256"])
    unit = at.maybe(oracle, "BASE_CURRENCY_UNIT()", (), ["uint256"])
    base = at.maybe(oracle, "BASE_CURRENCY()", (), ["address"])
    datas = at.many([(pool, "getReserveData(address)", (a,), _RESERVE_DATA) for a in assets])
    per = at.many([c for a in assets for c in (
        (oracle, "getAssetPrice(address)", (a,), ["uint256"]),
        (oracle, "getSourceOfAsset(address)", (a,), ["address"]),
        (pool, "getReserveNormalizedIncome(address)", (a,), ["uint256"]))])
    tokens = [tuple(to_checksum_address(x) for x in d[8:11]) for d in datas]
    totals = at.many([c for a_tok, _s, v_tok in tokens for c in (
        (a_tok, "totalSupply()", (), ["uint256"]), (v_tok, "totalSupply()", (), ["uint256"]),
        (a_tok, "RESERVE_TREASURY_ADDRESS()", (), ["address"]))])
    reserves = []
    for i, (asset, data, (a_tok, s_tok, v_tok)) in enumerate(zip(assets, datas, tokens, strict=True)):
        price, source, income = per[3 * i:3 * i + 3]
        supplied, v_debt, treasury = totals[3 * i:3 * i + 3]
        treasury = to_checksum_address(treasury)
        bal = at.one(a_tok, "balanceOf(address)", (treasury,), ["uint256"])
        stable = at.one(s_tok, "totalSupply()", (), ["uint256"]) if int(s_tok, 16) else 0
        bits = decode_configuration(int(data[0]), "3.6")  # bits 0-63 are alike in every 3.x
        reserves.append(AaveReserveRead(
            asset, bits.decimals, bits.ltv, bits.liquidation_threshold, a_tok, v_tok, s_tok, int(supplied),
            int(v_debt), int(stable), treasury, int(bal), int(data[12]), int(income), int(price),
            to_checksum_address(source)))
    return AavePoolRead(entry.id, entry.label or entry.id, pool, provider, oracle,
                        int(unit) if unit else 10**8, to_checksum_address(base) if base else ZERO,
                        int(revision) if revision is not None else None, tuple(reserves), entry.source)


def _read_morpho(at: _At, rpc: ReadOnlyRpc, entry: MorphoEntry, block: int, log_blocks: int | None,
                 say: Callable[[str], None]) -> MorphoRead:
    from defisim.chain.fork_morpho import accounts_from_logs

    morpho = to_checksum_address(entry.address)
    first = entry.logs_from_block if log_blocks is None else max(entry.logs_from_block, block - log_blocks + 1)
    markets = []
    for m in entry.markets:
        mid = bytes.fromhex(m.id[2:])
        params = at.one(morpho, "idToMarketParams(bytes32)", (mid,), ["address", "address", "address", "address",
                                                                     "uint256"])
        loan, coll, oracle, irm = (to_checksum_address(x) for x in params[:4])
        if keccak(abi_encode(["address", "address", "address", "address", "uint256"], list(params))) != mid:
            raise ForkError(f"idToMarketParams({m.id}) on {morpho} does not hash to the id")
        stored = [int(x) for x in at.one(morpho, "market(bytes32)", (mid,), ["uint128"] * 6)]
        price = int(at.one(oracle, "price()", (), ["uint256"])) if int(oracle, 16) else 0
        say(f"scanning Morpho market {m.label or m.id[:10]} logs, blocks {first}..{block}")
        accounts, scan = accounts_from_logs(rpc, morpho, mid, first, block, 10**9, chunk=LOG_CHUNK)
        raws = at.many([(morpho, "position(bytes32,address)", (mid, a), ["uint256", "uint128", "uint128"])
                        for a in accounts])
        positions = tuple(PositionRead(a, int(s), int(b), int(c))
                          for a, (s, b, c) in sorted(zip(accounts, raws, strict=True)) if s or b or c)
        held = at.one(coll, "balanceOf(address)", (morpho,), ["uint256"]) if int(coll, 16) else 0
        markets.append(MorphoMarketRead(
            m.id.lower(), m.label or m.id[:10], loan, coll, oracle, irm, int(params[4]), *stored, price,
            positions, scan, first <= entry.logs_from_block and "stopped" not in scan, int(held), m.source))
    return MorphoRead(entry.id, entry.label or entry.id, morpho, tuple(markets), entry.source)


def _check(rpc: ReadOnlyRpc, url: str, registry: Registry, block: int | None) -> tuple[int, int]:
    """Step 1 for every protocol: ``(block N, its timestamp)``; errors name the registry field."""
    from defisim.chain.fork_morpho import check_morpho

    n, ts = block, 0
    for i, p in enumerate(registry.protocols):
        morpho = isinstance(p, MorphoEntry)
        where = f"protocols.{i}.{'address' if morpho else 'pool'}"
        address = to_checksum_address(p.address if isinstance(p, MorphoEntry) else p.pool)
        try:
            info = check_remote(rpc, url, n, "contract" if morpho else "aave-v3", address, chain_id=registry.chain_id)
        except ForkInputError as exc:
            text = str(exc)
            if "serves chain" in text:
                raise ForkInputError("chain_id: " + text.replace("(--chain-id)", "(the registry's chain_id)")) from None
            if text.startswith("block "):
                raise ForkInputError(f"--block: {text}") from None
            raise ForkInputError(f"{where} ({p.id}): {text}") from None
        n, ts = info.block, info.timestamp
        for j, m in enumerate(p.markets if isinstance(p, MorphoEntry) else ()):
            try:
                check_morpho(rpc, url, address, bytes.fromhex(m.id[2:]), n)
            except ForkInputError as exc:
                field = f"protocols.{i}.markets.{j}.id" if "does not exist" in str(exc) else where
                raise ForkInputError(f"{field} ({p.id}): {exc}") from None
    if n is None:  # registry.protocols is never empty (validated)
        raise ForkInputError("the registry names no protocol")
    return n, ts


def read_ecosystem(registry: Registry, rpc_url: str | None, block: int | None = None, *,
                   log_blocks: int | None = None, progress: Callable[[str], None] | None = None) -> EcosystemRead:
    """Read every contract of ``registry`` at ``block`` (None: the latest) from ``rpc_url``.

    ``log_blocks``: scan Morpho logs over the last ``log_blocks`` blocks only (quicker; the
    positions opened earlier are then missing and the result says so). See the module docstring.
    """
    say = progress or (lambda _msg: None)
    url = (rpc_url or "").strip()
    if not url:
        raise ForkInputError(MISSING_RPC_URL)
    if not re.match(r"https?://", url):
        raise ForkInputError(f"--rpc-url must be an http(s) URL, got {redact_url(url)}")
    if block is not None and block < 0:
        raise ForkInputError(f"--block must be >= 0, got {block}")
    if log_blocks is not None and log_blocks < 1:
        raise ForkInputError(f"--log-blocks must be >= 1, got {log_blocks}")
    try:
        rpc = ReadOnlyRpc(url)
    except ChainError as exc:
        raise ForkInputError(scrub(str(exc), url)) from None
    try:
        say(f"checking {redact_url(url)} (read-only)")
        n, ts = _check(rpc, url, registry, block)
        at = _At(rpc, n)
        out = EcosystemRead(registry, registry.chain_id, n, ts, redact_url(url))
        for p in registry.protocols:
            say(f"reading {p.id} at block {n}")
            if isinstance(p, AavePoolEntry):
                out.aave.append(_read_aave(at, p))
            else:
                out.morpho.append(_read_morpho(at, rpc, p, n, log_blocks, say))
        addresses = [r.asset for pool in out.aave for r in pool.reserves]
        addresses += [a for mb in out.morpho for m in mb.markets for a in (m.loan, m.collateral)]
        addresses += [t.address for t in registry.tokens]
        out.tokens = _tokens(at, addresses)
        for t in registry.tokens:
            if t.symbol and (got := out.tokens[t.address.lower()].symbol) != t.symbol:
                out.notes.append(f"token {t.address}: the registry calls it {t.symbol}, symbol() says {got}")
            if t.usd_feed is not None:
                feed = to_checksum_address(t.usd_feed.address)
                try:
                    _r, answer, _s, _u, _a = at.one(feed, "latestRoundData()", (),
                                                   ["uint80", "int256", "uint256", "uint256", "uint80"])
                    dec = at.one(feed, "decimals()", (), ["uint8"])
                except (RpcError, DecodingError, OverflowError) as exc:
                    raise ForkInputError(f"tokens.{registry.tokens.index(t)}.usd_feed.address: {feed} does not "
                                         f"answer latestRoundData() and decimals() at block {n}: {exc}") from None
                desc = at.maybe(feed, "description()", (), ["string"])
                out.feeds[t.address.lower()] = FeedRead(feed, int(answer), int(dec), desc)
        return out
    except ForkError as exc:
        raise type(exc)(scrub(str(exc), url)) from None
    except (ChainError, DefisimError) as exc:
        raise ForkError(scrub(str(exc), url)) from None
    except (OSError, ValueError, TypeError, KeyError, IndexError, ArithmeticError, DecodingError) as exc:
        raise ForkError(f"reading the chain failed: {type(exc).__name__}: {scrub(str(exc)[:300], url)}") from None
    finally:
        rpc.close()
