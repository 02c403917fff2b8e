"""Aave V3 on a forked chain: read a live pool into the simulator's snapshot, shock, liquidate.

Everything here talks to a :class:`~defisim.chain.rpc.LocalNode` (the Anvil fork this process
started); the user's RPC is only ever read, by Anvil and by :mod:`defisim.chain.fork`.

Reading (:func:`read_market`), at the fork block:

* the version: 3.6 when the pool has ``getReserveDeficit`` and ``POOL_REVISION() >= 10``,
  3.0 when it has neither ``getVirtualUnderlyingBalance`` nor ``getReserveDeficit``
  (3.1–3.5 follow neither modelled rule set and are refused unless a version is forced);
* each reserve (``getReservesList``, reserve-id order): the ``ReserveConfigurationMap``
  bitfield decoded with :func:`decode_configuration` (LTV, liquidation threshold and bonus,
  decimals, reserve factor, liquidation protocol fee, flags), ``getReserveData`` (indexes,
  rates, ``lastUpdateTimestamp``, ``accruedToTreasury``, token and strategy addresses), the
  token totals (``scaledTotalSupply``), the virtual balance and deficit (3.6) or the aToken's
  underlying balance (3.0), and the rate curve (3.6: ``getInterestRateData(asset)`` on the
  pool's strategy, RAY; 3.0: the v1 strategy's ``OPTIMAL_USAGE_RATIO`` and getters);
* prices: ``AaveOracle.getAssetPrice``;
* accounts: scaled balances and the user-configuration bitmap (collateral bit ``2·id + 1``).
  Accounts the model cannot represent are left out and listed with the reason: e-mode users
  and (3.0) holders of stable-rate debt.

The model is :func:`~defisim.engine.protocols.aave_v3.restore.pool_from_snapshot` of that
snapshot. Account and treasury labels are checksummed addresses; asset labels are the tokens'
symbols (the address when a symbol is missing or not unique).

Price shocks (:func:`take_over_prices`) replace each shocked asset's source in
``AaveOracle`` by a fresh ``SettableAggregator`` (contracts/src), sent by an impersonated
pool or asset-listing admin (found through ``ACLManager``; an ACL admin holding
``DEFAULT_ADMIN_ROLE`` first grants a defisim address the asset-listing role), or, failing
that, by writing ``assetsSources`` (``AaveOracle`` storage slot 0) directly. The oracle's
answer is checked afterwards either way.

Liquidations (:func:`liquidate_on_fork`) fund the liquidator by writing its balance slot of
the debt token (found by tracing ``balanceOf`` with ``prestateTracer``), approve the pool and
call ``liquidationCall(collateral, debt, user, type(uint256).max, false)``; every transaction
is mined in its own block at the fork's timestamp.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak, to_checksum_address

from defisim.chain.adapters.aave_v3 import (
    LIQUIDATION_CALL,
    TRANSFER,
    aave_reason,
    deploy_contract,
)
from defisim.chain.artifacts import load_artifact
from defisim.chain.backend import LiquidationResult
from defisim.chain.errors import ChainError, RpcError, TransactionFailed
from defisim.chain.rpc import Contract, LocalNode, Receipt, _type_of, address_of
from defisim.engine.protocols.aave_v3.config import ReserveConfig
from defisim.engine.protocols.aave_v3.outcomes import (
    AaveSnapshot,
    AccountSnapshot,
    ReserveSnapshot,
)
from defisim.engine.protocols.aave_v3.pool import MAX_AMOUNT, AavePool
from defisim.engine.protocols.aave_v3.restore import pool_from_snapshot

__all__ = [
    "FORK_ADMIN",
    "FORK_LIQUIDATOR",
    "AaveForkMarket",
    "ReserveBits",
    "ReserveInfo",
    "call_many",
    "decode_configuration",
    "detect_version",
    "fund",
    "liquidate_in_model",
    "liquidate_on_fork",
    "liquidation_pair",
    "model_from_market",
    "read_market",
    "read_snapshot",
    "select_accounts",
    "take_over_prices",
]

UINT256_MAX = 2**256 - 1
WAD = 10**18
ZERO = "0x" + "00" * 20
FORK_ADMIN = address_of("fork-admin")
"""Granted the asset-listing role on the fork when no admin can set oracle sources itself."""
FORK_LIQUIDATOR = address_of("fork-liquidator")
"""Sends every liquidation on the fork (and is the liquidator in the model)."""
_RICH = 10**24  # ether given to impersonated senders (gas price is 0 anyway)
_BATCH = 500


# --- configuration bitfield ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ReserveBits:
    """``ReserveConfigurationMap`` decoded (bps unless stated; bonus includes 100 %).

    Bits 0–151 and the debt ceiling (212–251) are laid out alike in 3.0 and 3.6. 3.0 also has
    stable borrowing (bit 59), the e-mode category (168–175) and the unbacked mint cap
    (176–211); 3.6 keeps bit 252 (virtual accounting, always on) and no longer uses the rest.
    Caps are whole tokens; the debt ceiling is in USD with 2 decimals.
    """

    ltv: int
    liquidation_threshold: int
    liquidation_bonus: int
    decimals: int
    active: bool
    frozen: bool
    borrowing_enabled: bool
    paused: bool
    borrowable_in_isolation: bool
    siloed_borrowing: bool
    flashloan_enabled: bool
    reserve_factor: int
    borrow_cap: int
    supply_cap: int
    liquidation_protocol_fee: int
    debt_ceiling: int
    stable_borrowing_enabled: bool = False
    emode_category: int = 0
    unbacked_mint_cap: int = 0


def _bits(data: int, start: int, width: int) -> int:
    return (data >> start) & ((1 << width) - 1)


def decode_configuration(data: int, version: str) -> ReserveBits:
    """Decode ``getConfiguration(asset).data`` of an Aave ``version`` ("3.0" or "3.6") pool.

    Mirrors the getters of ``ReserveConfiguration`` (masks and ``*_START_BIT_POSITION``).
    """
    extra: dict[str, Any] = {}
    if version == "3.0":
        extra = {"stable_borrowing_enabled": bool(_bits(data, 59, 1)),
                 "emode_category": _bits(data, 168, 8), "unbacked_mint_cap": _bits(data, 176, 36)}
    return ReserveBits(
        ltv=_bits(data, 0, 16), liquidation_threshold=_bits(data, 16, 16),
        liquidation_bonus=_bits(data, 32, 16), decimals=_bits(data, 48, 8),
        active=bool(_bits(data, 56, 1)), frozen=bool(_bits(data, 57, 1)),
        borrowing_enabled=bool(_bits(data, 58, 1)), paused=bool(_bits(data, 60, 1)),
        borrowable_in_isolation=bool(_bits(data, 61, 1)), siloed_borrowing=bool(_bits(data, 62, 1)),
        flashloan_enabled=bool(_bits(data, 63, 1)), reserve_factor=_bits(data, 64, 16),
        borrow_cap=_bits(data, 80, 36), supply_cap=_bits(data, 116, 36),
        liquidation_protocol_fee=_bits(data, 152, 16), debt_ceiling=_bits(data, 212, 40),
        **extra,
    )


# --- ABIs ---------------------------------------------------------------------------------------

_NAMES = {
    "3.6": {"pool": "PoolInstance", "a": "ATokenInstance", "v": "VariableDebtTokenInstance",
            "strategy": "DefaultReserveInterestRateStrategyV2"},
    "3.0": {"pool": "Pool", "a": "AToken", "v": "VariableDebtToken", "s": "StableDebtToken",
            "strategy": "DefaultReserveInterestRateStrategy"},
}


@cache
def _abi(version: str, what: str) -> list[dict[str, Any]]:
    if what in ("provider", "acl", "oracle"):
        name = {"provider": "PoolAddressesProvider", "acl": "ACLManager", "oracle": "AaveOracle"}[what]
        return load_artifact("aave-v3.6", name).abi
    if what in ("erc20", "aggregator"):
        return load_artifact("defisim", "TestToken" if what == "erc20" else "SettableAggregator").abi
    return load_artifact(f"aave-v{version}", _NAMES[version][what]).abi


def _outputs(contract: Contract, name: str, nargs: int) -> list[str]:
    for item in contract.abi:
        if item.get("type") == "function" and item["name"] == name and len(item.get("inputs", [])) == nargs:
            return [_type_of(p) for p in item.get("outputs", [])]
    raise ChainError(f"{contract.address}: no function {name} with {nargs} arguments in the ABI")


def call_many(node: LocalNode, calls: Sequence[tuple[Contract, str, tuple[Any, ...]]]) -> list[Any]:
    """Batched ``eth_call`` on ``latest`` (one value unwrapped, as :meth:`Contract.call`)."""
    out: list[Any] = []
    for i in range(0, len(calls), _BATCH):
        chunk = calls[i:i + _BATCH]
        raws = node.batch([("eth_call", [{"to": c.address, "data": "0x" + c.data(fn, *args).hex()}, "latest"])
                           for c, fn, args in chunk])
        for (c, fn, args), raw in zip(chunk, raws, strict=True):
            values = abi_decode(_outputs(c, fn, len(args)), bytes.fromhex(raw[2:]))
            out.append(values[0] if len(values) == 1 else values)
    return out


def _try_call(c: Contract, fn: str, *args: Any) -> Any | None:
    """``c.call`` or None when it reverts (or the function does not exist there)."""
    try:
        return c.call(fn, *args)
    except (TransactionFailed, RpcError, DecodingError):  # undecodable: no such function there
        return None


# --- reading --------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ReserveInfo:
    """One reserve as read from the fork: label, addresses, configuration, price (8 dp)."""

    asset: str
    address: str
    reserve_id: int
    bits: ReserveBits
    config: ReserveConfig
    a_token: str
    debt_token: str
    stable_debt_token: str
    strategy: str
    treasury: str
    price: int


@dataclass
class AaveForkMarket:
    """A live Aave pool on the fork and everything read from it."""

    node: LocalNode
    version: str
    revision: int
    pool: Contract
    provider: Contract
    oracle: Contract
    reserves: list[ReserveInfo]
    treasury: str
    accounts: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def family(self) -> str:
        return f"aave-v{self.version}"

    def reserve(self, asset: str) -> ReserveInfo:
        for r in self.reserves:
            if r.asset == asset:
                return r
        raise ChainError(f"{asset} is not a reserve of {self.pool.address}")

    def find_reserve(self, key: str) -> ReserveInfo | None:
        """The reserve whose label or token address is ``key`` (case-insensitive)."""
        k = key.lower()
        for r in self.reserves:
            if r.asset.lower() == k or r.address.lower() == k:
                return r
        return None

    def token(self, asset: str) -> Contract:
        return Contract(self.node, self.reserve(asset).address, _abi(self.version, "erc20"))

    def account_health(self, account: str) -> int:
        return int(self.pool.call("getUserAccountData", account)[5])


def detect_version(pool: Contract, probe_asset: str) -> tuple[str | None, int]:
    """(``"3.6"``, ``"3.0"`` or None for a revision neither rule set models, POOL_REVISION)."""
    revision = _try_call(pool, "POOL_REVISION")
    rev = int(revision) if isinstance(revision, int) else -1
    has_deficit = _try_call(pool, "getReserveDeficit", probe_asset) is not None
    has_virtual = _try_call(pool, "getVirtualUnderlyingBalance", probe_asset) is not None
    if has_deficit and rev >= 10:
        return "3.6", rev
    if not has_deficit and not has_virtual:
        return "3.0", rev
    return None, rev


def _label(symbol: object, address: str) -> str:
    if isinstance(symbol, str) and symbol.isprintable() and symbol.strip() and len(symbol) <= 32:
        return symbol.strip()
    return address


def _symbol(node: LocalNode, address: str) -> str | None:
    """ERC-20 ``symbol()`` as a string (also ``bytes32`` symbols), or None."""
    try:
        raw = node.call(address, keccak(text="symbol()")[:4])
    except (RpcError, ChainError):
        return None
    try:
        return str(abi_decode(["string"], raw)[0])
    except (DecodingError, UnicodeDecodeError):  # not an ABI string: maybe bytes32
        if len(raw) == 32:
            text = raw.rstrip(b"\0").decode("utf-8", "replace")
            return text or None
        return None


def read_market(node: LocalNode, pool_address: str, version: str | None = None) -> AaveForkMarket:
    """Read the pool at ``pool_address`` (reserves, curves, prices, treasury; no accounts).

    ``version`` forces a rule set ("3.0"/"3.6") instead of detecting it.
    """
    probe = Contract(node, pool_address, _abi("3.6", "pool"))
    assets = [to_checksum_address(a) for a in probe.call("getReservesList")]
    if not assets:
        raise ChainError(f"the Aave pool {pool_address} has no reserves")
    detected, revision = detect_version(probe, assets[0])
    notes: list[str] = []
    if version is None:
        if detected is None:
            raise ChainError(
                f"the pool at {pool_address} is Aave revision {revision}, which follows neither modelled "
                "rule set (3.0: no virtual accounting; 3.6: revision 10 with deficits); pass "
                "--aave-version 3.6 or 3.0 to compare against one anyway")
        version = detected
    elif detected != version:
        notes.append(f"pool revision {revision} detected as {detected or 'unmodelled'}; using the "
                     f"{version} rule set as asked")
    if version == "3.0" and revision not in (1, -1):
        notes.append(f"pool revision {revision}: modelled with the Aave 3.0.0 rules (@aave/core-v3 1.19.3)")
    if version == "3.6" and revision > 10:
        notes.append(f"pool revision {revision} is newer than 3.6 (10): modelled with the 3.6 rules")
    pool = Contract(node, pool_address, _abi(version, "pool"))
    provider = Contract(node, pool.call("ADDRESSES_PROVIDER"), _abi(version, "provider"))
    oracle = Contract(node, provider.call("getPriceOracle"), _abi(version, "oracle"))

    datas = call_many(node, [(pool, "getReserveData", (a,)) for a in assets])
    configs_raw = call_many(node, [(pool, "getConfiguration", (a,)) for a in assets])
    prices = call_many(node, [(oracle, "getAssetPrice", (a,)) for a in assets])
    symbols = [_symbol(node, a) for a in assets]
    labels = [_label(s, a) for s, a in zip(symbols, assets, strict=True)]
    dupes = {x for x in labels if labels.count(x) > 1}
    labels = [a if lab in dupes else lab for lab, a in zip(labels, assets, strict=True)]

    reserves: list[ReserveInfo] = []
    for asset, label, data, cfg_raw, price in zip(assets, labels, datas, configs_raw, prices, strict=True):
        cfg_word = cfg_raw[0] if isinstance(cfg_raw, tuple) else cfg_raw
        bits = decode_configuration(int(cfg_word), version)
        reserve_id = int(data[7])
        a_token, stable, v_token, strategy_addr = (to_checksum_address(x) for x in data[8:12])
        if version == "3.6":
            strategy = Contract(node, strategy_addr, _abi(version, "strategy"))
            try:
                opt, base, s1, s2 = strategy.call("getInterestRateData", asset)
            except (TransactionFailed, RpcError) as exc:
                raise ChainError(f"cannot read the rate curve of {label} from {strategy_addr}: {exc}") from None
        else:
            strategy = Contract(node, strategy_addr, _abi(version, "strategy"))
            try:
                opt, base, s1, s2 = (strategy.call(fn) for fn in (
                    "OPTIMAL_USAGE_RATIO", "getBaseVariableBorrowRate", "getVariableRateSlope1",
                    "getVariableRateSlope2"))
            except (TransactionFailed, RpcError) as exc:
                raise ChainError(f"cannot read the rate curve of {label} from {strategy_addr}: {exc}") from None
        config = ReserveConfig(
            ltv=bits.ltv, liquidation_threshold=bits.liquidation_threshold,
            liquidation_bonus=bits.liquidation_bonus, liquidation_protocol_fee=bits.liquidation_protocol_fee,
            reserve_factor=bits.reserve_factor, optimal_usage_ratio=int(opt),
            base_variable_borrow_rate=int(base), variable_rate_slope1=int(s1), variable_rate_slope2=int(s2),
            decimals=bits.decimals,
        )
        treasury = to_checksum_address(Contract(node, a_token, _abi(version, "a")).call("RESERVE_TREASURY_ADDRESS"))
        reserves.append(ReserveInfo(label, asset, reserve_id, bits, config, a_token, v_token, stable,
                                    strategy_addr, treasury, int(price)))
        if not bits.active or bits.paused:
            notes.append(f"{label} is {'paused' if bits.paused else 'inactive'}: the contracts refuse "
                         "liquidations there; the model does not know pauses")
        if version == "3.0" and int(data[13]):
            notes.append(f"{label} has unbacked (portal) supply, which the model does not include in its rates")
        if version == "3.0" and stable != ZERO:
            total_stable = Contract(node, stable, _abi(version, "s")).call("totalSupply")
            if total_stable:
                notes.append(f"{label} has stable-rate debt ({total_stable}): rates and health factors "
                             "with it are not modelled")
        if version == "3.6":
            grace = _try_call(pool, "getLiquidationGracePeriod", asset)
            if isinstance(grace, int) and grace >= node.timestamp():
                notes.append(f"{label} is in a liquidation grace period until {grace}: not modelled")
    reserves.sort(key=lambda r: r.reserve_id)
    treasuries = {r.treasury for r in reserves}
    if len(treasuries) > 1:
        notes.append(f"reserves pay {len(treasuries)} different treasuries; the model uses "
                     f"{reserves[0].treasury} for all")
    sentinel = _try_call(provider, "getPriceOracleSentinel")
    if isinstance(sentinel, str) and int(sentinel, 16):
        notes.append(f"a price-oracle sentinel is set ({sentinel}); the model ignores sequencer grace periods")
    return AaveForkMarket(node, version, revision, pool, provider, oracle, reserves, reserves[0].treasury,
                          notes=notes)


def select_accounts(market: AaveForkMarket, candidates: Sequence[str]) -> None:
    """Set ``market.accounts`` to the candidates the model can represent (others to ``skipped``).

    Left out: e-mode users (``getUserEMode != 0``) and, in 3.0, holders of stable-rate debt.
    The treasury is always read (it receives protocol fees).
    """
    node, pool = market.node, market.pool
    seen: list[str] = []
    for a in candidates:
        a = to_checksum_address(a)
        if a not in seen and a != FORK_LIQUIDATOR:
            seen.append(a)
    if market.treasury not in seen:
        seen.append(market.treasury)
    emodes = call_many(node, [(pool, "getUserEMode", (a,)) for a in seen])
    stable: list[int] = [0] * len(seen)
    if market.version == "3.0":
        s_abi = _abi("3.0", "s")
        tokens = [Contract(node, r.stable_debt_token, s_abi) for r in market.reserves if r.stable_debt_token != ZERO]
        if tokens:
            bals = call_many(node, [(t, "balanceOf", (a,)) for a in seen for t in tokens])
            stable = [sum(bals[i * len(tokens):(i + 1) * len(tokens)]) for i in range(len(seen))]
    kept: list[str] = []
    for a, em, st in zip(seen, emodes, stable, strict=True):
        if int(em):
            market.skipped.append((a, f"e-mode category {int(em)} (not modelled)"))
        elif st:
            market.skipped.append((a, "stable-rate debt (not modelled)"))
        else:
            kept.append(a)
    market.accounts = kept


def read_snapshot(market: AaveForkMarket, now: int, name: str = "pool") -> AaveSnapshot:
    """The pool's stored state and ``market.accounts``' balances as an :class:`AaveSnapshot`.

    Reserve fields as :meth:`AavePool.snapshot` keeps them (stored, not accrued to ``now``);
    3.0's virtual balance is the aToken's underlying balance. Accounts holding nothing are
    left out, as the simulator leaves them out.
    """
    node, pool, v = market.node, market.pool, market.version
    a_abi, v_abi, erc20 = _abi(v, "a"), _abi(v, "v"), _abi(v, "erc20")
    a_toks = [Contract(node, r.a_token, a_abi) for r in market.reserves]
    d_toks = [Contract(node, r.debt_token, v_abi) for r in market.reserves]
    calls: list[tuple[Contract, str, tuple[Any, ...]]] = []
    for r, at, dt in zip(market.reserves, a_toks, d_toks, strict=True):
        calls += [(pool, "getReserveData", (r.address,)), (at, "scaledTotalSupply", ()),
                  (dt, "scaledTotalSupply", ())]
        if v == "3.0":
            calls += [(Contract(node, r.address, erc20), "balanceOf", (r.a_token,)), (at, "scaledTotalSupply", ())]
        else:
            calls += [(pool, "getVirtualUnderlyingBalance", (r.address,)), (pool, "getReserveDeficit", (r.address,))]
    values = call_many(node, calls)
    reserves = []
    for i, r in enumerate(market.reserves):
        data, s_supply, s_debt, virtual, deficit = values[5 * i:5 * i + 5]
        reserves.append(ReserveSnapshot(
            asset=r.asset, liquidity_index=int(data[1]), variable_borrow_index=int(data[3]),
            current_liquidity_rate=int(data[2]), current_variable_borrow_rate=int(data[4]),
            scaled_total_supply=int(s_supply), scaled_total_debt=int(s_debt),
            virtual_underlying_balance=int(virtual), accrued_to_treasury=int(data[12]),
            deficit=int(deficit) if v != "3.0" else 0, last_update_timestamp=int(data[6]),
        ))
    per = 1 + 2 * len(market.reserves)
    calls = []
    for acct in market.accounts:
        calls.append((pool, "getUserConfiguration", (acct,)))
        for at, dt in zip(a_toks, d_toks, strict=True):
            calls += [(at, "scaledBalanceOf", (acct,)), (dt, "scaledBalanceOf", (acct,))]
    values = call_many(node, calls)
    accounts = []
    position = {acct: k for k, acct in enumerate(market.accounts)}
    for acct in sorted(market.accounts):
        k = position[acct]
        bitmap = values[k * per]
        bitmap = int(bitmap[0] if isinstance(bitmap, tuple) else bitmap)
        coll, debt, enabled = [], [], []
        for i, r in enumerate(market.reserves):
            s_a, s_d = values[k * per + 1 + 2 * i], values[k * per + 2 + 2 * i]
            if s_a:
                coll.append((r.asset, int(s_a)))
            if s_d:
                debt.append((r.asset, int(s_d)))
            if (bitmap >> (2 * r.reserve_id + 1)) & 1:
                enabled.append(r.asset)
        if coll or debt or enabled:
            accounts.append(AccountSnapshot(acct, tuple(coll), tuple(debt), tuple(enabled)))
    return AaveSnapshot(name, now, tuple(reserves), tuple(accounts))


def model_from_market(market: AaveForkMarket, snapshot: AaveSnapshot, prices: dict[str, int]) -> AavePool:
    """The simulator's pool in the state ``snapshot`` describes; ``prices`` is read live (mutable)."""
    return pool_from_snapshot(snapshot, {r.asset: r.config for r in market.reserves}, prices.__getitem__,
                              treasury=market.treasury, version=market.version, name=snapshot.name)


# --- price shock ------------------------------------------------------------------------------------

def _storage_key(key_address: str, slot: int) -> str:
    return "0x" + keccak(abi_encode(["address", "uint256"], [key_address, slot])).hex()


def _oracle_sender(market: AaveForkMarket, now: int) -> str | None:
    """An address allowed to call ``AaveOracle.setAssetSources`` on the fork, or None."""
    node = market.node
    acl_addr = _try_call(market.provider, "getACLManager")
    if not isinstance(acl_addr, str) or not int(acl_addr, 16):
        return None
    acl = Contract(node, acl_addr, _abi(market.version, "acl"))
    acl_admin = _try_call(market.provider, "getACLAdmin")
    owner = _try_call(market.provider, "owner")
    for who in (acl_admin, owner):
        if isinstance(who, str) and int(who, 16) and (
                _try_call(acl, "isPoolAdmin", who) or _try_call(acl, "isAssetListingAdmin", who)):
            return to_checksum_address(who)
    if isinstance(acl_admin, str) and int(acl_admin, 16) and _try_call(acl, "hasRole", b"\0" * 32, acl_admin):
        node.set_balance(acl_admin, _RICH)
        acl.send(to_checksum_address(acl_admin), "addAssetListingAdmin", FORK_ADMIN)
        node.mine(now)
        return FORK_ADMIN
    return None


def take_over_prices(market: AaveForkMarket, new_prices: dict[str, int], now: int) -> str:
    """Point the oracle of each asset in ``new_prices`` at a new ``SettableAggregator``.

    Returns how the sources were replaced (for the report). Raises :class:`ChainError` when
    the oracle does not answer the new prices afterwards.
    """
    if not new_prices:
        return ""
    node = market.node
    node.set_balance(address_of("deployer"), _RICH)
    feeds = {a: deploy_contract(node, "defisim", "SettableAggregator", (8, f"defisim {a} shock", p), None, now)
             for a, p in new_prices.items()}
    assets = [market.reserve(a).address for a in feeds]
    sources = [f.address for f in feeds.values()]
    sender = _oracle_sender(market, now)
    if sender is not None:
        node.set_balance(sender, _RICH)
        market.oracle.send(sender, "setAssetSources", assets, sources)
        node.mine(now)
        how = f"AaveOracle.setAssetSources sent by {sender}"
    else:
        for asset, source in zip(assets, sources, strict=True):
            node.request("anvil_setStorageAt", [market.oracle.address, _storage_key(asset, 0),
                                                "0x" + abi_encode(["address"], [source]).hex()])
        node.mine(now)
        how = "AaveOracle.assetsSources written in storage (no admin found)"
    for a, p in new_prices.items():
        got = market.oracle.call("getAssetPrice", market.reserve(a).address)
        if got != p:
            raise ChainError(f"the oracle answers {got} for {a} after the takeover, not {p}")
    return how


# --- liquidation --------------------------------------------------------------------------------

def _balance_keys(node: LocalNode, token: Contract, holder: str) -> list[str]:
    """Storage keys ``balanceOf(holder)`` reads (traced), then Solidity/Vyper mapping guesses."""
    keys: list[str] = []
    try:
        trace = node.request("debug_traceCall", [
            {"to": token.address, "data": "0x" + token.data("balanceOf", holder).hex()}, "latest",
            {"tracer": "prestateTracer"}])
        for addr, state in (trace or {}).items():
            if addr.lower() == token.address.lower():
                keys += list((state.get("storage") or {}).keys())
    except (RpcError, ChainError):
        pass
    for slot in range(20):
        keys.append(_storage_key(holder, slot))
        keys.append("0x" + keccak(abi_encode(["uint256", "address"], [slot, holder])).hex())
    return list(dict.fromkeys(keys))


def fund(node: LocalNode, token: Contract, holder: str, amount: int) -> None:
    """Give ``holder`` at least ``amount`` of ``token`` on the fork by writing its balance slot."""
    if token.call("balanceOf", holder) >= amount:
        return
    word = "0x" + amount.to_bytes(32, "big").hex()
    for key in _balance_keys(node, token, holder):
        old = node.request("eth_getStorageAt", [token.address, key, "latest"])
        node.request("anvil_setStorageAt", [token.address, key, word])
        try:
            if token.call("balanceOf", holder) >= amount:
                return
        except (TransactionFailed, RpcError):
            pass
        node.request("anvil_setStorageAt", [token.address, key, old])
    raise ChainError(f"cannot fund the liquidator with {amount} of {token.address} on the fork "
                     "(its balance storage slot was not found)")


def _liquidation_event(pool: str, receipt: Receipt) -> tuple[int, int]:
    for log in receipt.logs:
        if log["topics"][0] == LIQUIDATION_CALL and log["address"].lower() == pool.lower():
            debt, collateral, _liq, _receive = abi_decode(["uint256", "uint256", "address", "bool"],
                                                          bytes.fromhex(log["data"][2:]))
            return int(debt), int(collateral)
    raise ChainError(f"{receipt.tx_hash}: no LiquidationCall event")


def _topic(address: str) -> str:
    return "0x" + "00" * 12 + address[2:].lower()


def _fee_transfer(receipt: Receipt, a_token: str, borrower: str, treasury: str) -> int:
    """Protocol fee: the collateral aToken's ``Transfer`` from the borrower to the treasury."""
    total = 0
    for log in receipt.logs:
        t = log["topics"]
        if (log["address"].lower() == a_token.lower() and t[0] == TRANSFER and len(t) == 3
                and t[1].lower() == _topic(borrower) and t[2].lower() == _topic(treasury)):
            total += int(log["data"], 16)
    return total


def liquidate_on_fork(market: AaveForkMarket, account: str, collateral: str, debt: str, now: int,
                      liquidator: str = FORK_LIQUIDATOR) -> LiquidationResult:
    """``liquidationCall(collateral, debt, account, max, false)`` on the fork, mined at ``now``."""
    node = market.node
    coll_r, debt_r = market.reserve(collateral), market.reserve(debt)
    before = market.account_health(account)
    owed = Contract(node, debt_r.debt_token, _abi(market.version, "v")).call("balanceOf", account)
    token = market.token(debt)
    node.set_balance(liquidator, _RICH)
    fund(node, token, liquidator, owed)
    if token.call("allowance", liquidator, market.pool.address) < owed:  # USDT: approve only from 0
        token.send(liquidator, "approve", market.pool.address, UINT256_MAX)
        node.mine(now)
    market.pool.send(liquidator, "liquidationCall", coll_r.address, debt_r.address, account, UINT256_MAX, False)
    (receipt,) = node.mine(now, check=False)
    if not receipt.ok:
        return LiquidationResult(reason=aave_reason(node.revert_reason(receipt.tx_hash)), health_before=before)
    repaid, seized = _liquidation_event(market.pool.address, receipt)
    return LiquidationResult(
        debt_repaid=repaid, collateral_seized=seized,
        protocol_fee=_fee_transfer(receipt, coll_r.a_token, account, market.treasury),
        health_before=before, health_after=market.account_health(account),
    )


def liquidate_in_model(pool: AavePool, account: str, collateral: str, debt: str, now: int,
                       liquidator: str = FORK_LIQUIDATOR) -> LiquidationResult:
    """The same liquidation in the model (the liquidator is minted the debt it repays)."""
    before = pool.account_data(now, account).health_factor
    need = pool.debt_of(now, account, debt)
    have = pool.ledger.balance_of(debt, liquidator)
    if need > have:
        pool.ledger.mint(debt, liquidator, need - have)
    out = pool.liquidation_call(now, liquidator, collateral, debt, account, MAX_AMOUNT)
    if not hasattr(out, "debt_repaid"):
        return LiquidationResult(reason=out.reason, health_before=before)
    return LiquidationResult(debt_repaid=out.debt_repaid, collateral_seized=out.collateral_seized,
                             protocol_fee=out.protocol_fee, health_before=out.health_before,
                             health_after=out.health_after)


def liquidation_pair(pool: AavePool, snapshot_account: AccountSnapshot | None, account: str,
                     now: int) -> tuple[str, str] | None:
    """The (collateral, debt) pair with the largest values (the model's view; else the snapshot's)."""
    pair = pool.largest_pair(now, account)
    if pair is not None:
        return pair
    if snapshot_account and snapshot_account.collateral_enabled and snapshot_account.scaled_debt:
        return snapshot_account.collateral_enabled[0], snapshot_account.scaled_debt[0][0]
    return None
