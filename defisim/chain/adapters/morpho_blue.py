"""Morpho Blue 1.0 on a local chain: deploy the real contract, act on it, read a ``MorphoSnapshot``.

Deployment (:meth:`MorphoChain.deploy`): ``Morpho`` from ``@morpho-org/morpho-blue@1.0.0``
(compiled by ``contracts/build.mjs``, owner = ``address_of("deployer")``), its ``IrmMock``
(the model's :class:`~defisim.engine.protocols.morpho_blue.LinearUtilizationIrm`) or
``address(0)`` for ``spec.irm == "none"``, one :file:`contracts/src/TestToken.sol` and one
:file:`contracts/src/SettableAggregator.sol` (8 decimals, USD) per token, and per market one
:file:`contracts/src/PairOracle.sol` (collateral feed / loan feed: the formula of
:func:`~defisim.engine.protocols.morpho_blue.chainlink_pair_price`), then ``enableLltv``,
``createMarket``, ``setFeeRecipient(address_of(spec.treasury))`` and ``setFee``.

Actions (:meth:`MorphoChain.apply`), each mined in its own block at ``now`` after the token
mints and approvals it needs (test tokens: anyone may mint, as the simulator backend mints):

================================  ============================================================
``Supply``                        ``supply(marketParams, amount, 0, onBehalf, "")`` (lend)
``SupplyCollateral``              ``supplyCollateral(marketParams, amount, onBehalf, "")``
``Borrow``                        ``borrow(marketParams, amount, 0, onBehalf, receiver)``
``Repay``                         ``repay(marketParams, amount, 0, ...)``; ``2**256 - 1``:
                                  ``repay(marketParams, 0, borrowShares, ...)`` (all)
``Withdraw`` (loan token)         ``withdraw(marketParams, amount, 0, ...)``; ``2**256 - 1``:
                                  all supply shares
``Withdraw`` (collateral token)   ``withdrawCollateral(marketParams, amount, ...)``;
                                  ``2**256 - 1``: all collateral
``Liquidate``                     ``liquidate(marketParams, borrower, seizedAssets,
                                  repaidShares, "")``
================================  ============================================================

A liquidator is first topped up to ``totalBorrowAssets + 1`` loan tokens (accrued to ``now``):
``repaidAssets = repaidShares.toAssetsUp(tBA, tBS)`` with ``repaidShares <= tBS`` never exceeds
that, so the liquidation never fails for want of tokens (the simulator backend uses the same
rule). A liquidation's ``debt_repaid``/``collateral_seized`` come from the contract's
``Liquidate`` event (``repaidAssets``, ``seizedAssets``); ``protocol_fee`` is 0 (Morpho takes
none).

Health factors: the contract has none. ``health_before``/``health_after`` are the WAD number
the model reports (:meth:`MorphoBlue.health_factor`): ``maxBorrow * WAD // borrowed`` with
``maxBorrow = collateral.mulDivDown(price, 1e36).wMulDown(lltv)`` and ``borrowed =
borrowShares.toAssetsUp(tBA, tBS)`` — ``_isHealthy``'s two sides — evaluated on state read
from the chain: ``position(id, borrower)``, ``market(id)``, ``PairOracle.price()``, with the
totals accrued to ``now`` as ``_accrueInterest`` does it (``IrmMock.borrowRateView`` read from
the chain on the stored market, then ``tBA.wMulDown(rate.wTaylorCompounded(elapsed))``, using
the model's ``MathLib`` mirror). After a liquidation the market is already accrued on chain,
so ``health_after`` uses the stored totals only.

Revert reasons are ``ErrorsLib`` strings, identical to the model's; Solidity panics are
normalised by :func:`morpho_reason` to the model's ``panic 0x11: ...`` strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak

from defisim.chain.adapters.aave_v3 import DEPLOYER, deploy_contract
from defisim.chain.backend import (
    Action,
    Borrow,
    Liquidate,
    LiquidationResult,
    MarketSpec,
    MorphoMarketSpec,
    Repay,
    Supply,
    SupplyCollateral,
    Withdraw,
)
from defisim.chain.errors import ChainError, TransactionFailed
from defisim.chain.rpc import Contract, LocalNode, Receipt, address_of
from defisim.engine.protocols.morpho_blue import errors as E
from defisim.engine.protocols.morpho_blue.constants import (
    ORACLE_PRICE_SCALE,
    UINT256_MAX,
    WAD,
    ZERO_ADDRESS,
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
from defisim.engine.protocols.morpho_blue.sharesmath import to_assets_up

__all__ = ["FAMILY", "IRMS", "LIQUIDATE_TOPIC", "MorphoChain", "market_id", "morpho_reason"]

FAMILY = "morpho-blue"
IRMS = ("linear-utilization", "none")
"""``MarketSpec.irm`` values: ``IrmMock`` or ``address(0)`` (no interest)."""
LIQUIDATE_TOPIC = "0x" + keccak(
    text="Liquidate(bytes32,address,address,uint256,uint256,uint256,uint256,uint256)").hex()
"""``EventsLib.Liquidate(id, caller, borrower, repaidAssets, repaidShares, seizedAssets,
badDebtAssets, badDebtShares)`` (first three indexed)."""
FEED_DECIMALS = 8
_PARAMS = ["address", "address", "address", "address", "uint256"]
_PANICS = {"Panic(0x11)": E.PANIC_ARITHMETIC, "Panic(0x12)": E.PANIC_DIVISION}


def morpho_reason(raw: str) -> str:
    """A chain revert in the model's words: ``ErrorsLib`` strings as they are, panics mapped."""
    return _PANICS.get(raw, raw)


def market_id(params: tuple[str, str, str, str, int]) -> bytes:
    """``MarketParamsLib.id``: ``keccak256(abi.encode(loan, collateral, oracle, irm, lltv))``."""
    return keccak(abi_encode(_PARAMS, list(params)))


@dataclass
class _Market:
    spec: MorphoMarketSpec
    params: tuple[str, str, str, str, int]  # (loanToken, collateralToken, oracle, irm, lltv)
    id: bytes
    oracle: Contract


@dataclass
class MorphoChain:
    """A deployed Morpho Blue with its markets, and the name ↔ address maps snapshots need.

    ``accounts``: account name → address of every account that acted (the snapshot reads a
    position for each of them in each market). ``spec.markets`` are the markets tracked.
    """

    node: LocalNode
    spec: MarketSpec
    morpho: Contract
    irm: Contract | None
    tokens: dict[str, Contract]
    oracle_feeds: dict[str, Contract]
    markets: dict[str, _Market] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)

    # --- addresses -----------------------------------------------------------------------------

    def address(self, name: str) -> str:
        """Address of account ``name`` (registered for snapshots on first use)."""
        addr = self.accounts.get(name)
        if addr is None:
            addr = self.accounts[name] = ZERO_ADDRESS if name == ZERO_ADDRESS else address_of(name)
        return addr

    @property
    def irm_address(self) -> str:
        return self.irm.address if self.irm is not None else ZERO_ADDRESS

    # --- deployment ----------------------------------------------------------------------------

    @classmethod
    def deploy(cls, node: LocalNode, spec: MarketSpec, timestamp: int) -> MorphoChain:
        """Deploy Morpho, the IRM, tokens, feeds, and the markets of ``spec`` at ``timestamp``."""
        if spec.family != FAMILY:
            raise ChainError(f"not a Morpho Blue spec: {spec.family}")
        if spec.irm not in IRMS:
            raise ChainError(f"Morpho Blue IRM {spec.irm!r} has no on-chain counterpart; use one of {IRMS}")
        ts = timestamp
        morpho = deploy_contract(node, FAMILY, "Morpho", (DEPLOYER,), None, ts)
        irm = deploy_contract(node, FAMILY, "IrmMock", (), None, ts) if spec.irm == "linear-utilization" else None
        tokens = {s: deploy_contract(node, "defisim", "TestToken", (s, s, d), None, ts)
                  for s, d in spec.tokens.items()}
        feeds = {s: deploy_contract(node, "defisim", "SettableAggregator",
                                    (FEED_DECIMALS, f"{s} / USD", spec.prices[s]), None, ts)
                 for s in spec.tokens}
        chain = cls(node, replace(spec, markets=()), morpho, irm, tokens, feeds)
        morpho.send(DEPLOYER, "enableIrm", chain.irm_address)
        treasury = chain.address(spec.treasury)
        if treasury != ZERO_ADDRESS:
            morpho.send(DEPLOYER, "setFeeRecipient", treasury)
        node.mine(ts)
        chain.configure(spec.markets, ts)
        return chain

    def configure(self, markets: tuple[MorphoMarketSpec, ...], ts: int) -> None:
        """Create ``markets`` (new oracle each, LLTV enabled if needed, fee set) at ``ts``;
        from now on they are the tracked markets (``spec.markets``; earlier ones stay on chain
        but are no longer read). A market is looked up by name and must be one of
        ``spec.markets`` (after ``ChainBackend.restore`` the spec of the checkpoint decides)."""
        for m in markets:
            for token in (m.loan, m.collateral):
                if token not in self.tokens:
                    raise ChainError(f"market {m.name}: token {token} is not deployed")
            oracle = deploy_contract(
                self.node, "defisim", "PairOracle",
                (self.oracle_feeds[m.collateral].address, self.oracle_feeds[m.loan].address,
                 self.spec.tokens[m.collateral], self.spec.tokens[m.loan]), None, ts)
            params = (self.tokens[m.loan].address, self.tokens[m.collateral].address, oracle.address,
                      self.irm_address, m.lltv)
            self.markets[m.name] = _Market(m, params, market_id(params), oracle)
        for lltv in dict.fromkeys(m.lltv for m in markets):
            if not self.morpho.call("isLltvEnabled", lltv):
                self.morpho.send(DEPLOYER, "enableLltv", lltv)
        for m in markets:
            self.morpho.send(DEPLOYER, "createMarket", self.markets[m.name].params)
        for m in markets:
            if m.fee:
                self.morpho.send(DEPLOYER, "setFee", self.markets[m.name].params, m.fee)
        self.node.mine(ts)
        self.spec = replace(self.spec, markets=tuple(markets))

    def _market(self, name: str) -> _Market:
        mk = self.markets.get(name)
        if mk is None or mk.spec not in self.spec.markets:
            raise ChainError(f"no Morpho Blue market {name!r} here (markets: {', '.join(self.markets)})")
        return mk

    # --- actions -------------------------------------------------------------------------------

    def fund(self, who: str, asset: str, amount: int) -> None:
        """Mint ``who`` up to ``amount`` of ``asset`` and approve Morpho (queued, not mined)."""
        addr = self.address(who)
        token = self.tokens[asset]
        have = token.call("balanceOf", addr)
        if amount > have:
            token.send(DEPLOYER, "mint", addr, amount - have)
        token.send(addr, "approve", self.morpho.address, UINT256_MAX)

    def _send(self, now: int, sender: str, fn: str, *args: Any) -> None:
        """Send one Morpho call (after the queued mints) in a block at ``now``; raise on a revert."""
        self.morpho.send(self.address(sender), fn, *args)
        receipts = self.node.mine(now, check=False)
        last = receipts[-1]
        if not last.ok:
            raise TransactionFailed(fn, morpho_reason(self.node.revert_reason(last.tx_hash)))

    def apply(self, action: Action, now: int) -> LiquidationResult | None:
        """Run one action at ``now`` (see the module table); a liquidation returns its result.

        A reverted non-liquidation action raises :class:`TransactionFailed` whose ``reason``
        is the model's (``ErrorsLib`` string or normalised panic).
        """
        match action:
            case Supply(account=acct, amount=x, market=name):
                mk = self._market(name)
                self._check_asset(mk, action.asset, mk.spec.loan)
                self.fund(acct, mk.spec.loan, x)
                self._send(now, acct, "supply", mk.params, x, 0, self.address(acct), b"")
            case SupplyCollateral(account=acct, market=name, amount=x):
                mk = self._market(name)
                self.fund(acct, mk.spec.collateral, x)
                self._send(now, acct, "supplyCollateral", mk.params, x, self.address(acct), b"")
            case Borrow(account=acct, amount=x, market=name):
                mk = self._market(name)
                self._check_asset(mk, action.asset, mk.spec.loan)
                addr = self.address(acct)
                self._send(now, acct, "borrow", mk.params, x, 0, addr, addr)
            case Repay(account=acct, amount=x, market=name):
                mk = self._market(name)
                self._check_asset(mk, action.asset, mk.spec.loan)
                addr = self.address(acct)
                if x == UINT256_MAX:
                    shares = self._position(mk, addr)[1]
                    _tsa, _tss, tba, tbs = self.accrued_totals(name, now)
                    self.fund(acct, mk.spec.loan, to_assets_up(shares, tba, tbs))
                    self._send(now, acct, "repay", mk.params, 0, shares, addr, b"")
                else:
                    self.fund(acct, mk.spec.loan, x)
                    self._send(now, acct, "repay", mk.params, x, 0, addr, b"")
            case Withdraw(account=acct, asset=a, amount=x, market=name):
                mk = self._market(name)
                addr = self.address(acct)
                if a == mk.spec.collateral:
                    if x == UINT256_MAX:
                        x = self._position(mk, addr)[2]
                    self._send(now, acct, "withdrawCollateral", mk.params, x, addr, addr)
                else:
                    self._check_asset(mk, a, mk.spec.loan)
                    if x == UINT256_MAX:
                        self._send(now, acct, "withdraw", mk.params, 0, self._position(mk, addr)[0], addr, addr)
                    else:
                        self._send(now, acct, "withdraw", mk.params, x, 0, addr, addr)
            case Liquidate():
                return self._liquidate(action, now)
            case _:
                raise ChainError(f"Morpho Blue cannot run {action!r}")
        return None

    @staticmethod
    def _check_asset(mk: _Market, asset: str, expected: str) -> None:
        if asset and asset != expected:
            raise ChainError(f"market {mk.spec.name} lends {mk.spec.loan} against {mk.spec.collateral}, "
                             f"not {asset}")

    def _liquidate(self, a: Liquidate, now: int) -> LiquidationResult:
        mk = self._market(a.market)
        borrower = self.address(a.account)
        before = self.health_factor(a.market, a.account, now)
        self.fund(a.liquidator, mk.spec.loan, self.accrued_totals(a.market, now)[2] + 1)
        self.morpho.send(self.address(a.liquidator), "liquidate", mk.params, borrower, a.seized_assets,
                         a.repaid_shares, b"")
        receipt = self.node.mine(now, check=False)[-1]
        if not receipt.ok:
            return LiquidationResult(reason=morpho_reason(self.node.revert_reason(receipt.tx_hash)),
                                     health_before=before)
        repaid, _shares, seized, _bad_assets, _bad_shares = self.liquidate_event(receipt)
        return LiquidationResult(debt_repaid=repaid, collateral_seized=seized, protocol_fee=0,
                                 health_before=before,
                                 health_after=self.health_factor(a.market, a.account, now))

    def liquidate_event(self, receipt: Receipt) -> tuple[int, int, int, int, int]:
        """``(repaidAssets, repaidShares, seizedAssets, badDebtAssets, badDebtShares)`` of the
        receipt's ``Liquidate`` event."""
        for log in receipt.logs:
            if log["topics"][0] == LIQUIDATE_TOPIC and log["address"].lower() == self.morpho.address.lower():
                return tuple(abi_decode(["uint256"] * 5, bytes.fromhex(log["data"][2:])))  # type: ignore[return-value]
        raise ChainError(f"{receipt.tx_hash}: no Liquidate event")

    # --- reading -------------------------------------------------------------------------------

    def _position(self, mk: _Market, addr: str) -> tuple[int, int, int]:
        """``position(id, user)``: ``(supplyShares, borrowShares, collateral)``."""
        return tuple(self.morpho.call("position", mk.id, addr))  # type: ignore[return-value]

    def accrued_totals(self, market: str, now: int) -> tuple[int, int, int, int]:
        """``(tSA, tSS, tBA, tBS)`` of ``market(id)`` with interest accrued to ``now`` as
        ``_accrueInterest`` does (rate from the chain's IRM; fee shares, which only the supply
        shares see, are added as well)."""
        mk = self._market(market)
        stored = self.morpho.call("market", mk.id)
        tsa, tss, tba, tbs, last, fee = stored
        elapsed = now - last
        if elapsed > 0 and self.irm is not None:
            rate = self.irm.call("borrowRateView", mk.params, stored)
            interest = w_mul_down(tba, w_taylor_compounded(rate, elapsed))
            tba += interest
            tsa += interest
            if fee:
                fee_amount = w_mul_down(interest, fee)
                tss += mul_div_down(fee_amount, tss + 10**6, tsa - fee_amount + 1)
        return tsa, tss, tba, tbs

    def health_factor(self, market: str, account: str, now: int) -> int:
        """The model's WAD health factor of ``account`` in ``market`` at ``now`` from chain state
        (see the module docstring); ``2**256 - 1`` without debt."""
        mk = self._market(market)
        _supply, shares, collateral = self._position(mk, self.address(account))
        _tsa, _tss, tba, tbs = self.accrued_totals(market, now)
        borrowed = to_assets_up(shares, tba, tbs)
        if borrowed == 0:
            return UINT256_MAX
        price = mk.oracle.call("price")
        max_borrow = w_mul_down(mul_div_down(collateral, price, ORACLE_PRICE_SCALE), mk.spec.lltv)
        return max_borrow * WAD // borrowed

    def snapshot(self, now: int) -> MorphoSnapshot:
        """Read Morpho into the simulator's :class:`MorphoSnapshot`: ``market(id)`` of every
        tracked market (by name) and every non-zero ``position(id, user)`` of every known
        account, sorted by ``(market, user)``; stored values, not accrued."""
        names = sorted(m.name for m in self.spec.markets)
        users = sorted(self.accounts)
        calls: list[tuple[str, list[Any]]] = []
        for name in names:
            mk = self.markets[name]
            calls.append(("eth_call", [{"to": self.morpho.address,
                                         "data": "0x" + self.morpho.data("market", mk.id).hex()}, "latest"]))
            calls += [("eth_call", [{"to": self.morpho.address,
                                     "data": "0x" + self.morpho.data("position", mk.id, self.accounts[u]).hex()},
                                    "latest"]) for u in users]
        raw = iter(self.node.batch(calls))
        markets, positions = [], []
        for name in names:
            m = abi_decode(["uint128"] * 6, bytes.fromhex(next(raw)[2:]))
            markets.append(MarketSnapshot(name, *m))
            for u in users:
                supply, borrow, collateral = abi_decode(["uint256", "uint128", "uint128"],
                                                        bytes.fromhex(next(raw)[2:]))
                if supply or borrow or collateral:
                    positions.append(PositionSnapshot(name, u, supply, borrow, collateral))
        return MorphoSnapshot(self.spec.name, now, tuple(markets), tuple(positions))
