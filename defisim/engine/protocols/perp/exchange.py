"""A perpetual-futures exchange in exact integer math: margin, funding, liquidation, insurance
fund, auto-deleveraging and socialised loss.

There is no contract package to mirror (dYdX v4 runs as a Cosmos chain, Hyperliquid's L1 is
closed source), so this is a model built from their public documentation. Which rule comes
from where:

=====================================  ==========================================================
rule                                   source
=====================================  ==========================================================
equity = collateral + unrealised PnL   dYdX "Margin", Hyperliquid "Liquidations"
liquidatable when equity < MMR         dYdX v4 "Liquidations on dYdX Chain"; Hyperliquid
MMR = Σ notional x MMF at the mark     dYdX "Portfolio margining" (oracle price as mark)
initial margin checked on open         dYdX IMF (ETH/BTC 5 %, MMF 3 %)
liquidation fee ≤ 1.5 %, all to fund   dYdX v4 ``max_liquidation_fee_ppm`` ("goes 100 % to the
                                       insurance fund"); the fee never exceeds what the account
                                       has left ("attempt to leave funds in accounts of positive
                                       value ... after the Maximum Liquidation Penalty")
20 % steps above 100k, 30 s cooldown   Hyperliquid "Liquidations" → "Partial liquidations"
backstop below 2/3 of MMR              Hyperliquid "Liquidations" (liquidator vault backstop)
insurance fund first, then ADL         dYdX "Contract Loss Mechanisms" ("used before any
                                       deleveraging")
ADL at the bankruptcy price            dYdX "Contract Loss Mechanisms" (B's bankruptcy price)
ADL ranking profit x leverage          Hyperliquid "Auto-deleveraging" ("ranked by unrealized
                                       pnl and leverage used"); dYdX v3 ("combination of high
                                       profit and high leverage")
funding hourly, premium / 8 + interest dYdX v4 funding; Hyperliquid interest 0.01 % / 8 h,
                                       4 %/h cap, payment = size x oracle price x rate
=====================================  ==========================================================

Modelling choices (ours, stated because the sources leave them open or differ):

* **The venue and the vault.** Liquidations close into a Uniswap V2 pool the scenario names
  (the "book"): the exchange's liquidity *vault* (Hyperliquid's HLP; dYdX's market makers
  resting on the book) takes the other side of the perp at the pool's execution price and
  hedges it in the same step by selling (closing a long) or buying (closing a short) the asset
  in the pool, so the price impact is real and arbitrageurs carry it on. The vault is an
  ordinary cross account of the exchange (key :attr:`PerpExchange.vault_key`), funded with
  collateral, holding spot inventory in the ledger at :attr:`PerpExchange.vault_address`; it
  is also the counterparty of the positions seeded at block 0 (so open interest is balanced:
  Σ size = 0 in every market). The vault itself is never liquidated.
* **Which path.** A liquidation first quotes the venue. If closing there leaves the account
  with a shortfall the insurance fund can pay, it closes there and the fund pays it. If the
  fund cannot (or the venue cannot take the trade: pool too shallow, vault out of inventory),
  the account is auto-deleveraged instead, off-book and without price impact: the fund pays
  what it has toward the account's deficit *at the mark*, and the positions are matched
  against opposite positions ranked by ``unrealised PnL x leverage``. Each match trades at
  the mark and moves the counterparty's share of the remaining deficit (pro rata to size) from
  it to the account: together the same as closing at the account's bankruptcy price (dYdX),
  except that no counterparty gives up more than the unrealised profit of the part closed or
  its equity (ADL takes profit, never collateral). If the account is not under water at the
  mark (only the venue's slippage would have made it so) the matches carry no haircut: a
  close at the oracle price, as Hyperliquid's ADL does. Size no profitable counterparty can
  take goes to the vault at the mark; the loss still left is *socialised*: taken from every
  other account with positive equity, pro rata to it (largest remainder, exact). Every unit of
  a deficit lands in exactly one of fund / ADL / socialised (``unbacked`` only if the loss
  exceeds all other equity together).
* **Staged steps** are per position above the threshold, the cooldown per account; during
  the cooldown no further step runs unless equity is below the backstop, which closes
  everything at once. A step whose fill would leave the account under water at the mark is
  not taken either: the account is closed in full, so every shortfall is met (and recorded)
  by the fund, ADL or socialisation when it happens. (Hyperliquid's text says liquidation
  orders during the cooldown are for the whole position; we read the cooldown as a pause
  between 20 % steps.)
* **Funding premium** is the AMM's spot price over the oracle, sampled every ``sample_s``
  and averaged (dYdX uses impact bid/ask prices of its book; we have a pool, not a book).
  Payers pay rounded up, receivers get rounded down; the difference (``dust``) stays with the
  exchange.
* **USDC is worth exactly 1 USD** (both venues treat it so); the mark is the oracle answer.

Conservation (checked by :meth:`PerpExchange.invariant_errors`): the exchange's quote balance
in the ledger equals ``Σ collateral - Σ entry + dust`` over every account, and ``Σ size = 0``
per market. Since ``Σ unrealised PnL = Σ size x P - Σ entry = -Σ entry`` (PnL at one common
price P), this is ``Σ collateral + Σ unrealised PnL + insurance fund + dust = deposits +
initial fund`` at any price; liquidations, ADL, socialisation and funding only move value
between those terms. (Each position's value is rounded down on its own, so ``Σ equity`` is at
most one base unit per open position below that sum.)

Liquidation engine: :meth:`PerpExchange.liquidate` acts on one account per call (one staged
step, or a full close); the ``perp-liquidator`` agent (``defisim.engine.agents.
perp_liquidator``) calls it each block for the accounts :meth:`perp_liquidation_candidates`
screens. Funding runs in the SETTLEMENT phase through :meth:`PerpExchange.on_settlement`.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

import numpy as np

from defisim.engine.ledger import Ledger
from defisim.engine.protocols.perp import errors as E
from defisim.engine.protocols.perp._overlay import Tx, UnitState, apply_trade
from defisim.engine.protocols.perp._screen import AccountScreen
from defisim.engine.protocols.perp.constants import (
    MAX_HEALTH,
    PPM,
    PRICE_SCALE,
    RATE_SCALE,
    WAD,
)
from defisim.engine.protocols.perp.errors import PerpError
from defisim.engine.protocols.perp.mathlib import (
    apportion,
    div_ceil,
    div_floor,
    div_toward_zero,
    margin_requirement_ceil,
    mul_div_ceil,
    mul_div_floor,
    notional_floor,
    ppm_of_ceil,
    sign,
    value_floor,
)
from defisim.engine.protocols.perp.outcomes import (
    AccountSnapshot,
    ClosedPart,
    LiquidationOutcome,
    LiquidationRefusal,
    MarketSnapshot,
    PerpSnapshot,
    PositionSnapshot,
)
from defisim.engine.protocols.perp.records import (
    DeleveragingFill,
    FundingPaid,
    LiquidationFilled,
    PositionsDeleveraged,
)
from defisim.engine.protocols.perp.types import (
    FundingConfig,
    LiquidationConfig,
    MarketParams,
)
from defisim.engine.records import (
    BadDebtRealized,
    BadDebtSocialized,
    InsuranceFundDrawn,
    InsuranceFundFunded,
    Record,
)
from defisim.errors import DefisimError

__all__ = ["ISOLATED_SEPARATOR", "PerpExchange", "account_key"]

ISOLATED_SEPARATOR = "@"
"""An isolated account's key is ``<owner>@<market>`` (scenario names never contain ``@``)."""


def account_key(owner: str, isolated_market: str | None = None) -> str:
    """Key of ``owner``'s cross account (``owner``) or isolated account in a market."""
    return owner if isolated_market is None else f"{owner}{ISOLATED_SEPARATOR}{isolated_market}"


@dataclass(slots=True)
class _Funding:
    """Premium samples of the current funding interval and the next sample / payment times."""

    premium_sum: int
    samples: int
    next_sample: int
    next_funding: int


class PerpExchange:
    """One perpetual exchange with several markets settled in one quote token.

    Args:
        name: protocol name; the exchange's ledger holder (all collateral) is ``name``.
        ledger: the world's token ledger.
        quote: the quote (collateral) token, valued at 1 USD.
        liquidation: fee and staging (:class:`LiquidationConfig`).
        funding: funding schedule and rate model (:class:`FundingConfig`).
        created_at: unix seconds; premium samples and funding payments fall on multiples of
            their intervals after it.
        fund_address / vault_address: ledger holders of the insurance fund and of the vault's
            spot inventory (default ``insurance:<name>`` and ``vault:<name>``).
    """

    def __init__(
        self,
        name: str,
        ledger: Ledger,
        quote: str,
        *,
        liquidation: LiquidationConfig,
        funding: FundingConfig,
        created_at: int,
        fund_address: str | None = None,
        vault_address: str | None = None,
    ) -> None:
        if ISOLATED_SEPARATOR in name:
            raise ValueError(f"name {name!r} must not contain {ISOLATED_SEPARATOR!r}")
        if quote not in ledger.decimals:
            raise ValueError(f"quote token {quote!r} is not in the ledger")
        self.name = name
        self.address = name
        self.ledger = ledger
        self.quote = quote
        self.quote_unit = 10 ** ledger.decimals[quote]
        self.liquidation = liquidation
        self.funding = funding
        self.created_at = created_at
        self.fund_address = fund_address or f"insurance:{name}"
        self.vault_address = vault_address or f"vault:{name}"
        self.vault_key = self.vault_address
        self.dust = 0
        self._markets: dict[str, MarketParams] = {}
        self._asset_market: dict[str, str] = {}
        self._oracles: dict[str, Callable[[], int]] = {}
        self._venues: dict[str, Any] = {}
        self._funding: dict[str, _Funding] = {}
        self._units: dict[str, UnitState] = {self.vault_key: UnitState(self.vault_address, None)}
        self._holders: dict[str, dict[str, None]] = {}
        self._versions: dict[str, int] = {}
        self._screen = AccountScreen()
        self._screen.set_row(self.vault_key, 0, {})

    # --- markets -----------------------------------------------------------------------------

    def add_market(self, params: MarketParams, oracle: Callable[[], int], venue: Any | None = None) -> None:
        """List a market. ``oracle()`` returns the mark price (USD 1e8 per whole asset token);
        ``venue`` is a Uniswap V2 pool of the asset against the quote token (liquidations close
        into it, the funding premium reads it), or ``None`` (no venue: liquidations go to ADL
        and the vault, the premium is 0)."""
        if params.name in self._markets:
            raise PerpError(E.MARKET_LISTED, params.name)
        if params.asset in self._asset_market:
            raise PerpError(E.ASSET_LISTED, f"{params.asset} trades in {self._asset_market[params.asset]}")
        if params.asset not in self.ledger.decimals or self.ledger.decimals[params.asset] != params.asset_decimals:
            raise ValueError(f"{params.name}: asset {params.asset} with {params.asset_decimals} decimals is not a ledger token")
        if ISOLATED_SEPARATOR in params.name:
            raise ValueError(f"market name {params.name!r} must not contain {ISOLATED_SEPARATOR!r}")
        if venue is not None:
            if {venue.token0, venue.token1} != {params.asset, self.quote}:
                raise ValueError(f"{params.name}: venue {venue.name} does not trade {params.asset}/{self.quote}")
            if any(v is venue for v in self._venues.values()):
                raise ValueError(f"{params.name}: venue {venue.name} already serves another market")
        self._markets[params.name] = params
        self._asset_market[params.asset] = params.name
        self._oracles[params.name] = oracle
        self._venues[params.name] = venue
        self._holders[params.name] = {}
        f = self.funding
        self._funding[params.name] = _Funding(0, 0, self.created_at + f.sample_s, self.created_at + f.interval_s)
        self._screen.add_market(params.name, 10**params.asset_decimals, self.quote_unit,
                                params.maintenance_margin_ppm)

    def markets(self) -> list[str]:
        """Market names in listing order."""
        return list(self._markets)

    def market_params(self, market: str) -> MarketParams:
        """Parameters of ``market``."""
        return self._market(market)

    def market_of(self, asset: str) -> str:
        """The market trading ``asset``."""
        return self._asset_market[asset]

    def mark_price(self, market: str) -> int:
        """Mark (oracle) price of ``market``, USD 1e8 per whole asset token."""
        self._market(market)
        return self._oracles[market]()

    def _market(self, market: str) -> MarketParams:
        params = self._markets.get(market)
        if params is None:
            raise PerpError(E.UNKNOWN_MARKET, market)
        return params

    # --- exact valuation ---------------------------------------------------------------------

    def _value(self, market: str, size: int, price: int) -> int:
        return value_floor(size, price, 10 ** self._markets[market].asset_decimals, self.quote_unit)

    def _notional(self, market: str, size: int, price: int) -> int:
        return notional_floor(size, price, 10 ** self._markets[market].asset_decimals, self.quote_unit)

    def _requirement(self, market: str, size: int, price: int, ppm: int) -> int:
        return margin_requirement_ceil(size, price, ppm, 10 ** self._markets[market].asset_decimals,
                                       self.quote_unit)

    def _equity(self, unit: UnitState) -> int:
        total = unit.collateral
        for m, p in unit.positions.items():
            total += self._value(m, p.size, self._oracles[m]()) - p.entry
        return total

    def _mmr(self, unit: UnitState) -> int:
        return sum(self._requirement(m, p.size, self._oracles[m](), self._markets[m].maintenance_margin_ppm)
                   for m, p in unit.positions.items())

    def _imr(self, unit: UnitState) -> int:
        return sum(self._requirement(m, p.size, self._oracles[m](), self._markets[m].initial_margin_ppm)
                   for m, p in unit.positions.items())

    def _total_notional(self, unit: UnitState) -> int:
        return sum(self._notional(m, p.size, self._oracles[m]()) for m, p in unit.positions.items())

    @staticmethod
    def _health(equity: int, requirement: int) -> int:
        if requirement == 0:
            return MAX_HEALTH
        return max(equity, 0) * WAD // requirement

    # --- views -------------------------------------------------------------------------------

    def _unit(self, key: str) -> UnitState:
        unit = self._units.get(key)
        if unit is None:
            raise PerpError(E.UNKNOWN_ACCOUNT, key)
        return unit

    def accounts(self) -> list[str]:
        """Every margin account key, in creation order (the vault first)."""
        return list(self._units)

    def owner_of(self, key: str) -> str:
        """Owner of account ``key``."""
        return self._unit(key).owner

    def collateral(self, key: str) -> int:
        """Collateral of account ``key`` (quote base units; negative after an unpaid loss)."""
        return self._unit(key).collateral

    def position(self, key: str, market: str) -> tuple[int, int]:
        """``(size, entry)`` of ``key``'s position in ``market`` (``(0, 0)`` if none)."""
        p = self._unit(key).positions.get(market)
        return (0, 0) if p is None else (p.size, p.entry)

    def positions(self, key: str) -> dict[str, tuple[int, int]]:
        """``{market: (size, entry)}`` of account ``key``."""
        return {m: (p.size, p.entry) for m, p in self._unit(key).positions.items()}

    def unrealized_pnl(self, key: str, market: str) -> int:
        """Value at the mark minus cost basis of ``key``'s position in ``market`` (quote units)."""
        p = self._unit(key).positions.get(market)
        return 0 if p is None else self._value(market, p.size, self._oracles[market]()) - p.entry

    def equity(self, key: str) -> int:
        """Collateral plus unrealised PnL at the mark prices (quote base units)."""
        return self._equity(self._unit(key))

    def maintenance_requirement(self, key: str) -> int:
        """Σ ``|size| x mark x MMF`` over the account's positions, rounded up (quote units)."""
        return self._mmr(self._unit(key))

    def initial_requirement(self, key: str) -> int:
        """Σ ``|size| x mark x IMF`` over the account's positions, rounded up (quote units)."""
        return self._imr(self._unit(key))

    def notional(self, key: str) -> int:
        """Σ ``|size| x mark`` over the account's positions (quote units, rounded down)."""
        return self._total_notional(self._unit(key))

    def health(self, key: str) -> int:
        """``max(equity, 0) / maintenance requirement`` (WAD, rounded down; below 1e18 exactly
        when the account is liquidatable; ``2**256 - 1`` without positions)."""
        unit = self._unit(key)
        return self._health(self._equity(unit), self._mmr(unit))

    def is_liquidatable(self, key: str) -> bool:
        """Equity below the maintenance requirement (cooldowns aside; see :meth:`can_liquidate`)."""
        unit = self._unit(key)
        return bool(unit.positions) and self._equity(unit) < self._mmr(unit)

    def can_liquidate(self, now: int, key: str) -> str | None:
        """``None`` if :meth:`liquidate` would act on ``key`` now, else the refusal reason
        (without quoting the venue: cheap enough for screening)."""
        try:
            self._check_liquidatable(Tx(self), now, key)
        except PerpError as exc:
            return exc.reason
        return None

    def fund_balance(self) -> int:
        """Insurance fund balance (quote base units)."""
        return self.ledger.balance_of(self.quote, self.fund_address)

    def open_interest(self, market: str) -> tuple[int, int]:
        """``(long, short)`` open interest of ``market`` in asset base units (equal, since every
        position has a counterparty)."""
        self._market(market)
        long = short = 0
        for key in self._holders[market]:
            size = self._units[key].positions[market].size
            if size > 0:
                long += size
            else:
                short -= size
        return long, short

    def account_version(self, key: str) -> int:
        """Changes whenever account ``key`` changes (callers' caches)."""
        return self._versions.get(key, 0)

    def value_usd(self, asset: str, amount: int) -> int:
        """USD (1e8) value of ``amount`` base units of the quote token (1 USD) or of an asset at
        its market's mark."""
        if asset == self.quote:
            return amount * PRICE_SCALE // self.quote_unit
        market = self._asset_market[asset]
        return amount * self._oracles[market]() // 10 ** self._markets[market].asset_decimals

    def _quote_usd(self, amount: int) -> int:
        return amount * PRICE_SCALE // self.quote_unit

    # --- deposits and opening positions --------------------------------------------------------

    def deposit(self, owner: str, amount: int, isolated_market: str | None = None) -> str:
        """Move ``amount`` quote base units from ``owner`` (ledger holder) into its cross
        account or its isolated account in ``isolated_market`` (created if new). Returns the
        account key."""
        if type(amount) is not int or amount < 0:
            raise ValueError(f"amount must be a non-negative int, got {amount!r}")
        if isolated_market is not None:
            self._market(isolated_market)
        key = account_key(owner, isolated_market)
        have = self.ledger.balance_of(self.quote, owner)
        if have < amount:
            raise PerpError(E.INSUFFICIENT_BALANCE, f"{owner} holds {have} {self.quote}, deposits {amount}")
        if key not in self._units:
            self._units[key] = UnitState(owner, isolated_market)
        self.ledger.transfer(self.quote, owner, self.address, amount)
        tx = Tx(self)
        tx.unit(key).collateral += amount
        tx.commit(0, 0)
        return key

    def open_position(self, owner: str, market: str, size: int, isolated: bool = False) -> int:
        """Open (or add to / reduce) ``owner``'s position in ``market`` by ``size`` (signed asset
        base units) against the vault at the mark: notional ``|size| x mark`` rounded down.

        The owner's account (cross, or isolated in ``market``) must meet the initial margin
        afterwards (equity >= Σ |size| x mark x IMF); otherwise nothing changes and
        :class:`PerpError` ``insufficient initial margin`` is raised. This is how scenarios seed
        positions at block 0 (the vault's own margin is checked with :meth:`initial_requirement`
        by the caller once everything is open). Returns the notional.
        """
        self._market(market)
        key = account_key(owner, market if isolated else None)
        if key == self.vault_key or owner == self.vault_address:
            raise ValueError("the vault is the counterparty, not a trader")
        if size == 0:
            raise PerpError(E.ZERO_SIZE, f"{owner} in {market}")
        if key not in self._units:
            raise PerpError(E.UNKNOWN_ACCOUNT, f"{key}: deposit collateral first")
        notional = self._notional(market, size, self._oracles[market]())
        tx = Tx(self)
        unit = tx.unit(key)
        apply_trade(unit, market, size, notional)
        apply_trade(tx.unit(self.vault_key), market, -size, notional)
        equity, required = self._equity(unit), self._imr(unit)
        if equity < required:
            raise PerpError(E.INSUFFICIENT_MARGIN, f"{key}: equity {equity} < initial requirement {required}")
        tx.commit(0, 0)
        return notional

    # --- writing back --------------------------------------------------------------------------

    def _write(self, units: dict[str, UnitState]) -> None:
        """Store ``units`` (from a committed Tx or funding), refresh indexes and screen rows."""
        for key, unit in units.items():
            old = self._units.get(key)
            self._units[key] = unit
            before = set(old.positions) if old is not None else set()
            after = set(unit.positions)
            for m in before - after:
                self._holders[m].pop(key, None)
            for m in after - before:
                self._holders[m][key] = None
            self._versions[key] = self._versions.get(key, 0) + 1
            self._screen.set_row(key, unit.collateral, {m: (p.size, p.entry) for m, p in unit.positions.items()})

    # --- liquidation ---------------------------------------------------------------------------

    def _check_liquidatable(self, tx: Tx, now: int, key: str) -> tuple[int, int, bool]:
        """(equity, requirement, backstop) if ``key`` may be liquidated now, else PerpError."""
        if key not in self._units:
            raise PerpError(E.UNKNOWN_ACCOUNT, key)
        if key == self.vault_key:
            raise PerpError(E.VAULT_NOT_LIQUIDATED)
        unit = tx.unit_ro(key)
        if not unit.positions:
            raise PerpError(E.NO_POSITIONS, key)
        equity, mmr = self._equity(unit), self._mmr(unit)
        if equity >= mmr:
            raise PerpError(E.ACCOUNT_HEALTHY, f"{key}: equity {equity} >= maintenance requirement {mmr}")
        staged = self.liquidation.staged
        backstop = staged is None or equity * PPM < mmr * staged.backstop_ppm
        if not backstop and now < unit.cooldown_until:
            raise PerpError(E.COOLDOWN, f"{key}: next step at {unit.cooldown_until}")
        return equity, mmr, backstop

    def liquidation_candidates(self, now: int) -> list[str]:
        """Nothing for generic lending liquidators: the exchange's own engine liquidates
        (through the ``perp-liquidator`` agent), see :meth:`perp_liquidation_candidates`."""
        return []

    def largest_pair(self, now: int, account: str) -> None:
        """Generic lending liquidators find nothing to repay here (see above)."""
        return

    def perp_liquidation_candidates(self, now: int) -> list[str]:
        """Account keys that *may* be liquidatable at the current marks, largest notional first.

        Cheap: the float screen (``_screen.AccountScreen``) is re-evaluated only when a mark or
        an account changed; no liquidatable account is missed. Confirm with
        :meth:`can_liquidate`.
        """
        return self._screen.candidates(self._prices(), exclude=self.vault_key)

    def health_factors_estimate(self, now: int) -> np.ndarray:
        """Float health (equity / maintenance requirement) of accounts with positions, the vault
        excepted (plots only)."""
        return self._screen.estimates(self._prices(), exclude=self.vault_key)

    def _prices(self) -> list[int]:
        return [self._oracles[m]() for m in self._screen.markets]

    def quote_liquidation(self, now: int, key: str) -> LiquidationOutcome | LiquidationRefusal:
        """What :meth:`liquidate` would do now, without doing it (records carry block 0 and no
        swap records)."""
        try:
            return self._liquidate(Tx(self), 0, now, key)
        except PerpError as exc:
            return LiquidationRefusal(exc.reason, exc.detail)

    def liquidate(self, block: int, now: int, liquidator: str, key: str) -> LiquidationOutcome | LiquidationRefusal:
        """Liquidate account ``key`` once (one step if staged), as the exchange's liquidation
        engine does; ``liquidator`` only names who triggered it.

        Returns the outcome, whose ``records`` start with the vault's swaps, or a refusal
        (nothing changed) when the account is healthy, in cooldown, unknown, empty or the vault.
        """
        tx = Tx(self)
        try:
            outcome = self._liquidate(tx, block, now, key)
        except PerpError as exc:
            return LiquidationRefusal(exc.reason, exc.detail)
        swaps = tx.commit(block, now)
        return _with_records(outcome, (*swaps, *outcome.records))

    def _liquidate(self, tx: Tx, block: int, now: int, key: str) -> LiquidationOutcome:
        equity, mmr, backstop = self._check_liquidatable(tx, now, key)
        unit = tx.unit_ro(key)
        staged_cfg = self.liquidation.staged
        parts: dict[str, int] = {}
        staged = False
        for m in sorted(unit.positions):
            held = abs(unit.positions[m].size)
            q = held
            if (staged_cfg is not None and not backstop
                    and self._notional(m, held, self._oracles[m]()) > staged_cfg.threshold):
                step = held * staged_cfg.step_ppm // PPM
                if 0 < step < held:
                    q, staged = step, True
            parts[m] = q
        fills = self._venue_fills(tx, unit, parts)
        if staged and fills is not None and self._equity_after(unit, parts, fills) < 0:
            # a step that would leave the account under water is not taken: close it all, so
            # the shortfall goes to the fund / ADL / socialisation now, recorded
            parts = {m: abs(p.size) for m, p in unit.positions.items()}
            staged = False
            fills = self._venue_fills(tx, unit, parts)
        use_venue = fills is not None
        if use_venue and not staged:
            shortfall = max(0, -self._equity_after(unit, parts, fills))
            use_venue = shortfall <= tx.fund_balance()
        collateral_before = unit.collateral
        if use_venue:
            return self._close_at_venue(tx, block, now, key, parts, fills, staged, equity, mmr, collateral_before)
        return self._deleverage(tx, block, key, equity, mmr, collateral_before)

    def _equity_after(self, unit: UnitState, parts: dict[str, int], fills: dict[str, int]) -> int:
        """Equity at the marks after closing ``parts`` at the venue ``fills`` (before the fee)."""
        trial = unit.copy()
        for m, q in parts.items():
            apply_trade(trial, m, -sign(trial.positions[m].size) * q, fills[m])
        return self._equity(trial)

    def _venue_fills(self, tx: Tx, unit: UnitState, parts: dict[str, int]) -> dict[str, int] | None:
        """Quote units the venue trade of each part would move (``None``: some part cannot be
        closed there: no venue, pool too shallow, zero output, vault short of inventory)."""
        fills: dict[str, int] = {}
        spend: dict[str, int] = {}
        for m, q in parts.items():
            pool = self._venues.get(m)
            if pool is None:
                return None
            asset = self._markets[m].asset
            try:
                if unit.positions[m].size > 0:  # closing a long: the vault sells q asset
                    token_in, amount_in = asset, q
                    fill = pool.get_amount_out(q, asset)
                else:  # closing a short: the vault buys q asset for the quote it costs
                    fill = pool.get_amount_in(q, asset)
                    token_in, amount_in = self.quote, fill
            except DefisimError:
                return None
            spend[token_in] = spend.get(token_in, 0) + amount_in
            if fill <= 0 or spend[token_in] > self.ledger.balance_of(token_in, self.vault_address):
                return None
            fills[m] = fill
        return fills

    def _close_at_venue(
        self, tx: Tx, block: int, now: int, key: str, parts: dict[str, int], fills: dict[str, int],
        staged: bool, equity_before: int, mmr_before: int, collateral_before: int,
    ) -> LiquidationOutcome:
        u, vault = tx.unit(key), tx.unit(self.vault_key)
        records: list[Record] = []
        closed: list[ClosedPart] = []
        cooldown = now + self.liquidation.staged.cooldown_s if staged and self.liquidation.staged else 0
        for m, q in parts.items():
            d = sign(u.positions[m].size) * q
            fill = fills[m]
            apply_trade(u, m, -d, fill)
            apply_trade(vault, m, d, fill)
            asset = self._markets[m].asset
            if d > 0:
                tx.swap(self._venues[m], asset, q)
            else:
                tx.swap(self._venues[m], self.quote, fill)
            price = self._oracles[m]()
            closed.append(ClosedPart(m, d, fill, price, "venue"))
            records.append(LiquidationFilled(block, self.name, key, m, d, fill,
                                             self._fill_price(m, q, fill), price, "venue", staged, cooldown))
        drawn = 0
        if not staged and u.collateral < 0:
            drawn = -u.collateral
            u.collateral = 0
            tx.fund_delta -= drawn
            usd = self._quote_usd(drawn)
            records.append(BadDebtRealized(block, self.name, key, self.quote, drawn, usd))
            records.append(InsuranceFundDrawn(block, self.name, self.quote, drawn, usd, tx.fund_balance()))
        if staged:
            u.cooldown_until = cooldown
        return self._finish(tx, block, key, "venue", staged, closed, records, equity_before, mmr_before,
                            collateral_before, drawn=drawn, haircut=0, socialized=0, unbacked=0, cooldown=cooldown)

    def _fill_price(self, market: str, q: int, notional: int) -> int:
        """Average price (USD 1e8 per whole token, rounded down) of ``q`` for ``notional``."""
        return notional * 10 ** self._markets[market].asset_decimals * PRICE_SCALE // (q * self.quote_unit)

    def _chunk_notional(self, market: str, d: int, before: int, after: int, price: int) -> int:
        """Notional of closing the part ``(before, after]`` of ``|d|`` at ``price``, cumulative so
        the parts sum to the whole position's value at the mark exactly: a long's close rounds
        the cumulative value down, a short's up (as :func:`value_floor` values them)."""
        unit = 10 ** self._markets[market].asset_decimals

        def cum(x: int) -> int:
            raw = x * price * self.quote_unit
            den = unit * PRICE_SCALE
            return div_floor(raw, den) if d > 0 else div_ceil(raw, den)

        return cum(after) - cum(before)

    def _deleverage(self, tx: Tx, block: int, key: str, equity_before: int, mmr_before: int,
                    collateral_before: int) -> LiquidationOutcome:
        """Close every position of ``key`` off-book: fund, then ADL at the bankruptcy price, then
        the vault at the mark; socialise what is left (see the module docstring)."""
        u = tx.unit(key)
        records: list[Record] = []
        closed: list[ClosedPart] = []
        deficit = max(0, -equity_before)
        drawn = min(tx.fund_balance(), deficit)
        if drawn:
            u.collateral += drawn
            tx.fund_delta -= drawn
        to_cover = deficit - drawn
        markets = sorted(u.positions)
        prices = {m: self._oracles[m]() for m in markets}
        weights = [self._notional(m, u.positions[m].size, prices[m]) for m in markets]
        if to_cover and sum(weights) == 0:
            weights = [1] * len(markets)
        shares = apportion(to_cover, weights)
        adl_records: list[Record] = []
        haircut_total = 0
        for m, share in zip(markets, shares, strict=True):
            price = prices[m]
            size = u.positions[m].size
            d, total = sign(size), abs(size)
            matched = collected = 0
            counterparties = 0
            for rank, (score, ck) in enumerate(self._adl_ranking(tx, m, -d, key)):
                if matched == total:
                    break
                cu = tx.unit(ck)
                cp = cu.positions[m]
                upnl = self._value(m, cp.size, price) - cp.entry
                q = min(total - matched, abs(cp.size))
                want = mul_div_ceil(share, matched + q, total) - mul_div_ceil(share, matched, total)
                profit = mul_div_floor(upnl, q, abs(cp.size))
                notional = self._chunk_notional(m, d, matched, matched + q, price)
                apply_trade(u, m, -d * q, notional)
                apply_trade(cu, m, d * q, notional)
                # never more than the profit of the part closed, nor the equity it has left
                cut = min(want, profit, max(0, self._equity(cu)))
                cu.collateral -= cut
                u.collateral += cut
                adl_records.append(DeleveragingFill(block, self.name, m, ck, key, -d * q, notional, cut, rank,
                                                    score.numerator // score.denominator))
                closed.append(ClosedPart(m, d * q, notional, price, "adl"))
                matched += q
                collected += cut
                counterparties += 1
            unmatched = total - matched
            if unmatched:
                notional = self._chunk_notional(m, d, matched, total, price)
                apply_trade(u, m, -d * unmatched, notional)
                apply_trade(tx.unit(self.vault_key), m, d * unmatched, notional)
                closed.append(ClosedPart(m, d * unmatched, notional, price, "vault"))
            adl_records.append(PositionsDeleveraged(block, self.name, m, key, size, price, counterparties,
                                                    collected, d * unmatched))
            haircut_total += collected
        for part in closed:
            records.append(LiquidationFilled(block, self.name, key, part.market, part.size, part.notional,
                                             self._fill_price(part.market, abs(part.size), part.notional)
                                             if part.notional else 0,
                                             part.oracle_price, part.route, False, 0))
        socialized = unbacked = 0
        if u.collateral < 0:
            socialized, unbacked = self._socialize(tx, key, -u.collateral)
            u.collateral += socialized
        bad_debt = drawn + haircut_total + socialized + unbacked
        if bad_debt:
            records.append(BadDebtRealized(block, self.name, key, self.quote, bad_debt, self._quote_usd(bad_debt)))
        if drawn:
            records.append(InsuranceFundDrawn(block, self.name, self.quote, drawn, self._quote_usd(drawn),
                                              tx.fund_balance()))
        records.extend(adl_records)
        if socialized:
            records.append(BadDebtSocialized(block, self.name, self.quote, socialized, self._quote_usd(socialized)))
        return self._finish(tx, block, key, "adl", False, closed, records, equity_before, mmr_before,
                            collateral_before, drawn=drawn, haircut=haircut_total, socialized=socialized,
                            unbacked=unbacked, cooldown=0)

    def _adl_ranking(self, tx: Tx, market: str, side: int, exclude: str) -> Iterator[tuple[Fraction, str]]:
        """Opposite-side accounts to deleverage in ``market``, best first: positions on ``side``
        with positive unrealised PnL in accounts with positive equity, ranked by
        ``unrealised PnL x (account notional / account equity)`` (profit times leverage used),
        ties by key. Exact rationals, no floats.

        Lazy: a heap keyed by the score scaled by 2**128 (an int), so only the counterparties
        ADL actually uses are ordered; scores whose scaled keys tie are ordered exactly as
        rationals before they are yielded, so the order is the exact one.
        """
        price = self._oracles[market]()
        keys = dict(self._holders[market])
        keys.update((k, None) for k, u in tx.units.items() if market in u.positions)
        heap: list[tuple[int, str, int, int]] = []
        for k in keys:
            if k == exclude:
                continue
            unit = tx.unit_ro(k)
            p = unit.positions.get(market)
            if p is None or sign(p.size) != side:
                continue
            upnl = self._value(market, p.size, price) - p.entry
            if upnl <= 0:
                continue
            equity = self._equity(unit)
            if equity <= 0:
                continue
            num = upnl * self._total_notional(unit)
            heap.append((-((num << 128) // equity), k, num, equity))
        heapq.heapify(heap)
        while heap:
            first = heapq.heappop(heap)
            tied = [first]
            while heap and heap[0][0] == first[0]:
                tied.append(heapq.heappop(heap))
            if len(tied) > 1:
                tied.sort(key=lambda t: (-Fraction(t[2], t[3]), t[1]))
            for _, k, num, equity in tied:
                yield Fraction(num, equity), k

    def _socialize(self, tx: Tx, key: str, loss: int) -> tuple[int, int]:
        """Take ``loss`` from every other account with positive equity, pro rata to its equity
        (largest remainder, ties to the earlier account), out of its collateral; returns
        ``(socialised, unbacked)``. No share exceeds the account's equity, so socialisation
        never puts another account under water; only a loss larger than all other equity
        together is left ``unbacked``."""
        holders = [(k, self._equity(tx.unit_ro(k))) for k in self._units if k != key]
        holders = [(k, e) for k, e in holders if e > 0]
        amount = min(loss, sum(e for _, e in holders))
        if amount:
            for (k, _), cut in zip(holders, apportion(amount, [e for _, e in holders]), strict=True):
                if cut:
                    tx.unit(k).collateral -= cut
        return amount, loss - amount

    def _finish(
        self, tx: Tx, block: int, key: str, path: str, staged: bool, closed: list[ClosedPart],
        records: list[Record], equity_before: int, mmr_before: int, collateral_before: int, *,
        drawn: int, haircut: int, socialized: int, unbacked: int, cooldown: int,
    ) -> LiquidationOutcome:
        """Charge the liquidation fee and assemble the outcome."""
        u = tx.unit(key)
        closed_notional = sum(p.notional for p in closed)
        equity_after = self._equity(u)
        fee = min(ppm_of_ceil(closed_notional, self.liquidation.fee_ppm), max(0, equity_after))
        if fee:
            u.collateral -= fee
            tx.fund_delta += fee
            records.append(InsuranceFundFunded(block, self.name, self.quote, fee, "liquidation fee",
                                               tx.fund_balance()))
        credits = drawn + haircut + socialized
        seized = min(max(collateral_before, 0), max(0, collateral_before - (u.collateral - credits)))
        return LiquidationOutcome(
            account=key, owner=u.owner, path=path, staged=staged, full=not u.positions,
            closed=tuple(closed), debt_repaid=closed_notional, collateral_seized=seized, protocol_fee=fee,
            health_before=self._health(equity_before, mmr_before),
            health_after=self._health(self._equity(u), self._mmr(u)),
            equity_before=equity_before, maintenance_before=mmr_before,
            bad_debt=drawn + haircut + socialized + unbacked, fund_drawn=drawn, adl_haircut=haircut,
            socialized=socialized, unbacked=unbacked, cooldown_until=cooldown, records=tuple(records),
        )

    # --- funding -------------------------------------------------------------------------------

    def on_settlement(self, block: int, now: int) -> list[Record]:
        """Every block (SETTLEMENT phase): take due premium samples, pay due funding."""
        out: list[Record] = []
        for m, st in self._funding.items():
            if now >= st.next_sample:
                self._sample_premium(m, now)
            if now >= st.next_funding:
                out.append(self._pay_funding(block, m, now))
        return out

    def premium(self, market: str) -> int:
        """Premium of the venue's spot price over the mark now, ppb (rounded toward zero);
        0 without a venue."""
        pool = self._venues.get(market)
        if pool is None:
            return 0
        oracle = self._oracles[market]()
        venue = pool.spot_price_e8(self._markets[market].asset, PRICE_SCALE)
        return div_toward_zero((venue - oracle) * RATE_SCALE, oracle)

    def _next(self, now: int, every: int) -> int:
        return self.created_at + ((now - self.created_at) // every + 1) * every

    def _sample_premium(self, market: str, now: int) -> None:
        st = self._funding[market]
        st.premium_sum += self.premium(market)
        st.samples += 1
        st.next_sample = self._next(now, self.funding.sample_s)

    def funding_rate(self, market: str) -> int:
        """The rate the next payment would use, ppb per interval: the average premium of the
        interval's samples (toward zero) divided by ``premium_divisor`` (toward zero), plus
        ``interest_per_interval``, clamped to ``±max_rate``."""
        st = self._funding[market]
        f = self.funding
        average = div_toward_zero(st.premium_sum, st.samples) if st.samples else 0
        rate = div_toward_zero(average, f.premium_divisor) + f.interest_per_interval
        return max(-f.max_rate, min(f.max_rate, rate))

    def _pay_funding(self, block: int, market: str, now: int) -> FundingPaid:
        """Pay ``rate x |size| x oracle price`` from payers (rounded up) to receivers (rounded
        down) of ``market``; the difference stays with the exchange as dust."""
        st = self._funding[market]
        rate = self.funding_rate(market)
        average = div_toward_zero(st.premium_sum, st.samples) if st.samples else 0
        samples = st.samples
        price = self._oracles[market]()
        den = 10 ** self._markets[market].asset_decimals * PRICE_SCALE * RATE_SCALE
        paid = received = count = 0
        changed: dict[str, UnitState] = {}
        if rate:
            for key in self._holders[market]:
                unit = self._units[key]
                size = unit.positions[market].size
                base = abs(size) * price * self.quote_unit * abs(rate)
                new = unit.copy()
                if sign(size) == sign(rate):
                    amount = div_ceil(base, den)
                    new.collateral -= amount
                    paid += amount
                else:
                    amount = div_floor(base, den)
                    new.collateral += amount
                    received += amount
                if amount:
                    changed[key] = new
                    count += 1
        self.dust += paid - received
        if changed:
            self._write(changed)
        st.premium_sum = st.samples = 0
        st.next_funding = self._next(now, self.funding.interval_s)
        return FundingPaid(block, self.name, market, rate, average, samples, price, paid, received,
                           paid - received, count)

    # --- snapshots and invariants ------------------------------------------------------------------

    def snapshot(self, now: int) -> PerpSnapshot:
        """Frozen state at ``now`` (accounts and positions sorted by key, markets by name)."""
        markets = []
        for m in sorted(self._markets):
            long, short = self.open_interest(m)
            st = self._funding[m]
            markets.append(MarketSnapshot(m, long, short, st.premium_sum, st.samples, st.next_sample,
                                          st.next_funding))
        accounts = tuple(
            AccountSnapshot(k, u.owner, u.isolated_market or "", u.collateral, u.cooldown_until)
            for k, u in sorted(self._units.items())
        )
        positions = tuple(
            PositionSnapshot(k, m, p.size, p.entry)
            for k, u in sorted(self._units.items()) for m, p in sorted(u.positions.items())
        )
        return PerpSnapshot(self.name, now, self.fund_balance(), self.dust, tuple(markets), accounts, positions)

    def invariant_errors(self) -> list[str]:
        """Every broken accounting rule (empty when consistent).

        * the exchange's quote balance in the ledger equals ``Σ collateral - Σ entry + dust``
          (conservation: collateral + unrealised PnL + dust is what was deposited);
        * ``Σ size = 0`` in every market (every position has a counterparty);
        * no empty position is stored; an isolated account holds only its market;
        * the market holder index matches the accounts; dust is not negative.
        """
        errors: list[str] = []
        books = self.dust
        sizes = {m: 0 for m in self._markets}
        holders: dict[str, set[str]] = {m: set() for m in self._markets}
        for key, unit in self._units.items():
            books += unit.collateral
            for m, p in unit.positions.items():
                books -= p.entry
                sizes[m] += p.size
                holders[m].add(key)
                if p.size == 0:
                    errors.append(f"{key}: empty position stored in {m}")
                if unit.isolated_market is not None and m != unit.isolated_market:
                    errors.append(f"{key}: isolated in {unit.isolated_market} but holds {m}")
        cash = self.ledger.balance_of(self.quote, self.address)
        if cash != books:
            errors.append(f"{self.quote}: {self.name} holds {cash}, books say {books} "
                          "(Σ collateral - Σ entry + dust)")
        for m, total in sizes.items():
            if total != 0:
                errors.append(f"{m}: open interest unbalanced, Σ size = {total}")
            if holders[m] != set(self._holders[m]):
                errors.append(f"{m}: holder index out of date")
        if self.dust < 0:
            errors.append(f"negative funding dust {self.dust}")
        return errors


def _with_records(outcome: LiquidationOutcome, records: tuple[Record, ...]) -> LiquidationOutcome:
    return replace(outcome, records=records)
