"""``defisim fork``: fork a live chain, read a lending pool into the simulator, shock, compare.

:func:`run_fork` does, in order:

1. **Check the RPC URL, read-only** (:func:`check_remote`, through
   :class:`~defisim.chain.rpc.ReadOnlyRpc`, which cannot send anything but reads): it answers
   ``eth_chainId``; the block exists and is not in the future; the address has code at that
   block and answers as the named protocol (Aave: ``ADDRESSES_PROVIDER()`` and a non-empty
   ``getReservesList()``). A node that cannot serve state at an old block is reported as not
   archive-capable. Morpho Blue (``--protocol morpho-blue --morpho ADDRESS --market ID``):
   ``owner()`` answers and ``market(id)`` has a non-zero ``lastUpdate``; everything after that
   is :func:`defisim.chain.fork_morpho.run_morpho` (same steps, one market).
2. **Start an Anvil fork** of that block on 127.0.0.1 (:class:`~defisim.chain.anvil.Anvil`);
   it is stopped on every path out of this function.
3. **Read the protocol** on the fork (:mod:`defisim.chain.fork_aave`): reserves,
   configurations, curves, prices, and the accounts given, or else those named as
   ``onBehalfOf`` in the pool's ``Supply``/``Borrow`` events over the last ``log_blocks``
   blocks (read from the RPC with ``eth_getLogs``). Build the simulator's pool from that
   snapshot (and check it snapshots back to the same integers).
4. **Shock**: the shocked prices go into the model and, on the fork, the oracle's sources of
   those assets are replaced by ``SettableAggregator`` contracts answering them.
5. **Liquidate** every account liquidatable after the shock in the model or on the fork
   (model's order: largest debt first), on both, with its largest collateral/debt pair and
   ``debt_to_cover = max``; every transaction mined at the fork block's timestamp. Compare each
   result and the final snapshots with :func:`~defisim.chain.parity.diff`.

Secrets: a provider key in the URL (path, query or user-info) never appears in any message
this module raises or reports (:func:`scrub`); Anvil's own output is scrubbed too.

Errors: :class:`ForkInputError` for bad input (missing URL, malformed address or shock,
unknown asset, block in the future, no code at the address, not the named protocol);
:class:`ForkError` for everything else that goes wrong on the way (unreachable RPC, not an
archive node, Anvil failing to start, a contract answering unexpectedly). Both are
:class:`~defisim.chain.errors.ChainError`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak, to_checksum_address

from defisim.chain.anvil import Anvil
from defisim.chain.backend import LiquidationResult
from defisim.chain.errors import ChainError, RpcError
from defisim.chain.parity import Mismatch, diff
from defisim.chain.redact import redact_url
from defisim.chain.rpc import LocalNode, ReadOnlyRpc
from defisim.chain.validate import LiquidationRow
from defisim.errors import DefisimError

__all__ = [
    "MISSING_RPC_URL",
    "PROTOCOLS",
    "ForkError",
    "ForkInputError",
    "ForkReport",
    "ForkRequest",
    "RemoteInfo",
    "ReserveRow",
    "Shock",
    "accounts_from_logs",
    "check_remote",
    "parse_accounts",
    "parse_market_id",
    "parse_shock",
    "run_fork",
    "scrub",
]

PROTOCOLS = ("aave-v3", "morpho-blue")
WAD = 10**18
SUPPLY_TOPIC = "0x" + keccak(text="Supply(address,address,address,uint256,uint16)").hex()
BORROW_TOPIC = "0x" + keccak(text="Borrow(address,address,address,uint256,uint8,uint256,uint16)").hex()
LOG_CHUNK = 2000
"""Blocks per ``eth_getLogs`` request (halved when a provider refuses the range)."""

MISSING_RPC_URL = (
    "fork needs an RPC URL of the chain to fork: --rpc-url URL or the DEFISIM_RPC_URL environment "
    "variable. It must be archive-capable (serve state at past blocks) unless --block is recent. "
    "It is only read from: defisim checks it with eth_chainId, eth_blockNumber, eth_getBlockByNumber, "
    "eth_getCode and eth_call, finds accounts with eth_getLogs, and a local Anvil fork fetches the "
    "accounts and storage slots it touches (eth_getBalance, eth_getCode, eth_getStorageAt). No "
    "transaction and no signature is ever sent to it: every change happens on the Anvil node on "
    "127.0.0.1, which is stopped at the end. Keys in the URL are never printed."
)


class ForkError(ChainError):
    """Forking or reading the chain failed (message already free of URL secrets)."""


class ForkInputError(ForkError, ValueError):
    """A fork request that cannot work: missing URL, bad address, shock, block or protocol."""


# --- secrets -----------------------------------------------------------------------------------

def _secrets(url: str) -> list[str]:
    """Parts of ``url`` that may be keys: path segments, query values, user-info."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    found = [seg for seg in parts.path.split("/") if seg]
    found += [v for _, v in parse_qsl(parts.query, keep_blank_values=True) if v]
    found += [k for k, _ in parse_qsl(parts.query, keep_blank_values=True) if k]
    found += [x for x in (parts.username, parts.password, parts.fragment, parts.query) if x]
    found += [unquote(x) for x in list(found)]
    return sorted({s for s in found if len(s) >= 4}, key=len, reverse=True)


def scrub(text: str, url: str | None) -> str:
    """``text`` with ``url`` shown as :func:`redact_url` shows it and every possible key in it
    (path segments, query values, user-info of 4+ characters) replaced by ``…``."""
    if not url:
        return text
    text = text.replace(url, redact_url(url))
    for secret in _secrets(url):
        text = text.replace(secret, "…")
    return text


# --- inputs ----------------------------------------------------------------------------------------

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def _address(text: str, what: str) -> str:
    t = text.strip()
    if not _ADDRESS.fullmatch(t):
        raise ForkInputError(f"{what} {t!r} is not an address (0x followed by 40 hex digits)")
    return to_checksum_address(t)


_MARKET_ID = re.compile(r"0x[0-9a-fA-F]{64}")


def parse_market_id(text: str) -> bytes:
    """A Morpho Blue market id (``0x`` + 64 hex digits, the ``bytes32`` of ``MarketParamsLib.id``)."""
    t = text.strip()
    if not _MARKET_ID.fullmatch(t):
        raise ForkInputError(f"--market {t!r} is not a Morpho Blue market id (0x followed by 64 hex digits)")
    return bytes.fromhex(t[2:])


def parse_accounts(text: str | None) -> tuple[str, ...]:
    """``"0xA,0xB"`` → checksummed addresses (empty for None/blank)."""
    if not text or not text.strip():
        return ()
    return tuple(_address(a, "account") for a in text.split(",") if a.strip())


@dataclass(frozen=True, slots=True)
class Shock:
    """Move ``asset``'s oracle price by ``change`` (a fraction: -3/10 is −30 %)."""

    asset: str
    change: Fraction

    def apply(self, price: int) -> int:
        """The shocked price, rounded down (USD 8 dp)."""
        return price * (self.change.denominator + self.change.numerator) // self.change.denominator

    def __str__(self) -> str:
        pct = self.change * 100
        return f"{self.asset} {'+' if pct >= 0 else ''}{float(pct):g}%"


_SHOCK = re.compile(r"\s*([^=\s]+)\s*=\s*([+-]?\d+(?:\.\d+)?)\s*%\s*")


def parse_shock(text: str) -> Shock:
    """``"WETH=-30%"`` → ``Shock("WETH", Fraction(-3, 10))``; the asset may be a symbol or address."""
    m = _SHOCK.fullmatch(text)
    if not m:
        raise ForkInputError(f"shock {text!r} is not ASSET=±P% (e.g. WETH=-30%)")
    change = Fraction(m.group(2)) / 100
    if change <= -1:
        raise ForkInputError(f"shock {text!r}: a price cannot fall by 100 % or more")
    return Shock(m.group(1), change)


@dataclass(frozen=True, slots=True)
class ForkRequest:
    """What to fork and how. ``block``: None = the latest block. ``accounts``: None = find them
    in the pool's Supply/Borrow logs of the last ``log_blocks`` blocks (at most
    ``max_accounts``, most recent first). ``aave_version``: force "3.0"/"3.6" instead of
    detecting it. ``anvil_port``: port of the local fork (None = a free one)."""

    rpc_url: str | None
    protocol: str = "aave-v3"
    pool: str | None = None
    block: int | None = None
    accounts: tuple[str, ...] | None = None
    shocks: tuple[Shock, ...] = ()
    log_blocks: int = 5000
    max_accounts: int = 200
    morpho: str | None = None
    market: str | None = None
    aave_version: str | None = None
    anvil_port: int | None = None
    chain_id: int | None = None
    """The chain the URL must serve (e.g. 1 for Ethereum mainnet); None = any."""


# --- remote checks ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RemoteInfo:
    """What the read-only checks found: chain id, fork block and its unix timestamp, latest block."""

    chain_id: int
    block: int
    timestamp: int
    latest: int


_NOT_ARCHIVE = re.compile(r"missing trie node|header not found|pruned|not available|state .*(?:unavailable|not found)"
                          r"|historical state|archive", re.IGNORECASE)


def _state_error(exc: Exception, block: int, url: str) -> ForkError:
    text = scrub(str(exc), url)
    if _NOT_ARCHIVE.search(text):
        return ForkError(f"the RPC {redact_url(url)} cannot serve state at block {block} ({text}); fork mode "
                         "needs an archive-capable RPC URL for past blocks")
    return ForkError(f"reading block {block} from {redact_url(url)} failed: {text}")


def _call(rpc: ReadOnlyRpc, to: str, signature: str, block: int) -> bytes:
    return rpc.call(to, keccak(text=signature)[:4], block)


def check_remote(rpc: ReadOnlyRpc, url: str, block: int | None, protocol: str, address: str,
                 market: bytes | None = None, chain_id: int | None = None) -> RemoteInfo:
    """The read-only checks of step 1 (see the module docstring); raise with a clean message.

    ``market``: the Morpho Blue market id (``protocol == "morpho-blue"``); ``chain_id``: the
    chain the URL must serve (a wrong-chain URL is refused before anything else is read)."""
    expected_chain = chain_id
    shown = redact_url(url)
    try:
        chain_id = int(rpc.request("eth_chainId"), 16)
        latest = int(rpc.request("eth_blockNumber"), 16)
    except (ChainError, ValueError, TypeError) as exc:
        text = scrub(str(exc), url)
        raise ForkError(text if shown in text else f"cannot use the RPC {shown}: {text}") from None
    if expected_chain is not None and chain_id != expected_chain:
        raise ForkInputError(f"the RPC {shown} serves chain {chain_id}, not chain {expected_chain} (--chain-id)")
    n = latest if block is None else block
    if n > latest:
        raise ForkInputError(f"block {n} is in the future: the latest block of chain {chain_id} at {shown} is {latest}")
    try:
        header = rpc.request("eth_getBlockByNumber", [hex(n), False])
    except ChainError as exc:
        raise _state_error(exc, n, url) from None
    if not header:
        raise ForkInputError(f"block {n} does not exist on chain {chain_id} at {shown}")
    timestamp = int(header["timestamp"], 16)
    try:
        code = rpc.request("eth_getCode", [address, hex(n)])
    except ChainError as exc:
        raise _state_error(exc, n, url) from None
    if not isinstance(code, str) or not code.removeprefix("0x").strip("0"):
        raise ForkInputError(f"no contract code at {address} at block {n} on chain {chain_id}"
                             + (" (deployed later, or a wrong address?)" if n < latest else ""))
    if protocol == "aave-v3":
        try:
            provider = abi_decode(["address"], _call(rpc, address, "ADDRESSES_PROVIDER()", n))[0]
            reserves = abi_decode(["address[]"], _call(rpc, address, "getReservesList()", n))[0]
        except (ChainError, DefisimError, ValueError, TypeError, OverflowError, DecodingError) as exc:
            raise ForkInputError(
                f"{address} at block {n} does not answer as an Aave V3 pool (ADDRESSES_PROVIDER() and "
                f"getReservesList() must work): {scrub(_reason(exc), url)}") from None
        if not int(provider, 16):
            raise ForkInputError(f"{address} at block {n} has no addresses provider: not an initialised Aave V3 pool")
        if not reserves:
            raise ForkInputError(f"the Aave V3 pool {address} has no reserves at block {n}")
    if protocol == "morpho-blue":
        from defisim.chain.fork_morpho import check_morpho

        check_morpho(rpc, url, address, market or b"", n)
    return RemoteInfo(chain_id, n, timestamp, latest)


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 300 else text[:300] + "…"


def accounts_from_logs(rpc: ReadOnlyRpc, pool: str, first: int, last: int, limit: int) -> tuple[list[str], str]:
    """``onBehalfOf`` of the pool's Supply/Borrow events in ``[first, last]``, most recent first.

    Returns (at most ``limit`` accounts, a note on what was scanned). Ranges a provider refuses
    are split in halves down to 16 blocks; a range still refused ends the scan with a note.
    """
    found: dict[str, int] = {}
    hi, chunk, note = last, LOG_CHUNK, ""
    while hi >= first and len(found) < limit:
        lo = max(first, hi - chunk + 1)
        try:
            logs = rpc.request("eth_getLogs", [{"address": pool, "fromBlock": hex(lo), "toBlock": hex(hi),
                                                "topics": [[SUPPLY_TOPIC, BORROW_TOPIC]]}])
        except RpcError as exc:
            if chunk > 16:
                chunk //= 2
                continue
            note = f"log scan stopped at block {hi}: {exc}"
            break
        for log in sorted(logs, key=lambda x: (int(x["blockNumber"], 16), int(x["logIndex"], 16)), reverse=True):
            topics = log.get("topics", [])
            if len(topics) >= 3:
                acct = to_checksum_address("0x" + topics[2][-40:])
                found.setdefault(acct, int(log["blockNumber"], 16))
        hi = lo - 1
    accounts = list(found)[:limit]
    scanned = f"Supply/Borrow events in blocks {max(first, hi + 1)}..{last}"
    if len(found) >= limit:
        scanned += f" (first {limit} accounts, most recent first)"
    return accounts, scanned + (f"; {note}" if note else "")


# --- report ----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ReserveRow:
    """One reserve in the report: label, token address, configuration, price before/after."""

    asset: str
    address: str
    ltv: int
    liquidation_threshold: int
    liquidation_bonus: int
    reserve_factor: int
    liquidation_protocol_fee: int
    decimals: int
    price: int
    shocked_price: int | None
    supplied: int
    borrowed: int


@dataclass
class ForkReport:
    """Everything a fork run read, did and compared."""

    rpc: str
    chain_id: int
    block: int
    timestamp: int
    latest_block: int
    protocol: str
    address: str
    family: str
    revision: int
    reserves: list[ReserveRow]
    accounts: list[str]
    accounts_source: str
    skipped: list[tuple[str, str]]
    snapshot: Any
    read_mismatches: list[Mismatch]
    shocks: list[str]
    oracle_takeover: str
    liquidations: list[LiquidationRow] = field(default_factory=list)
    final_simulator: Any = None
    final_chain: Any = None
    final_mismatches: list[Mismatch] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    fork_seconds: float = 0.0
    chain_seconds: float = 0.0
    simulator_seconds: float = 0.0

    @property
    def mismatch_count(self) -> int:
        return (len(self.read_mismatches) + len(self.final_mismatches)
                + sum(len(r.mismatches) for r in self.liquidations))


# --- the run ---------------------------------------------------------------------------------------

Progress = Callable[[str], None]


def _validate(request: ForkRequest) -> tuple[str, str]:
    url = (request.rpc_url or "").strip()
    if not url:
        raise ForkInputError(MISSING_RPC_URL)
    if not re.match(r"https?://", url):
        raise ForkInputError(f"--rpc-url must be an http(s) URL, got {redact_url(url)}")
    if request.protocol not in PROTOCOLS:
        raise ForkInputError(f"unknown protocol {request.protocol!r}; known: {', '.join(PROTOCOLS)}")
    if request.block is not None and request.block < 0:
        raise ForkInputError(f"--block must be >= 0, got {request.block}")
    if request.protocol == "morpho-blue":
        if not request.morpho or not request.market:
            raise ForkInputError("--protocol morpho-blue needs --morpho ADDRESS and --market ID (the Morpho "
                                 "Blue contract, e.g. 0xBBBBBbbBBb9cC5e90e3b3Af64bdAF62C37EEFFCb on "
                                 "Ethereum, and a market id, 0x followed by 64 hex digits)")
        parse_market_id(request.market)
        if len(request.shocks) > 1:
            raise ForkInputError("--protocol morpho-blue takes one --shock (the market's collateral: its "
                                 "oracle price is the collateral's price in loan tokens)")
        return url, _address(request.morpho, "--morpho")
    if not request.pool:
        raise ForkInputError("--protocol aave-v3 needs --pool ADDRESS (the Pool proxy, e.g. Aave's "
                             "mainnet Pool 0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2)")
    if request.aave_version not in (None, "3.0", "3.6"):
        raise ForkInputError(f"--aave-version must be 3.0 or 3.6, got {request.aave_version!r}")
    return url, _address(request.pool, "--pool")


def run_fork(request: ForkRequest, progress: Progress | None = None) -> ForkReport:
    """Run steps 1–5 of the module docstring; raise :class:`ForkError` (clean message) on failure.

    ``progress`` receives short status lines (the one after the node starts names its pid).
    """
    say = progress or (lambda _msg: None)
    url, address = _validate(request)
    try:
        return _run(request, url, address, say)
    except ForkError as exc:
        raise type(exc)(scrub(str(exc), url)) from None
    except DefisimError as exc:
        raise ForkError(scrub(str(exc), url)) from None
    except (OSError, ValueError, TypeError, KeyError, IndexError, ArithmeticError, DecodingError) as exc:
        raise ForkError(f"fork run failed: {type(exc).__name__}: {scrub(_reason(exc), url)}") from None


def start_fork(url: str, block: int, port: int | None, say: Progress) -> tuple[Anvil, LocalNode, int, float]:
    """Start the local Anvil fork of ``url`` at ``block``: ``(node process, client, block
    timestamp, seconds to start)``. The caller stops the node; a failed start leaves none."""
    t0 = time.perf_counter()
    anvil = Anvil(fork_url=url, fork_block=block, port=port)
    try:
        anvil.start()
    except ChainError as exc:
        raise ForkError(f"starting the Anvil fork of block {block} failed: {scrub(str(exc), url)}") from None
    try:
        say(f"fork of block {block} running on {anvil.url} (pid {anvil.pid})")
        node = LocalNode(anvil.url)
        try:
            node.request("anvil_setNextBlockBaseFeePerGas", ["0x0"])
        except RpcError:
            pass
        return anvil, node, node.timestamp(), time.perf_counter() - t0
    except BaseException:
        anvil.stop()
        raise


def _run(request: ForkRequest, url: str, address: str, say: Progress) -> ForkReport:
    if request.protocol == "morpho-blue":
        from defisim.chain.fork_morpho import run_morpho

        return run_morpho(request, url, address, say)
    from defisim.chain import fork_aave as fa

    say(f"checking {redact_url(url)} (read-only)")
    rpc = ReadOnlyRpc(url)
    try:
        info = check_remote(rpc, url, request.block, request.protocol, address, chain_id=request.chain_id)
        if request.accounts is None:
            say(f"scanning the pool's Supply/Borrow logs (last {request.log_blocks} blocks)")
            first = max(0, info.block - max(request.log_blocks, 1) + 1)
            candidates, source = accounts_from_logs(rpc, address, first, info.block, request.max_accounts)
        else:
            candidates, source = list(request.accounts), f"{len(request.accounts)} given with --accounts"
    finally:
        rpc.close()

    t0 = time.perf_counter()
    anvil, node, now, fork_s = start_fork(url, info.block, request.anvil_port, say)
    try:
        say("reading the pool on the fork")
        market = fa.read_market(node, address, request.aave_version)
        shocks = _resolve_shocks(market, request.shocks)
        fa.select_accounts(market, candidates)
        snapshot = fa.read_snapshot(market, now, name=address)
        prices = {r.asset: r.price for r in market.reserves}
        t_sim = time.perf_counter()
        model = fa.model_from_market(market, snapshot, prices)
        read_mismatches = diff(model.snapshot(now), snapshot)
        sim_s = time.perf_counter() - t_sim

        new_prices = {r.asset: s.apply(r.price) for r, s in shocks}
        how = ""
        if new_prices:
            say("shocking prices: " + ", ".join(str(s) for _, s in shocks))
            how = fa.take_over_prices(market, new_prices, now)
            t_sim = time.perf_counter()
            prices.update(new_prices)
            if hasattr(model, "prices_changed"):
                model.prices_changed()
            sim_s += time.perf_counter() - t_sim

        report = ForkReport(
            rpc=redact_url(url), chain_id=info.chain_id, block=info.block, timestamp=now,
            latest_block=info.latest, protocol=request.protocol, address=address, family=market.family,
            revision=market.revision, reserves=_reserve_rows(market, snapshot, new_prices),
            accounts=list(market.accounts), accounts_source=source, skipped=list(market.skipped),
            snapshot=snapshot, read_mismatches=read_mismatches,
            shocks=[str(s) for _, s in shocks], oracle_takeover=how, notes=list(market.notes),
        )
        _liquidate_all(report, market, model, snapshot, now, say)
        t_sim = time.perf_counter()
        report.final_simulator = model.snapshot(now)
        sim_s += time.perf_counter() - t_sim
        report.final_chain = fa.read_snapshot(market, now, name=address)
        report.final_mismatches = diff(report.final_simulator, report.final_chain,
                                       ignore=frozenset({"timestamp"}))
        report.fork_seconds = fork_s
        report.simulator_seconds += sim_s
        report.chain_seconds = time.perf_counter() - t0 - report.simulator_seconds
        return report
    finally:
        anvil.stop()


def _resolve_shocks(market: Any, shocks: Sequence[Shock]) -> list[tuple[Any, Shock]]:
    out = []
    for s in shocks:
        r = market.find_reserve(s.asset)
        if r is None:
            known = ", ".join(x.asset for x in market.reserves)
            raise ForkInputError(f"--shock {s.asset}: not a reserve of {market.pool.address}; reserves: {known}")
        if any(r is o for o, _ in out):
            raise ForkInputError(f"--shock {s.asset} given twice")
        out.append((r, Shock(r.asset, s.change)))
    return out


def _reserve_rows(market: Any, snapshot: Any, new_prices: dict[str, int]) -> list[ReserveRow]:
    ray = 10**27
    rows = []
    for r, rs in zip(market.reserves, snapshot.reserves, strict=True):
        c = r.config
        rows.append(ReserveRow(
            r.asset, r.address, c.ltv, c.liquidation_threshold, c.liquidation_bonus, c.reserve_factor,
            c.liquidation_protocol_fee, c.decimals, r.price, new_prices.get(r.asset),
            rs.scaled_total_supply * rs.liquidity_index // ray,
            rs.scaled_total_debt * rs.variable_borrow_index // ray,
        ))
    return rows


def _liquidate_all(report: ForkReport, market: Any, model: Any, snapshot: Any, now: int, say: Progress) -> None:
    """Step 5: liquidate, on both sides, every account either side finds liquidatable."""
    from defisim.chain import fork_aave as fa

    on_model = list(model.liquidatable_accounts(now))
    healths = fa.call_many(market.node, [(market.pool, "getUserAccountData", (a,)) for a in market.accounts])
    on_chain = [a for a, h in zip(market.accounts, healths, strict=True) if int(h[5]) < WAD]
    order = on_model + [a for a in on_chain if a not in on_model]
    by_account = {a.account: a for a in snapshot.accounts}
    for i, account in enumerate(order, 1):
        pair = fa.liquidation_pair(model, by_account.get(account), account, now)
        if pair is None:
            report.notes.append(f"{account} is liquidatable on the fork but has no collateral/debt pair in the model")
            continue
        coll, debt = pair
        say(f"liquidating {i}/{len(order)}: {account} ({coll}/{debt})")
        t = time.perf_counter()
        sim = fa.liquidate_in_model(model, account, coll, debt, now)
        report.simulator_seconds += time.perf_counter() - t
        chain: LiquidationResult = fa.liquidate_on_fork(market, account, coll, debt, now)
        report.liquidations.append(LiquidationRow(market.node.block_number(), account, coll, debt, sim, chain,
                                                  tuple(diff(sim, chain))))
