"""Morpho Blue on a forked chain: read one live market into the simulator, shock, liquidate.

:func:`run_morpho` is ``defisim fork --protocol morpho-blue``; :func:`defisim.chain.fork.run_fork`
dispatches to it after the request's inputs are checked. In order:

1. **Read-only checks** of the user's RPC (:func:`~defisim.chain.fork.check_remote`, then
   :func:`check_morpho`): code at the address, ``owner()`` answers, and ``market(id)`` has a
   non-zero ``lastUpdate`` at the block (else "market ID does not exist at block N").
   Borrowers are the ``onBehalf`` of the market's ``Borrow`` and ``SupplyCollateral`` events
   (``EventsLib``; the id is topic 1) over the last ``log_blocks`` blocks, unless
   ``--accounts`` names them (:func:`accounts_from_logs`, through the read-only client).
2. **Read on the Anvil fork** (:func:`read_market`): ``idToMarketParams(id)``, ``market(id)``,
   ``feeRecipient()``, the tokens' ``symbol()``/``decimals()``, the oracle's ``price()``
   (1e36), ``position(id, user)`` of each account and of the fee recipient
   (:func:`read_snapshot`), and the IRM (:func:`detect_irm`).
3. **IRM**: the model mirrors ``address(0)`` (no interest), Morpho's ``IrmMock``
   (:class:`~defisim.engine.protocols.morpho_blue.LinearUtilizationIrm`), constant rates
   (:class:`~defisim.engine.protocols.morpho_blue.FixedRateIrm`) and AdaptiveCurveIrm, the IRM
   of Morpho's mainnet markets (:class:`~defisim.engine.protocols.morpho_blue.AdaptiveCurveIrm`).
   The IRM's ``borrowRate`` (called from the Morpho address, as Morpho calls it) is probed on
   the live market and on four made-up market states; it is ``IrmMock`` when every answer
   equals ``IrmMock``'s formula exactly, and a fixed rate when every answer is the same number.
   Otherwise, if it answers ``rateAtTarget(id)`` with a positive value, the model is an
   AdaptiveCurveIrm holding that value for the market, and the contract's
   ``borrowRateView(marketParams, market)`` at the fork block must equal the model's, integer
   for integer, on the live market, the probe states and four states with a day, a week or a
   year of elapsed time (and ``borrowRate`` must too). Anything else is refused
   (:class:`~defisim.chain.fork.ForkInputError`, exit 2).
4. **Model** (:func:`model_from_market`):
   :func:`~defisim.engine.protocols.morpho_blue.restore.morpho_from_snapshot` of the snapshot,
   the market named by its id (``0x`` + 64 hex), positions keyed by checksummed address, its
   oracle a :class:`~defisim.engine.protocols.morpho_blue.FixedPriceOracle` at the fork's
   price. The model's snapshot must equal the one read.
5. **Shock** (:func:`take_over_price`): the market's oracle address gets the runtime bytecode
   of Morpho's ``OracleMock`` (``anvil_setCode``; its only storage is ``uint256 price`` in slot
   0) and ``setPrice(shocked)``; the model's oracle is set to the same integer. ``--shock
   ASSET=±P%`` names the collateral (symbol, address, or the word ``collateral``):
   ``shocked = price * (100 + P) / 100`` rounded down.
6. **Liquidate** every borrower unhealthy in the model or on the fork (model's first, largest
   debt first), with the model's ``liquidation_args(debt_to_cover = all)`` →
   ``(seizedAssets, repaidShares)`` on both sides: on the fork the liquidator
   (:data:`~defisim.chain.fork_aave.FORK_LIQUIDATOR`) gets ``totalBorrowAssets + 1`` loan
   tokens by a write to its balance slot (:func:`~defisim.chain.fork_aave.fund`) and approves
   Morpho; every transaction is mined at the fork block's timestamp. Results come from the
   ``Liquidate`` event; health factors are the model's WAD number evaluated on each side's
   state (see :mod:`defisim.chain.adapters.morpho_blue`). Bad debt realised is listed in the
   notes; the final snapshots are compared field by field.

Report: a :class:`~defisim.chain.fork.ForkReport` with two rows for the market (loan token:
fee as "reserve factor", totals; collateral: LLTV as LTV and threshold, the liquidation
incentive as "bonus", the oracle price and the collateral of the positions read). Prices there
are loan tokens per whole token with 8 decimals (1 for the loan token), not USD; the notes
give the exact 1e36 oracle price.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak, to_checksum_address

from defisim.chain.adapters.morpho_blue import LIQUIDATE_TOPIC, morpho_reason
from defisim.chain.artifacts import load_artifact
from defisim.chain.backend import LiquidationResult
from defisim.chain.errors import ChainError, RpcError, TransactionFailed
from defisim.chain.fork import (
    ForkError,
    ForkInputError,
    ForkReport,
    ForkRequest,
    Progress,
    ReserveRow,
    Shock,
    check_remote,
    parse_market_id,
    scrub,
    start_fork,
)
from defisim.chain.fork_aave import FORK_ADMIN, FORK_LIQUIDATOR, fund
from defisim.chain.parity import diff
from defisim.chain.redact import redact_url
from defisim.chain.rpc import Contract, LocalNode, ReadOnlyRpc
from defisim.chain.validate import LiquidationRow
from defisim.engine.protocols.morpho_blue import (
    MAX_AMOUNT,
    AdaptiveCurveIrm,
    AnyIrm,
    FixedPriceOracle,
    FixedRateIrm,
    LinearUtilizationIrm,
    Market,
    MarketParams,
    MorphoBlue,
    MorphoError,
    liquidation_incentive_factor,
)
from defisim.engine.protocols.morpho_blue.constants import (
    ORACLE_PRICE_SCALE,
    UINT256_MAX,
    WAD,
)
from defisim.engine.protocols.morpho_blue.mathlib import (
    mul_div_down,
    w_mul_down,
    w_taylor_compounded,
)
from defisim.engine.protocols.morpho_blue.outcomes import (
    MarketSnapshot,
    MorphoSnapshot,
    PositionSnapshot,
)
from defisim.engine.protocols.morpho_blue.restore import morpho_from_snapshot
from defisim.engine.protocols.morpho_blue.sharesmath import to_assets_up
from defisim.errors import DefisimError

__all__ = [
    "BORROW_TOPIC",
    "SUPPLY_COLLATERAL_TOPIC",
    "MorphoForkMarket",
    "accounts_from_logs",
    "check_morpho",
    "detect_irm",
    "liquidate_in_model",
    "liquidate_on_fork",
    "model_from_market",
    "read_market",
    "read_snapshot",
    "run_morpho",
    "take_over_price",
]

BORROW_TOPIC = "0x" + keccak(text="Borrow(bytes32,address,address,address,uint256,uint256)").hex()
"""``EventsLib.Borrow(id, caller, onBehalf, receiver, assets, shares)``: id, onBehalf, receiver indexed."""
SUPPLY_COLLATERAL_TOPIC = "0x" + keccak(text="SupplyCollateral(bytes32,address,address,uint256)").hex()
"""``EventsLib.SupplyCollateral(id, caller, onBehalf, assets)``: id, caller, onBehalf indexed."""
LOG_CHUNK = 2000
_PARAMS = "(address,address,address,address,uint256)"
_MARKET = "(uint128,uint128,uint128,uint128,uint128,uint128)"
_BORROW_RATE = keccak(text=f"borrowRate({_PARAMS},{_MARKET})")[:4]
_BORROW_RATE_VIEW = keccak(text=f"borrowRateView({_PARAMS},{_MARKET})")[:4]
_RATE_AT_TARGET = keccak(text="rateAtTarget(bytes32)")[:4]
_RICH = 10**24


@cache
def _abi(name: str) -> list[dict[str, Any]]:
    if name == "erc20":
        return load_artifact("defisim", "TestToken").abi
    return load_artifact("morpho-blue", name).abi


def _sel(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 300 else text[:300] + "…"


# --- read-only checks and accounts (user's RPC) ----------------------------------------------------

def check_morpho(rpc: ReadOnlyRpc, url: str, address: str, market_id: bytes, block: int) -> None:
    """``address`` answers ``owner()`` and ``market(id)`` at ``block``, and the market exists."""
    mid = "0x" + market_id.hex()
    try:
        abi_decode(["address"], rpc.call(address, _sel("owner()"), block))
        market = abi_decode(["uint128"] * 6, rpc.call(address, _sel("market(bytes32)") + market_id, block))
    except (ChainError, DefisimError, ValueError, TypeError, OverflowError, DecodingError) as exc:
        raise ForkInputError(
            f"{address} at block {block} does not answer as Morpho Blue (owner() and market(id) must work): "
            f"{scrub(_reason(exc), url)}") from None
    if market[4] == 0:
        raise ForkInputError(f"market {mid} does not exist at block {block} on the Morpho Blue contract {address} "
                             "(its market(id).lastUpdate is 0: never created, or created later)")


def accounts_from_logs(rpc: ReadOnlyRpc, morpho: str, market_id: bytes, first: int, last: int,
                       limit: int, chunk: int = LOG_CHUNK) -> tuple[list[str], str]:
    """``onBehalf`` of the market's ``Borrow``/``SupplyCollateral`` events in ``[first, last]``,
    most recent first: (at most ``limit`` accounts, a note on what was scanned). ``chunk``:
    blocks per request; a range a provider refuses is halved while the range is over 16 blocks
    (so down to 8-16); a range still refused ends the scan."""
    found: dict[str, int] = {}
    hi, note = last, ""
    topic_id = "0x" + market_id.hex()
    while hi >= first and len(found) < limit:
        lo = max(first, hi - chunk + 1)
        try:
            logs = rpc.request("eth_getLogs", [{"address": morpho, "fromBlock": hex(lo), "toBlock": hex(hi),
                                                "topics": [[BORROW_TOPIC, SUPPLY_COLLATERAL_TOPIC], topic_id]}])
        except RpcError as exc:
            if chunk > 16:
                chunk //= 2
                continue
            note = f"log scan stopped at block {hi}: {exc}"
            break
        for log in sorted(logs, key=lambda x: (int(x["blockNumber"], 16), int(x["logIndex"], 16)), reverse=True):
            topics = log.get("topics", [])
            at = 2 if topics and topics[0] == BORROW_TOPIC else 3
            if len(topics) > at:
                found.setdefault(to_checksum_address("0x" + topics[at][-40:]), int(log["blockNumber"], 16))
        hi = lo - 1
    accounts = list(found)[:limit]
    scanned = f"Borrow/SupplyCollateral events of the market in blocks {max(first, hi + 1)}..{last}"
    if len(found) >= limit:
        scanned += f" (first {limit} accounts, most recent first)"
    return accounts, scanned + (f"; {note}" if note else "")


# --- reading on the fork -----------------------------------------------------------------------------

@dataclass
class MorphoForkMarket:
    """One live Morpho Blue market on the fork and everything read from it.

    ``params``: ``(loanToken, collateralToken, oracle, irm, lltv)``; ``label``: the market id as
    ``0x`` + 64 hex (its name in snapshots and in the model); ``loan``/``collateral``: token
    labels (symbols, or addresses when missing or equal); ``price``: the oracle's ``price()``
    at the fork (1e36); ``irm``: the model's IRM (None for ``address(0)``).
    """

    node: LocalNode
    morpho: Contract
    market_id: bytes
    params: tuple[str, str, str, str, int]
    loan: str
    collateral: str
    loan_decimals: int
    collateral_decimals: int
    price: int
    irm: AnyIrm | None
    irm_kind: str
    fee_recipient: str
    owner: str
    accounts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return "0x" + self.market_id.hex()

    @property
    def oracle(self) -> str:
        return self.params[2]

    @property
    def lltv(self) -> int:
        return self.params[4]

    def loan_token(self) -> Contract:
        return Contract(self.node, self.params[0], _abi("erc20"))

    def matches(self, key: str) -> bool:
        """Whether ``key`` names the collateral (label, address or the word ``collateral``)."""
        k = key.lower()
        return k in (self.collateral.lower(), self.params[1].lower(), "collateral")


def _symbol(node: LocalNode, address: str) -> str | None:
    try:
        raw = node.call(address, _sel("symbol()"))
    except (RpcError, ChainError):
        return None
    try:
        text = str(abi_decode(["string"], raw)[0])
    except (DecodingError, UnicodeDecodeError, OverflowError):
        text = raw.rstrip(b"\0").decode("utf-8", "replace") if len(raw) == 32 else ""
    text = text.strip()
    return text if text and text.isprintable() and len(text) <= 32 and "/" not in text else None


def _decimals(node: LocalNode, address: str, what: str) -> int:
    try:
        return int(abi_decode(["uint8"], node.call(address, _sel("decimals()")))[0])
    except (RpcError, ChainError, DecodingError, OverflowError) as exc:
        raise ForkError(f"the market's {what} token {address} has no ERC-20 decimals(): {_reason(exc)}") from None


def _stored_market(morpho: Contract, market_id: bytes) -> tuple[int, ...]:
    return tuple(int(x) for x in morpho.call("market", market_id))


def _borrow_rate(node: LocalNode, morpho: str, params: tuple[str, str, str, str, int],
                 market: Sequence[int]) -> int:
    """``IIrm(irm).borrowRate(marketParams, market)`` as Morpho calls it (``eth_call`` from Morpho)."""
    data = _BORROW_RATE + abi_encode([_PARAMS, _MARKET], [params, tuple(market)])
    return int(abi_decode(["uint256"], node.call(params[3], data, sender=morpho))[0])


_DAY = 86400


def _adaptive_curve_model(node: LocalNode, params: tuple[str, str, str, str, int],
                          probes: Sequence[tuple[int, ...]], got: Sequence[int]) -> tuple[AdaptiveCurveIrm | None, str]:
    """An :class:`AdaptiveCurveIrm` model of the market's IRM, or ``(None, why not)``.

    The IRM must answer ``rateAtTarget(id)`` (``id`` = keccak of the ABI-encoded params) with a
    positive value at the fork block; the model holds that value for the market (named by its
    ``0x`` id). Its ``borrow_rate_view`` at the block's timestamp must then equal, integer for
    integer, the contract's ``borrowRateView(marketParams, market)`` on ``probes`` (the live
    market first) and on four states whose ``lastUpdate`` lies a day, a week and a year back
    (utilisation 95 %, 100 %, 0 % and 100 %: the rate at target moves up, down to its floor and
    up to its cap), and ``got`` (``borrowRate`` as Morpho calls it, on ``probes``).
    """
    irm = params[3]
    market_id = keccak(abi_encode(["address", "address", "address", "address", "uint256"], list(params)))
    label = "0x" + market_id.hex()
    block = node.block_number()
    try:
        ts = int(node.request("eth_getBlockByNumber", [hex(block), False])["timestamp"], 16)
        stored = int(abi_decode(["int256"], node.call(irm, _RATE_AT_TARGET + market_id, block))[0])
    except (RpcError, ChainError, DecodingError, OverflowError, TypeError, KeyError) as exc:
        return None, f"it does not answer rateAtTarget(id): {_reason(exc)}"
    if stored <= 0:
        return None, (f"its rateAtTarget(id) is {stored}, which an AdaptiveCurveIrm never stores for a created "
                      "market")
    model = AdaptiveCurveIrm(rate_at_target={label: stored})
    mp = MarketParams(label, "", "", FixedPriceOracle(), model, params[4])
    day, week, year = (max(0, ts - d) for d in (_DAY, 7 * _DAY, 365 * _DAY))
    states = [*probes, (10**24, 10**30, 95 * 10**22, 95 * 10**28, day, 0), (10**12, 10**18, 10**12, 10**18, week, 0),
              (10**12, 10**18, 0, 0, year, 0), (10**12, 10**18, 10**12, 10**18, year, 0)]
    try:
        chain = [int(abi_decode(["uint256"], node.call(
            irm, _BORROW_RATE_VIEW + abi_encode([_PARAMS, _MARKET], [params, s]), block))[0]) for s in states]
    except (RpcError, ChainError, DecodingError, OverflowError) as exc:
        return None, f"its rateAtTarget(id) is {stored} but borrowRateView(marketParams, market) fails: {_reason(exc)}"
    try:
        want = [model.borrow_rate_view(mp, Market(*s), ts) for s in states]
    except MorphoError as exc:
        return None, f"the AdaptiveCurveIrm model reverts on a probe state ({exc}) where the contract answers"
    for i, (c, w) in enumerate(zip([*chain, *got], [*want, *want[:len(got)]], strict=True)):
        if c != w:
            what = "borrowRateView" if i < len(chain) else "borrowRate"
            state = states[i % len(chain)]
            return None, (f"its rateAtTarget(id) is {stored}, but its {what} answers {c} where AdaptiveCurveIrm "
                          f"would answer {w} (market {state}, block timestamp {ts})")
    return model, ""


def detect_irm(node: LocalNode, morpho: str, params: tuple[str, str, str, str, int],
               market: Sequence[int]) -> tuple[AnyIrm | None, str]:
    """The model's IRM for the market's IRM, and its kind; :class:`ForkInputError` if not modelled.

    ``market``: the stored ``market(id)``. Probes (see the module docstring): the live market,
    an empty one, and three made-up states at the live ``lastUpdate`` and fee; for an
    AdaptiveCurveIrm also its ``rateAtTarget(id)`` and ``borrowRateView`` on those and four more
    states (:func:`_adaptive_curve_model`).
    """
    irm = params[3]
    if not int(irm, 16):
        return None, "none"
    code = node.request("eth_getCode", [irm, "latest"])
    if not isinstance(code, str) or not code.removeprefix("0x").strip("0"):
        raise ForkInputError(f"the market's IRM {irm} has no code: not a modelled IRM")
    last, fee = market[4], market[5]
    probes = [tuple(market), (0, 0, 0, 0, last, fee), (10**18, 10**24, 5 * 10**17, 5 * 10**23, last, fee),
              (10**30, 10**36, 9 * 10**29, 9 * 10**35, last, fee), (7 * 10**6, 7 * 10**12, 7 * 10**6, 7 * 10**12, last, 0)]
    try:
        got = [_borrow_rate(node, morpho, params, p) for p in probes]
    except (RpcError, ChainError, DecodingError, OverflowError) as exc:
        raise ForkInputError(f"the market's IRM {irm} does not answer borrowRate(marketParams, market) as "
                             f"Morpho calls it: {_reason(exc)}") from None
    mock = LinearUtilizationIrm()
    dummy = MarketParams("probe", "", "", FixedPriceOracle(), None, params[4])
    want = [mock.borrow_rate(dummy, Market(*p)) for p in probes]
    if got == want:
        return mock, "linear-utilization"
    if len(set(got)) == 1:
        return FixedRateIrm(got[0]), "fixed"
    adaptive, why = _adaptive_curve_model(node, params, probes, got)
    if adaptive is not None:
        return adaptive, "adaptive-curve"
    raise ForkInputError(
        f"the market's IRM {irm} is not modelled: its borrowRate answers {got[0]} on the live market (and "
        f"{got[1:]} on probe states) where Morpho's IrmMock would answer {want[0]} ({want[1:]}), it is not "
        f"a fixed rate, and it is not an AdaptiveCurveIrm either: {why}. defisim models AdaptiveCurveIrm (the "
        "IRM of Morpho's mainnet markets), IrmMock, fixed-rate IRMs and address(0)")


def read_market(node: LocalNode, morpho_address: str, market_id: bytes) -> MorphoForkMarket:
    """Read the market ``market_id`` of the Morpho Blue at ``morpho_address`` (no positions)."""
    morpho = Contract(node, morpho_address, _abi("Morpho"))
    raw = morpho.call("idToMarketParams", market_id)
    params = (to_checksum_address(raw[0]), to_checksum_address(raw[1]), to_checksum_address(raw[2]),
              to_checksum_address(raw[3]), int(raw[4]))
    mid = "0x" + market_id.hex()
    if keccak(abi_encode(["address", "address", "address", "address", "uint256"], list(params))) != market_id:
        raise ForkError(f"idToMarketParams({mid}) does not hash to the id: not a Morpho Blue market")
    market = _stored_market(morpho, market_id)
    irm, kind = detect_irm(node, morpho.address, params, market)
    loan_addr, coll_addr, oracle = params[0], params[1], params[2]
    labels = [_symbol(node, loan_addr) or loan_addr, _symbol(node, coll_addr) or coll_addr]
    if labels[0] == labels[1]:
        labels = [loan_addr, coll_addr]
    try:
        price = int(abi_decode(["uint256"], node.call(oracle, _sel("price()")))[0])
    except (RpcError, ChainError, DecodingError) as exc:
        raise ForkError(f"the market's oracle {oracle} does not answer price(): {_reason(exc)}") from None
    fee_recipient = to_checksum_address(morpho.call("feeRecipient"))
    owner = to_checksum_address(morpho.call("owner"))
    notes = [(f"market {mid}: lends {labels[0]} against {labels[1]}, LLTV {params[4]} (WAD), fee {market[5]} (WAD), "
              f"oracle {oracle} price() {price} (1e36 scale)"),
             "prices in the market table are loan tokens per whole token (8 decimals), not USD"]
    if kind == "linear-utilization":
        notes.append(f"IRM {params[3]}: answers as Morpho's IrmMock (x % utilisation = x % APR), modelled exactly")
    elif kind == "fixed":
        notes.append(f"IRM {params[3]}: a fixed rate of {irm.rate_per_second} per second (WAD) on every probe")  # type: ignore[union-attr]
    elif kind == "adaptive-curve":
        notes.append(f"IRM {params[3]}: AdaptiveCurveIrm with rateAtTarget {irm.rate_at_target(mid)} per second "  # type: ignore[union-attr]
                     "(WAD); its borrowRateView equals the model's on the live market and every probe state")
    else:
        notes.append("IRM address(0): no interest")
    return MorphoForkMarket(node, morpho, market_id, params, labels[0], labels[1],
                            _decimals(node, loan_addr, "loan"), _decimals(node, coll_addr, "collateral"),
                            price, irm, kind, fee_recipient, owner, notes=notes)


def select_accounts(market: MorphoForkMarket, candidates: Sequence[str]) -> None:
    """``market.accounts``: the candidates (deduplicated, not the liquidator), then the fee recipient
    (it receives fee shares at every accrual)."""
    seen: list[str] = []
    for a in candidates:
        a = to_checksum_address(a)
        if a not in seen and a != FORK_LIQUIDATOR:
            seen.append(a)
    if market.fee_recipient not in seen:
        seen.append(market.fee_recipient)
    market.accounts = seen


def read_snapshot(market: MorphoForkMarket, now: int, name: str) -> MorphoSnapshot:
    """``market(id)`` and every non-zero ``position(id, user)`` of ``market.accounts`` (stored values)."""
    m = market.morpho
    calls = [("eth_call", [{"to": m.address, "data": "0x" + m.data("market", market.market_id).hex()}, "latest"])]
    calls += [("eth_call", [{"to": m.address, "data": "0x" + m.data("position", market.market_id, u).hex()},
                            "latest"]) for u in market.accounts]
    raws = market.node.batch(calls)
    stored = abi_decode(["uint128"] * 6, bytes.fromhex(raws[0][2:]))
    positions = []
    for user, raw in sorted(zip(market.accounts, raws[1:], strict=True)):
        supply, borrow, collateral = abi_decode(["uint256", "uint128", "uint128"], bytes.fromhex(raw[2:]))
        if supply or borrow or collateral:
            positions.append(PositionSnapshot(market.label, user, int(supply), int(borrow), int(collateral)))
    return MorphoSnapshot(name, now, (MarketSnapshot(market.label, *(int(x) for x in stored)),), tuple(positions))


def _loan_units(market: MorphoForkMarket, price: int) -> int:
    """Loan tokens per whole collateral token, 8 decimals, of a 1e36 oracle price (rounded down)."""
    return price * 10**market.collateral_decimals * 10**8 // (ORACLE_PRICE_SCALE * 10**market.loan_decimals)


def model_from_market(market: MorphoForkMarket, snapshot: MorphoSnapshot) -> tuple[MorphoBlue, FixedPriceOracle]:
    """The model of ``snapshot`` and its oracle (a :class:`FixedPriceOracle` at the fork's price).

    Its "USD" prices (only for the liquidator-facing figures) are in loan tokens: 1 for the loan
    token, the oracle's price for the collateral.
    """
    oracle = FixedPriceOracle(market.price)
    params = MarketParams(market.label, market.loan, market.collateral, oracle, market.irm, market.lltv)

    def price(token: str) -> int:
        return 10**8 if token == market.loan else _loan_units(market, oracle.price())

    model = morpho_from_snapshot(snapshot, {market.label: params},
                                 {market.loan: market.loan_decimals, market.collateral: market.collateral_decimals},
                                 price, fee_recipient=market.fee_recipient, name=snapshot.name)
    return model, oracle


# --- shock --------------------------------------------------------------------------------------------

def take_over_price(market: MorphoForkMarket, new_price: int, now: int) -> str:
    """Give the market's oracle address ``OracleMock``'s code and ``setPrice(new_price)`` on the fork.

    Returns how (for the report); raises :class:`ChainError` when ``price()`` does not answer
    ``new_price`` afterwards.
    """
    node = market.node
    mock = load_artifact("morpho-blue", "OracleMock")
    node.request("anvil_setCode", [market.oracle, mock.deployed_bytecode])
    node.set_balance(FORK_ADMIN, _RICH)
    Contract(node, market.oracle, mock.abi).send(FORK_ADMIN, "setPrice", new_price)
    node.mine(now)
    got = int(abi_decode(["uint256"], node.call(market.oracle, _sel("price()")))[0])
    if got != new_price:
        raise ChainError(f"the oracle {market.oracle} answers {got} after the takeover, not {new_price}")
    return f"oracle {market.oracle} code replaced by Morpho's OracleMock (anvil_setCode), setPrice({new_price})"


# --- chain-side views -----------------------------------------------------------------------------------

def chain_accrued(market: MorphoForkMarket, now: int) -> tuple[int, int, int, int]:
    """``(tSA, tSS, tBA, tBS)`` of ``market(id)`` accrued to ``now`` as ``_accrueInterest`` does,
    with the rate from the chain's IRM (``borrowRate`` on the stored market)."""
    stored = _stored_market(market.morpho, market.market_id)
    tsa, tss, tba, tbs, last, fee = stored
    if now > last and int(market.params[3], 16):
        rate = _borrow_rate(market.node, market.morpho.address, market.params, stored)
        interest = w_mul_down(tba, w_taylor_compounded(rate, now - last))
        tba += interest
        tsa += interest
        if fee:
            fee_amount = w_mul_down(interest, fee)
            tss += mul_div_down(fee_amount, tss + 10**6, tsa - fee_amount + 1)
    return tsa, tss, tba, tbs


def chain_health(market: MorphoForkMarket, account: str, now: int) -> int:
    """The model's WAD health factor of ``account`` from fork state (``2**256 - 1`` without debt)."""
    _supply, shares, collateral = market.morpho.call("position", market.market_id, account)
    _tsa, _tss, tba, tbs = chain_accrued(market, now)
    borrowed = to_assets_up(int(shares), tba, tbs)
    if borrowed == 0:
        return UINT256_MAX
    price = int(abi_decode(["uint256"], market.node.call(market.oracle, _sel("price()")))[0])
    return w_mul_down(mul_div_down(int(collateral), price, ORACLE_PRICE_SCALE), market.lltv) * WAD // borrowed


# --- liquidation ----------------------------------------------------------------------------------------

def _liquidate_event(morpho: str, logs: Sequence[dict[str, Any]]) -> tuple[int, ...]:
    for log in logs:
        if log["topics"][0] == LIQUIDATE_TOPIC and log["address"].lower() == morpho.lower():
            return tuple(int(x) for x in abi_decode(["uint256"] * 5, bytes.fromhex(log["data"][2:])))
    raise ChainError("no Liquidate event")


def liquidate_on_fork(market: MorphoForkMarket, account: str, seized: int, repaid_shares: int, now: int,
                      liquidator: str = FORK_LIQUIDATOR) -> tuple[LiquidationResult, int]:
    """``liquidate(marketParams, account, seized, repaid_shares, "")`` on the fork, mined at ``now``:
    (result, bad debt assets). The liquidator is funded with ``totalBorrowAssets + 1``."""
    node = market.node
    before = chain_health(market, account, now)
    need = chain_accrued(market, now)[2] + 1
    token = market.loan_token()
    node.set_balance(liquidator, _RICH)
    fund(node, token, liquidator, need)
    if token.call("allowance", liquidator, market.morpho.address) < need:
        token.send(liquidator, "approve", market.morpho.address, UINT256_MAX)
        node.mine(now)
    market.morpho.send(liquidator, "liquidate", market.params, account, seized, repaid_shares, b"")
    (receipt,) = node.mine(now, check=False)
    if not receipt.ok:
        return LiquidationResult(reason=morpho_reason(node.revert_reason(receipt.tx_hash)),
                                 health_before=before), 0
    repaid, _shares, seized_assets, bad_assets, _bad_shares = _liquidate_event(market.morpho.address, receipt.logs)
    return LiquidationResult(debt_repaid=repaid, collateral_seized=seized_assets, protocol_fee=0,
                             health_before=before, health_after=chain_health(market, account, now)), bad_assets


def liquidate_in_model(model: MorphoBlue, market: str, account: str, seized: int, repaid_shares: int, now: int,
                       liquidator: str = FORK_LIQUIDATOR) -> tuple[LiquidationResult, int]:
    """The same ``liquidate`` in the model (the liquidator is minted ``totalBorrowAssets + 1``)."""
    before = model.health_factor(now, market, account)
    loan = model.market_params(market).loan_token
    need = model.accrued_market(now, market).total_borrow_assets + 1
    have = model.ledger.balance_of(loan, liquidator)
    if need > have:
        model.ledger.mint(loan, liquidator, need - have)
    try:
        res = model.liquidate(now, liquidator, market, account, seized, repaid_shares)
    except MorphoError as exc:
        return LiquidationResult(reason=exc.reason, health_before=before), 0
    return LiquidationResult(debt_repaid=res.repaid_assets, collateral_seized=res.seized_assets, protocol_fee=0,
                             health_before=before, health_after=model.health_factor(now, market, account)), \
        res.bad_debt_assets


def _liquidate_all(report: ForkReport, market: MorphoForkMarket, model: MorphoBlue, now: int,
                   say: Progress) -> None:
    label = market.label
    borrowers = [p.user for p in report.snapshot.positions if p.borrow_shares]
    on_model = sorted((a for a in borrowers if not model.is_healthy(now, label, a)),
                      key=lambda a: (-model.borrow_assets(now, label, a), a))
    on_chain = [a for a in borrowers if chain_health(market, a, now) < WAD]
    order = on_model + [a for a in on_chain if a not in on_model]
    for i, account in enumerate(order, 1):
        try:
            seized, shares = model.liquidation_args(now, label, account, MAX_AMOUNT)
        except MorphoError as exc:
            shares = int(market.morpho.call("position", market.market_id, account)[1])
            seized = 0
            report.notes.append(f"{account} is liquidatable on the fork only (model: {exc.reason}); "
                                f"tried repaidShares = all {shares} on both")
        say(f"liquidating {i}/{len(order)}: {account} (seizedAssets {seized}, repaidShares {shares})")
        t = time.perf_counter()
        sim, sim_bad = liquidate_in_model(model, label, account, seized, shares, now)
        report.simulator_seconds += time.perf_counter() - t
        chain, chain_bad = liquidate_on_fork(market, account, seized, shares, now)
        if sim_bad or chain_bad:
            same = "" if sim_bad == chain_bad else f" (fork: {chain_bad})"
            report.notes.append(f"{account}: all collateral seized, bad debt of {sim_bad}{same} {market.loan} "
                                "base units written off (suppliers bear it)")
        report.liquidations.append(LiquidationRow(market.node.block_number(), account, market.collateral,
                                                  market.loan, sim, chain, tuple(diff(sim, chain))))


# --- the run ------------------------------------------------------------------------------------------

def _rows(market: MorphoForkMarket, snapshot: MorphoSnapshot, shocked: int | None) -> list[ReserveRow]:
    ms = snapshot.markets[0]
    bps = 10**14  # WAD -> basis points
    lif = liquidation_incentive_factor(market.lltv)
    collateral = sum(p.collateral for p in snapshot.positions)
    return [
        ReserveRow(market.loan, market.params[0], 0, 0, 10_000, ms.fee // bps, 0, market.loan_decimals, 10**8,
                   None, ms.total_supply_assets, ms.total_borrow_assets),
        ReserveRow(market.collateral, market.params[1], market.lltv // bps, market.lltv // bps, lif // bps, 0, 0,
                   market.collateral_decimals, _loan_units(market, market.price),
                   None if shocked is None else _loan_units(market, shocked), collateral, 0),
    ]


def _shock(market: MorphoForkMarket, shocks: Sequence[Shock]) -> Shock | None:
    if not shocks:
        return None
    (s,) = shocks
    if not market.matches(s.asset):
        if s.asset.lower() in (market.loan.lower(), market.params[0].lower()):
            raise ForkInputError(f"--shock {s.asset}: that is the market's loan token; shock the collateral "
                                 f"({market.collateral}): the oracle price is the collateral's price in loan tokens")
        raise ForkInputError(f"--shock {s.asset}: not the collateral of market {market.label}; the market lends "
                             f"{market.loan} against {market.collateral} (shock {market.collateral}=-30% or "
                             "collateral=-30%)")
    return Shock(market.collateral, s.change)


def run_morpho(request: ForkRequest, url: str, address: str, say: Progress) -> ForkReport:
    """Steps 1–6 of the module docstring for a checked request (``address``: the Morpho contract)."""
    market_id = parse_market_id(request.market or "")
    say(f"checking {redact_url(url)} (read-only)")
    rpc = ReadOnlyRpc(url)
    try:
        info = check_remote(rpc, url, request.block, "morpho-blue", address, market=market_id,
                            chain_id=request.chain_id)
        if request.accounts is None:
            say(f"scanning the market's Borrow/SupplyCollateral logs (last {request.log_blocks} blocks)")
            first = max(0, info.block - max(request.log_blocks, 1) + 1)
            candidates, source = accounts_from_logs(rpc, address, market_id, first, info.block, request.max_accounts)
        else:
            candidates, source = list(request.accounts), f"{len(request.accounts)} given with --accounts"
    finally:
        rpc.close()

    t0 = time.perf_counter()
    anvil, node, now, fork_s = start_fork(url, info.block, request.anvil_port, say)
    try:
        say("reading the market on the fork")
        try:
            market = read_market(node, address, market_id)
        except TransactionFailed as exc:
            raise ForkError(f"reading market {'0x' + market_id.hex()} of {address} on the fork failed: {exc}") from None
        shock = _shock(market, request.shocks)
        select_accounts(market, [*candidates])
        snapshot = read_snapshot(market, now, name=address)
        t_sim = time.perf_counter()
        model, oracle = model_from_market(market, snapshot)
        read_mismatches = diff(model.snapshot(now), snapshot)
        sim_s = time.perf_counter() - t_sim

        shocked, how = None, ""
        if shock is not None:
            shocked = shock.apply(market.price)
            say(f"shocking the oracle price: {shock}")
            how = take_over_price(market, shocked, now)
            oracle.set_price(shocked)
            market.notes.append(f"shocked price() {shocked} (1e36 scale): {shock} of {market.price}, rounded down, "
                                "on the fork and in the model")
        report = ForkReport(
            rpc=redact_url(url), chain_id=info.chain_id, block=info.block, timestamp=now, latest_block=info.latest,
            protocol=request.protocol, address=address, family="morpho-blue", revision=0,
            reserves=_rows(market, snapshot, shocked), accounts=list(market.accounts), accounts_source=source,
            skipped=[], snapshot=snapshot, read_mismatches=read_mismatches,
            shocks=[str(shock)] if shock is not None else [], oracle_takeover=how, notes=list(market.notes),
        )
        report.simulator_seconds = sim_s
        _liquidate_all(report, market, model, now, say)
        t_sim = time.perf_counter()
        report.final_simulator = model.snapshot(now)
        report.simulator_seconds += time.perf_counter() - t_sim
        report.final_chain = read_snapshot(market, now, name=address)
        report.final_mismatches = diff(report.final_simulator, report.final_chain, ignore=frozenset({"timestamp"}))
        report.fork_seconds = fork_s
        report.chain_seconds = time.perf_counter() - t0 - report.simulator_seconds
        return report
    finally:
        anvil.stop()
