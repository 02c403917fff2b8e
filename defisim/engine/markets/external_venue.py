"""A deep off-chain market (a CEX aggregate) for one asset against USD, with price impact.

Fast layer: the price model is float64; only the token amounts that move through the ledger
are ints (base units), rounded in the venue's favour (proceeds down, costs up).

Model
-----
``price(block) = reference(block) * exp(m(block))`` where ``reference`` is the exogenous price
path (float USD per whole token) and ``m`` is the log *impact* left by simulated trades.

* A trade of USD notional ``q`` (tokens x the venue price just before the trade) moves ``m`` by
  ``-f(q)`` for a sell and ``+f(q)`` for a buy, permanently (until it decays), with
  ``f(q) = q / D`` (``curve="linear"``) or ``f(q) = k * sqrt(q / D)`` (``curve="sqrt"``),
  ``D`` the current depth in USD and ``k = impact_k``. With ``k = 1`` both curves move the log
  price by 1 (≈ -63 %) when ``q = D``.
* Execution walks the curve: the marginal price after selling ``s`` tokens is
  ``p0 * exp(-f(s * p0))``, so the proceeds of a sell are ``∫ p ds`` in closed form:
  linear ``D (1 - e^{-u})`` with ``u = q / D``; sqrt ``2 D (1 - e^{-kU} (1 + kU)) / k²`` with
  ``U = sqrt(q / D)``. Buys mirror it: linear ``D (e^{u} - 1)``; sqrt
  ``2 D (e^{kU} (kU - 1) + 1) / k²``.
* Resilience: ``m`` decays toward 0 with a half-life of ``half_life_blocks``:
  ``m(b) = m(b0) * 2 ** (-(b - b0) / half_life_blocks)`` (``math.inf`` = never decays).
* Stress: ``D_t = depth_usd * max(min_depth_fraction, 1 - stress_depth_cut * drawdown_t)``
  with ``drawdown_t = 1 - reference(t) / max_{b0 <= s <= t} reference(s)``; the running max is
  taken over *every* block from the first block the venue saw, so it does not depend on how
  often the venue is called.

Conservation: the venue is the ledger holder ``"venue:<name>"`` and must be seeded with
inventory of both the asset and the quote token (a $1 stablecoin); a trade it cannot fill from
inventory raises :class:`VenueError` before anything moves.

Time only moves forward: calling with a block earlier than the last one seen raises.
"""

from __future__ import annotations

LAYER = "fast"

import math  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402

from defisim.engine.ledger import Ledger  # noqa: E402
from defisim.errors import DefisimError, InsufficientBalanceError  # noqa: E402

__all__ = ["LAYER", "CURVES", "ExternalVenue", "VenueError", "VenueQuote"]

CURVES = ("linear", "sqrt")
"""Supported depth curves."""


class VenueError(DefisimError, ValueError):
    """Bad venue parameters, a trade the venue cannot fill, or time running backwards."""


@dataclass(frozen=True, slots=True)
class VenueQuote:
    """What a trade would do, without doing it.

    ``asset_amount`` and ``quote_amount`` are base units (asset sold/bought; quote token received
    or paid); prices are float USD per whole asset token; ``depth_usd`` the depth used.
    """

    side: str
    asset_amount: int
    quote_amount: int
    price_before: float
    price_after: float
    depth_usd: float

    @property
    def average_price(self) -> float:
        """Quote per whole asset token actually received/paid (0 for an empty trade)."""
        return 0.0 if self.asset_amount == 0 else self.quote_amount / self.asset_amount


class ExternalVenue:
    """One asset vs USD on a deep external market with decaying price impact.

    Args:
        name: venue name; ledger holder ``"venue:<name>"``.
        asset: token symbol traded (in ``ledger``).
        quote_token: stablecoin symbol it settles in, valued at exactly $1.
        ledger: the world's token ledger.
        reference: ``block -> float`` USD per whole asset token, the undisturbed price path.
        depth_usd: ``D`` in USD (see module docs), > 0.
        curve: ``"sqrt"`` or ``"linear"``.
        half_life_blocks: impact half-life in blocks (> 0; ``math.inf`` for permanent impact).
        stress_depth_cut: depth lost per unit of drawdown (0 = depth never shrinks).
        impact_k: ``k`` of the sqrt curve (ignored by the linear curve).
        min_depth_fraction: floor on ``D_t / depth_usd`` so depth never reaches zero.
        start_block: first block of the drawdown's running max (default: the first block the
            venue is asked about).
    """

    def __init__(
        self,
        name: str,
        asset: str,
        quote_token: str,
        ledger: Ledger,
        reference: Callable[[int], float],
        depth_usd: float,
        curve: str = "sqrt",
        half_life_blocks: float = 300,
        stress_depth_cut: float = 0.0,
        *,
        impact_k: float = 1.0,
        min_depth_fraction: float = 0.01,
        start_block: int | None = None,
    ) -> None:
        if curve not in CURVES:
            raise VenueError(f"{name}: curve must be one of {CURVES}, got {curve!r}")
        if not (math.isfinite(depth_usd) and depth_usd > 0):
            raise VenueError(f"{name}: depth_usd must be finite and > 0, got {depth_usd!r}")
        if not half_life_blocks > 0:
            raise VenueError(f"{name}: half_life_blocks must be > 0, got {half_life_blocks!r}")
        if not (math.isfinite(stress_depth_cut) and stress_depth_cut >= 0):
            raise VenueError(f"{name}: stress_depth_cut must be >= 0, got {stress_depth_cut!r}")
        if not (math.isfinite(impact_k) and impact_k > 0):
            raise VenueError(f"{name}: impact_k must be > 0, got {impact_k!r}")
        if not 0 < min_depth_fraction <= 1:
            raise VenueError(f"{name}: min_depth_fraction must be in (0, 1], got {min_depth_fraction!r}")
        for token in (asset, quote_token):
            if token not in ledger.decimals:
                raise VenueError(f"{name}: token {token!r} is not in the ledger")
        self.name = name
        self.asset = asset
        self.quote_token = quote_token
        self.ledger = ledger
        self.reference = reference
        self.depth_usd = float(depth_usd)
        self.curve = curve
        self.half_life_blocks = float(half_life_blocks)
        self.stress_depth_cut = float(stress_depth_cut)
        self.impact_k = float(impact_k)
        self.min_depth_fraction = float(min_depth_fraction)
        self.address = f"venue:{name}"
        self._log_impact = 0.0
        self._impact_block: int | None = None
        self._max_ref = 0.0
        self._max_scanned: int | None = None if start_block is None else start_block - 1
        self._last_block: int | None = start_block

    # --- state over time -------------------------------------------------------------------

    def _check_block(self, block: int) -> None:
        if self._last_block is not None and block < self._last_block:
            raise VenueError(f"{self.name}: block {block} is before block {self._last_block} already seen")
        self._last_block = block

    def _scan_max(self, block: int) -> float:
        """Running max of the reference over every block from the first seen to ``block``."""
        start = block if self._max_scanned is None else self._max_scanned + 1
        m = self._max_ref
        for b in range(start, block + 1):
            r = float(self.reference(b))
            if r > m:
                m = r
        if self._max_scanned is None or block > self._max_scanned:
            self._max_ref, self._max_scanned = m, block
        return m

    def _decayed(self, block: int) -> float:
        if self._impact_block is None or self._log_impact == 0.0:
            return self._log_impact
        dt = block - self._impact_block
        if dt <= 0 or math.isinf(self.half_life_blocks):
            return self._log_impact
        return self._log_impact * 2.0 ** (-dt / self.half_life_blocks)

    def _advance(self, block: int) -> None:
        self._check_block(block)
        self._log_impact = self._decayed(block)
        self._impact_block = block

    # --- views -----------------------------------------------------------------------------

    def impact_multiplier(self, block: int) -> float:
        """``exp(m(block))``: venue price over reference price (1.0 = no residual impact)."""
        self._check_block(block)
        return math.exp(self._decayed(block))

    def drawdown(self, block: int) -> float:
        """Reference drawdown from its running max at ``block``, in [0, 1)."""
        self._check_block(block)
        ref = float(self.reference(block))
        peak = max(self._scan_max(block), ref)
        return 0.0 if peak <= 0 else max(0.0, 1.0 - ref / peak)

    def depth(self, block: int) -> float:
        """Depth ``D_t`` in USD at ``block`` after the stress cut."""
        factor = 1.0 - self.stress_depth_cut * self.drawdown(block)
        return self.depth_usd * max(self.min_depth_fraction, factor)

    def price(self, block: int) -> float:
        """Venue price at ``block``: USD per whole asset token (reference x impact multiplier)."""
        return float(self.reference(block)) * self.impact_multiplier(block)

    # --- quotes ----------------------------------------------------------------------------

    def quote_sell(self, block: int, amount: int) -> VenueQuote:
        """What selling ``amount`` asset base units at ``block`` would pay, without trading."""
        return self._quote("sell", block, amount)

    def quote_buy(self, block: int, amount: int) -> VenueQuote:
        """What buying ``amount`` asset base units at ``block`` would cost, without trading."""
        return self._quote("buy", block, amount)

    def _impact(self, notional: float, depth: float) -> float:
        if self.curve == "linear":
            return notional / depth
        return self.impact_k * math.sqrt(notional / depth)

    def _quote(self, side: str, block: int, amount: int) -> VenueQuote:
        if type(amount) is not int or amount < 0:
            raise VenueError(f"{self.name}: amount must be a non-negative int of base units, got {amount!r}")
        p0 = self.price(block)
        depth = self.depth(block)
        tokens = amount / self.ledger.unit(self.asset)
        q = tokens * p0
        try:
            usd = _proceeds(self.curve, side, q, depth, self.impact_k)
        except OverflowError:
            usd = math.inf
        scaled = usd * self.ledger.unit(self.quote_token)
        if not math.isfinite(scaled):
            raise VenueError(f"{self.name}: a {side} of {amount} base units is beyond the depth curve")
        quote_amount = math.floor(scaled) if side == "sell" else math.ceil(scaled)
        sign = -1.0 if side == "sell" else 1.0
        try:
            p1 = p0 * math.exp(sign * self._impact(q, depth))
        except OverflowError:
            raise VenueError(f"{self.name}: a {side} of {amount} base units is beyond the depth curve") from None
        return VenueQuote(side, amount, quote_amount, p0, p1, depth)

    # --- trades ----------------------------------------------------------------------------

    def sell(self, block: int, trader: str, amount: int) -> int:
        """Sell ``amount`` asset base units from ``trader``; returns quote base units paid out.

        The asset moves trader -> venue, the quote token venue -> trader, and the venue price
        drops by the impact of the trade.

        Raises:
            VenueError: the venue lacks the quote inventory (nothing moved).
            InsufficientBalanceError: ``trader`` lacks the asset (nothing moved).
        """
        q = self.quote_sell(block, amount)
        self._require_inventory(self.quote_token, q.quote_amount)
        self._require(self.asset, trader, amount)
        self.ledger.transfer(self.asset, trader, self.address, amount)
        self.ledger.transfer(self.quote_token, self.address, trader, q.quote_amount)
        self._apply(block, q)
        return q.quote_amount

    def buy(self, block: int, trader: str, amount: int) -> int:
        """Buy ``amount`` asset base units for ``trader``; returns quote base units paid.

        Raises:
            VenueError: the venue lacks the asset inventory (nothing moved).
            InsufficientBalanceError: ``trader`` cannot pay (nothing moved).
        """
        q = self.quote_buy(block, amount)
        self._require_inventory(self.asset, amount)
        self._require(self.quote_token, trader, q.quote_amount)
        self.ledger.transfer(self.quote_token, trader, self.address, q.quote_amount)
        self.ledger.transfer(self.asset, self.address, trader, amount)
        self._apply(block, q)
        return q.quote_amount

    def _apply(self, block: int, q: VenueQuote) -> None:
        self._advance(block)
        sign = -1.0 if q.side == "sell" else 1.0
        notional = q.asset_amount / self.ledger.unit(self.asset) * q.price_before
        self._log_impact += sign * self._impact(notional, q.depth_usd)

    def _require(self, token: str, holder: str, amount: int) -> None:
        have = self.ledger.balance_of(token, holder)
        if have < amount:
            raise InsufficientBalanceError(token, holder, have, amount)

    def _require_inventory(self, token: str, amount: int) -> None:
        have = self.ledger.balance_of(token, self.address)
        if have < amount:
            raise VenueError(
                f"{self.name}: inventory of {token} is {have} base units, trade needs {amount}"
            )


def _proceeds(curve: str, side: str, q: float, depth: float, k: float) -> float:
    """USD received (sell) or paid (buy) for a trade of pre-trade notional ``q`` USD."""
    if q <= 0.0:
        return 0.0
    if curve == "linear":
        u = q / depth
        return depth * (-math.expm1(-u)) if side == "sell" else depth * math.expm1(u)
    ku = k * math.sqrt(q / depth)
    return 2.0 * depth * _walk(ku, -1.0 if side == "sell" else 1.0) / (k * k)


def _walk(x: float, sign: float) -> float:
    """``∫_0^x u e^{sign u} du`` = ``1 - e^{-x}(1 + x)`` (sell) or ``e^{x}(x - 1) + 1`` (buy).

    For small ``x`` the closed form cancels catastrophically, so the series
    ``Σ_{n>=2} sign^n (n - 1) x^n / n!`` is used there.
    """
    if x < 0.1:
        total, term = 0.0, sign * x  # term = (sign x)^n / n!, here n = 1
        for n in range(2, 16):
            term *= sign * x / n
            total += (n - 1) * term
        return total
    if sign < 0:
        return 1.0 - math.exp(-x) * (1.0 + x)
    return math.exp(x) * (x - 1.0) + 1.0
