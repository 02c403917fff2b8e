"""Aave V3 on a local chain: deploy a real market, act on it, read it into an ``AaveSnapshot``.

Two variants of real bytecode:

* ``aave-v3.0``: the compiled Hardhat artifacts of ``@aave/core-v3@1.19.3`` (Aave 3.0.x);
  ``Pool`` links seven logic libraries, ``PoolConfigurator`` links ``ConfiguratorLogic``.
* ``aave-v3.6``: ``@aave-dao/aave-v3-origin@3.6.0`` compiled from source by
  ``contracts/build.mjs`` (one rate strategy for all reserves, passed to the pool's
  constructor; rate data per reserve in bps).

Prices come from one :file:`contracts/src/SettableAggregator.sol` per asset behind
``AaveOracle``; tokens are :file:`contracts/src/TestToken.sol` (anyone may mint, so the
backend mints each account what an action needs, as the simulator backend does).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak

from defisim.chain.artifacts import link, load_artifact, node_modules_dir
from defisim.chain.backend import MarketSpec
from defisim.chain.errors import ChainError
from defisim.chain.rpc import Contract, LocalNode, Receipt, address_of
from defisim.engine.protocols.aave_v3.config import BPS_TO_RAY, ReserveConfig
from defisim.engine.protocols.aave_v3.outcomes import (
    AaveSnapshot,
    AccountSnapshot,
    ReserveSnapshot,
)

__all__ = ["AaveChain", "aave_reason", "deploy_contract"]

UINT256_MAX = 2**256 - 1
DEPLOYER = address_of("deployer")
ZERO = "0x" + "00" * 20
LIQUIDATION_CALL = "0x" + keccak(text="LiquidationCall(address,address,address,uint256,uint256,address,bool)").hex()
UMBRELLA_ID = b"UMBRELLA".ljust(32, b"\0")
"""``Pool.UMBRELLA`` id in the PoolAddressesProvider (who may call eliminateReserveDeficit)."""
TRANSFER = "0x" + keccak(text="Transfer(address,address,uint256)").hex()

_LIBS_30 = ("SupplyLogic", "BorrowLogic", "LiquidationLogic", "EModeLogic", "BridgeLogic",
            "PoolLogic", "FlashLoanLogic")


def deploy_contract(node: LocalNode, family: str, name: str, args: tuple[Any, ...] = (),
                    libraries: dict[str, str] | None = None, timestamp: int | None = None) -> Contract:
    """Deploy ``name`` from ``family`` with constructor ``args``; mine; return a handle."""
    art = load_artifact(family, name)
    code = bytes.fromhex(link(art, libraries or {}).removeprefix("0x"))
    ctor = next((i for i in art.abi if i.get("type") == "constructor"), None)
    if ctor:
        from defisim.chain.rpc import _type_of

        code += abi_encode([_type_of(p) for p in ctor["inputs"]], list(args))
    node.send(DEPLOYER, None, code, what=f"deploy {family}:{name}")
    (receipt,) = node.mine(timestamp)
    if not receipt.contract_address:
        raise ChainError(f"deploy {family}:{name}: no contract address")
    return Contract(node, receipt.contract_address, art.abi)


@cache
def _errors_30() -> dict[str, str]:
    """Aave 3.0 error codes ('45') to names, read from the installed ``Errors.sol``."""
    src = Path(node_modules_dir(), "@aave/core-v3/contracts/protocol/libraries/helpers/Errors.sol").read_text()
    return {code: name for name, code in re.findall(r"string public constant (\w+) = '(\d+)'", src)}


def aave_reason(raw: str) -> str:
    """Normalise a revert to the simulator's reason names (SCREAMING_SNAKE_CASE)."""
    if raw.isdigit():
        return _errors_30().get(raw, raw)
    name = raw.split("(", 1)[0]
    if name.startswith("Panic"):
        return {"Panic(0x11)": "ARITHMETIC_UNDERFLOW"}.get(raw, raw)
    if re.fullmatch(r"[A-Z][A-Za-z0-9]*", name):
        snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()
        return _FUND_ERRORS.get(snake, snake)
    return raw


_FUND_ERRORS = {"NO_DEFICIT": "RESERVE_NOT_IN_DEFICIT", "ZERO_AMOUNT": "INVALID_AMOUNT"}
"""InsuranceFund.sol checks these before calling the pool; the pool's names for them."""


@dataclass
class AaveChain:
    """A deployed market and the name ↔ address maps the snapshot needs."""

    node: LocalNode
    spec: MarketSpec
    pool: Contract
    oracle_feeds: dict[str, Contract]
    tokens: dict[str, Contract]
    a_tokens: dict[str, Contract]
    debt_tokens: dict[str, Contract]
    accounts: dict[str, str] = field(default_factory=dict)  # name -> address
    extra: dict[str, Contract] = field(default_factory=dict)  # provider, configurator, acl
    funds: dict[str, Contract] = field(default_factory=dict)  # insurance funds by payer name

    @property
    def version(self) -> str:
        return self.spec.family.removeprefix("aave-v")

    def address(self, name: str) -> str:
        addr = self.accounts.get(name)
        if addr is None:
            addr = self.accounts[name] = address_of(name)
        return addr

    # --- deployment ------------------------------------------------------------------------

    @classmethod
    def deploy(cls, node: LocalNode, spec: MarketSpec, timestamp: int) -> AaveChain:
        if spec.family == "aave-v3.0":
            return _deploy_30(node, spec, timestamp)
        if spec.family == "aave-v3.6":
            from defisim.chain.adapters.aave_v36 import deploy_36

            return deploy_36(node, spec, timestamp)
        raise ChainError(f"not an Aave family: {spec.family}")

    def configure(self, reserves: dict[str, ReserveConfig], ts: int) -> None:
        """Set every reserve's risk parameters and rate curve to ``reserves`` (one block).

        3.6: ``setReserveInterestRateData`` (bps); 3.0: a new ``DefaultReserveInterestRateStrategy``
        per reserve (RAY). Then collateral parameters, reserve factor and liquidation fee.
        """
        configurator = self.extra["configurator"]
        strategies = {}
        if self.version == "3.0":  # deployments mine their own blocks: do them first
            for s, c in reserves.items():
                strategies[s] = deploy_contract(
                    self.node, "aave-v3.0", "DefaultReserveInterestRateStrategy",
                    (self.extra["provider"].address, c.optimal_usage_ratio, c.base_variable_borrow_rate,
                     c.variable_rate_slope1, c.variable_rate_slope2, 0, 0, 0, 0, 0), None, ts)
        for s, c in reserves.items():
            addr = self.tokens[s].address
            if self.version == "3.0":
                configurator.send(DEPLOYER, "setReserveInterestRateStrategyAddress", addr,
                                  strategies[s].address)
            else:
                configurator.send(DEPLOYER, "setReserveInterestRateData", addr, rate_data_36(c))
            queue_risk_parameters(configurator, addr, c)
        self.node.mine(ts)
        self.spec = replace(self.spec, reserves=dict(reserves))

    # --- actions ---------------------------------------------------------------------------

    def fund(self, who: str, asset: str, amount: int) -> None:
        """Mint ``who`` up to ``amount`` of ``asset`` and approve the pool (queued)."""
        addr = self.address(who)
        token = self.tokens[asset]
        have = token.call("balanceOf", addr)
        if amount > have:
            token.send(DEPLOYER, "mint", addr, amount - have)
        token.send(addr, "approve", self.pool.address, UINT256_MAX)

    def cover_deficit(self, payer: str, asset: str, amount: int, ts: int) -> None:
        """``InsuranceFund.cover`` by the fund named ``payer`` (deployed and registered as the
        pool's Umbrella on first use; 3.6 only). The fund is minted the underlying it needs."""
        if self.version == "3.0":
            raise ChainError("Aave 3.0 books no deficit: there is nothing to cover")
        fund = self.funds.get(payer)
        provider = self.extra["provider"]
        if fund is None:
            fund = self.funds[payer] = deploy_contract(self.node, "defisim", "InsuranceFund", (), None, ts)
            self.accounts[payer] = fund.address
        if provider.call("getAddress", UMBRELLA_ID).lower() != fund.address.lower():
            provider.send(DEPLOYER, "setAddress", UMBRELLA_ID, fund.address)
        self.tokens[asset].send(DEPLOYER, "mint", fund.address, amount + 2)
        fund.send(DEPLOYER, "cover", self.pool.address, self.tokens[asset].address, amount)
        self.node.mine(ts)

    def liquidation_event(self, receipt: Receipt) -> tuple[int, int]:
        """(debt repaid, collateral to the liquidator) from the pool's ``LiquidationCall`` log."""
        for log in receipt.logs:
            if log["topics"][0] == LIQUIDATION_CALL and log["address"].lower() == self.pool.address.lower():
                debt, collateral, _liquidator, _receive = abi_decode(
                    ["uint256", "uint256", "address", "bool"], bytes.fromhex(log["data"][2:]))
                return debt, collateral
        raise ChainError(f"{receipt.tx_hash}: no LiquidationCall event")

    def fee_transfer(self, receipt: Receipt, asset: str, borrower: str) -> int:
        """Protocol fee: the collateral aToken's ``Transfer`` from the borrower to the treasury.

        (3.5+ also emits ``Transfer(0, treasury, interest)`` for interest the treasury's own
        aTokens accrued; that is not the fee.)
        """
        a_token = self.a_tokens[asset].address.lower()
        treasury = _topic(self.address(self.spec.treasury))
        source = _topic(self.address(borrower))
        total = 0
        for log in receipt.logs:
            t = log["topics"]
            if (log["address"].lower() == a_token and t[0] == TRANSFER and t[1].lower() == source
                    and t[2].lower() == treasury):
                total += int(log["data"], 16)
        return total

    def account_health(self, who: str) -> int:
        return int(self.pool.call("getUserAccountData", self.address(who))[5])

    # --- reading ---------------------------------------------------------------------------

    def snapshot(self, now: int) -> AaveSnapshot:
        """Read the pool into the simulator's :class:`AaveSnapshot` (stored, not accrued)."""
        order = list(self.spec.tokens)
        reserves = []
        for asset in order:
            addr = self.tokens[asset].address
            data = self.pool.call("getReserveData", addr)
            fields = _reserve_fields(self.version, data)
            a_tok, d_tok = self.a_tokens[asset], self.debt_tokens[asset]
            if self.version == "3.0":
                virtual = self.tokens[asset].call("balanceOf", a_tok.address)
                deficit = 0
            else:
                virtual = self.pool.call("getVirtualUnderlyingBalance", addr)
                deficit = self.pool.call("getReserveDeficit", addr)
            reserves.append(ReserveSnapshot(
                asset=asset,
                liquidity_index=fields["liquidityIndex"],
                variable_borrow_index=fields["variableBorrowIndex"],
                current_liquidity_rate=fields["currentLiquidityRate"],
                current_variable_borrow_rate=fields["currentVariableBorrowRate"],
                scaled_total_supply=a_tok.call("scaledTotalSupply"),
                scaled_total_debt=d_tok.call("scaledTotalSupply"),
                virtual_underlying_balance=virtual,
                accrued_to_treasury=fields["accruedToTreasury"],
                deficit=deficit,
                last_update_timestamp=fields["lastUpdateTimestamp"],
            ))
        accounts = []
        for name in sorted(self.accounts):
            addr = self.accounts[name]
            bitmap = self.pool.call("getUserConfiguration", addr)
            bitmap = bitmap[0] if isinstance(bitmap, tuple) else bitmap
            coll, debt = [], []
            for asset in order:
                s = self.a_tokens[asset].call("scaledBalanceOf", addr)
                if s:
                    coll.append((asset, s))
                d = self.debt_tokens[asset].call("scaledBalanceOf", addr)
                if d:
                    debt.append((asset, d))
            enabled = tuple(a for i, a in enumerate(order) if (bitmap >> (2 * i + 1)) & 1)
            if coll or debt or enabled or bitmap:
                accounts.append(AccountSnapshot(name, tuple(coll), tuple(debt), enabled))
        return AaveSnapshot(self.spec.name, now, tuple(reserves), tuple(accounts))


def _topic(address: str) -> str:
    return "0x" + "00" * 12 + address[2:].lower()


def rate_data_36(c: ReserveConfig) -> bytes:
    """ABI-encoded ``InterestRateData`` (bps) of 3.6's ``DefaultReserveInterestRateStrategyV2``."""
    return abi_encode(["(uint16,uint32,uint32,uint32)"], [(
        c.optimal_usage_ratio // BPS_TO_RAY, c.base_variable_borrow_rate // BPS_TO_RAY,
        c.variable_rate_slope1 // BPS_TO_RAY, c.variable_rate_slope2 // BPS_TO_RAY)])


def _reserve_fields(version: str, data: tuple[Any, ...]) -> dict[str, int]:
    """Named fields of ``getReserveData`` (3.0 and 3.6 lay the struct out differently)."""
    (_config, liquidity_index, liquidity_rate, borrow_index, borrow_rate, *rest) = data
    if version == "3.0":
        _stable_rate, last_update, _id, *_addrs, accrued, _unbacked, _iso = rest
    else:
        # 3.6 ReserveDataLegacy: ..., currentStableBorrowRate (0), lastUpdateTimestamp, id,
        # aToken, stableDebt, variableDebt, irStrategy, accruedToTreasury, unbacked, isoDebt
        _stable_rate, last_update, _id, *_addrs, accrued, _unbacked, _iso = rest
    return {
        "liquidityIndex": liquidity_index, "currentLiquidityRate": liquidity_rate,
        "variableBorrowIndex": borrow_index, "currentVariableBorrowRate": borrow_rate,
        "lastUpdateTimestamp": last_update, "accruedToTreasury": accrued,
    }


class MarketDeployer:
    """Deploys one contract or sends one admin call per mined block, all at timestamp ``ts``."""

    def __init__(self, node: LocalNode, family: str, ts: int) -> None:
        self.node, self.family, self.ts = node, family, ts

    def deploy(self, name: str, *args: Any, libraries: dict[str, str] | None = None,
               family: str | None = None) -> Contract:
        return deploy_contract(self.node, family or self.family, name, args, libraries, self.ts)

    def run(self, contract: Contract, fn: str, *args: Any) -> None:
        contract.send(DEPLOYER, fn, *args)
        self.node.mine(self.ts)

    def provider_and_acl(self) -> tuple[Contract, Contract]:
        """PoolAddressesProvider and ACLManager with the deployer as ACL and pool admin."""
        provider = self.deploy("PoolAddressesProvider", "defisim", DEPLOYER)
        self.run(provider, "setACLAdmin", DEPLOYER)
        acl = self.deploy("ACLManager", provider.address)
        self.run(provider, "setACLManager", acl.address)
        self.run(acl, "addPoolAdmin", DEPLOYER)
        return provider, acl

    def tokens_and_oracle(self, spec: MarketSpec, provider: Contract) -> tuple[dict[str, Contract], dict[str, Contract]]:
        """One TestToken and one SettableAggregator (8 decimals) per token, behind an AaveOracle."""
        tokens = {s: self.deploy("TestToken", s, s, d, family="defisim") for s, d in spec.tokens.items()}
        feeds = {s: self.deploy("SettableAggregator", 8, f"{s} / USD", spec.prices[s], family="defisim")
                 for s in spec.tokens}
        oracle = self.deploy("AaveOracle", provider.address, [tokens[s].address for s in spec.tokens],
                             [feeds[s].address for s in spec.tokens], ZERO, ZERO, 10**8)
        self.run(provider, "setPriceOracle", oracle.address)
        return tokens, feeds

    def finish(self, spec: MarketSpec, contracts: dict[str, Contract], tokens: dict[str, Contract],
               feeds: dict[str, Contract], a_abi: list[dict[str, Any]], v_abi: list[dict[str, Any]]) -> AaveChain:
        """Risk parameters for every reserve (one block), then the :class:`AaveChain` handle."""
        configurator, pool = contracts["configurator"], contracts["pool"]
        for s in spec.tokens:
            configurator.send(DEPLOYER, "setReserveBorrowing", tokens[s].address, True)
            queue_risk_parameters(configurator, tokens[s].address, spec.reserves[s])
        self.node.mine(self.ts)
        a_tokens, d_tokens = {}, {}
        for s in spec.tokens:
            data = pool.call("getReserveData", tokens[s].address)
            a_tokens[s] = Contract(self.node, data[8], a_abi)
            d_tokens[s] = Contract(self.node, data[10], v_abi)
        chain = AaveChain(self.node, spec, pool, feeds, tokens, a_tokens, d_tokens)
        chain.accounts[spec.treasury] = address_of(spec.treasury)
        chain.extra = {k: v for k, v in contracts.items() if k != "pool"}
        return chain


def queue_risk_parameters(configurator: Contract, asset: str, c: ReserveConfig) -> None:
    """Queue collateral parameters, reserve factor and liquidation fee of one reserve."""
    configurator.send(DEPLOYER, "configureReserveAsCollateral", asset, c.ltv, c.liquidation_threshold,
                      c.liquidation_bonus)
    configurator.send(DEPLOYER, "setReserveFactor", asset, c.reserve_factor)
    configurator.send(DEPLOYER, "setLiquidationProtocolFee", asset, c.liquidation_protocol_fee)


def _deploy_30(node: LocalNode, spec: MarketSpec, ts: int) -> AaveChain:
    fam = "aave-v3.0"
    d = MarketDeployer(node, fam, ts)
    provider, acl = d.provider_and_acl()
    libs: dict[str, str] = {}
    for lib in _LIBS_30:  # FlashLoanLogic links BorrowLogic, deployed before it
        libs[lib] = d.deploy(lib, libraries=libs).address
    pool_impl = d.deploy("Pool", provider.address, libraries=libs)
    d.run(provider, "setPoolImpl", pool_impl.address)
    cfg_logic = d.deploy("ConfiguratorLogic")
    cfg_impl = d.deploy("PoolConfigurator", libraries={"ConfiguratorLogic": cfg_logic.address})
    d.run(provider, "setPoolConfiguratorImpl", cfg_impl.address)
    pool = Contract(node, provider.call("getPool"), load_artifact(fam, "Pool").abi)
    configurator = Contract(node, provider.call("getPoolConfigurator"), cfg_impl.abi)
    tokens, feeds = d.tokens_and_oracle(spec, provider)

    a_impl = d.deploy("AToken", pool.address)
    s_impl = d.deploy("StableDebtToken", pool.address)
    v_impl = d.deploy("VariableDebtToken", pool.address)
    treasury = address_of(spec.treasury)
    inputs = []
    for s, dec in spec.tokens.items():
        c = spec.reserves[s]
        strategy = d.deploy("DefaultReserveInterestRateStrategy", provider.address, c.optimal_usage_ratio,
                            c.base_variable_borrow_rate, c.variable_rate_slope1, c.variable_rate_slope2,
                            0, 0, 0, 0, 0)
        inputs.append((a_impl.address, s_impl.address, v_impl.address, dec, strategy.address,
                       tokens[s].address, treasury, ZERO, f"a{s}", f"a{s}",
                       f"vd{s}", f"vd{s}", f"sd{s}", f"sd{s}", b""))
    d.run(configurator, "initReserves", inputs)
    return d.finish(spec, {"pool": pool, "provider": provider, "configurator": configurator, "acl": acl},
                    tokens, feeds, load_artifact(fam, "AToken").abi, load_artifact(fam, "VariableDebtToken").abi)
