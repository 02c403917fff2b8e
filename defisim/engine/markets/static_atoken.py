"""Static (wrapped) aToken: an ERC-20 receipt token for an Aave V3 supply position.

Like Aave's ``StaticATokenLM`` / ``StataTokenV2`` (the ERC-4626 wrapper that Morpho Blue
markets list as collateral), a share is one *scaled* aToken held by the wrapper, so its
value follows the reserve's liquidity index ``I`` (``getReserveNormalizedIncome``, RAY)::

    rate                  = I                                  (RAY)
    convertToAssets(s)    = rayMulFloor(s, I)                  (underlying base units)
    convertToShares(a)    = rayDivFloor(a, I)                  (shares = scaled aTokens minted)
    price(share, USD e8)  = price(underlying) * I / RAY        (the ``receipt-rate`` oracle)

``I`` grows with interest and falls only when the pool socialises a deficit
(:meth:`~defisim.engine.protocols.aave_v3.AavePool.socialize_deficit`): that is the receipt
token's devaluation.

Ledger: the share token (e.g. ``waUSDC``) is an ordinary ledger token. The wrapper is the
Aave account ``address == "static:<name>"``; deposits supply the underlying on its behalf and
mint shares to the depositor, redemptions burn shares and withdraw. Invariant: the wrapper's
scaled aToken balance covers every share (``scaledBalanceOf(wrapper) >= share supply``; the
difference is rounding dust kept by the wrapper, as the contract keeps it).

Shares minted outside the wrapper while the scenario is seeded (e.g. a Morpho market's
borrowers' collateral) are backed once, by :meth:`StaticAToken.back_external_shares`: the
underlying they stand for (``rayMulCeil(shares, I)``) is minted and supplied to the pool on the
wrapper's behalf, as if those holders had deposited before the run.

Router interface (so liquidators can exit into the underlying): ``token0`` is the share,
``token1`` the underlying; :meth:`get_amount_out` / :meth:`swap_exact_in` deposit or redeem at
the current rate, without fee or slippage. A redemption the pool cannot pay (its cash, the
virtual balance, is short) quotes 0, as a withdrawal would revert.
"""

from __future__ import annotations

from collections.abc import Callable

from defisim.engine.contagion import ReceiptTokensBacked
from defisim.engine.fixedpoint import RAY, ray_div_floor, ray_mul_ceil, ray_mul_floor
from defisim.engine.protocols.aave_v3 import AaveError, AavePool
from defisim.engine.records import Record, SwapExecuted
from defisim.errors import DefisimError

__all__ = ["StaticAToken", "StaticATokenError"]


class StaticATokenError(DefisimError, ValueError):
    """A wrapper call that would revert; ``reason`` says why."""

    def __init__(self, wrapper: str, reason: str, detail: str = "") -> None:
        self.wrapper, self.reason, self.detail = wrapper, reason, detail
        super().__init__(f"{wrapper}: {reason}" + (f" ({detail})" if detail else ""))


class StaticAToken:
    """Wrapped aToken of ``asset`` in ``pool`` as ledger token ``token`` (see module docs).

    ``clock()`` returns the current unix time (s): the router calls quotes without one.
    """

    def __init__(self, name: str, pool: AavePool, asset: str, token: str, clock: Callable[[], int]) -> None:
        ledger = pool.ledger
        if token not in ledger.decimals:
            raise StaticATokenError(name, "UNKNOWN_TOKEN", f"{token} is not a ledger token")
        if ledger.decimals[token] != ledger.decimals[asset]:
            raise StaticATokenError(name, "INVALID_DECIMALS",
                                    f"{token} must have {asset}'s {ledger.decimals[asset]} decimals")
        if asset not in pool.assets():
            raise StaticATokenError(name, "ASSET_NOT_LISTED", f"{asset} is not a reserve of {pool.name}")
        self.name = name
        self.address = f"static:{name}"
        self.pool = pool
        self.ledger = ledger
        self.asset = asset
        self.token = token
        self.token0 = token
        self.token1 = asset
        self.clock = clock
        self.protocol = pool.name

    # --- rate ------------------------------------------------------------------------------

    def rate(self, now: int | None = None) -> int:
        """``rate()``: the reserve's normalized income at ``now`` (RAY)."""
        return self.pool.normalized_income(self.clock() if now is None else now, self.asset)

    def rate_fraction(self, now: int) -> tuple[int, int]:
        """The exchange rate as ``(numerator, denominator)``: ``(I, RAY)``."""
        return self.rate(now), RAY

    def convert_to_assets(self, shares: int, now: int | None = None) -> int:
        """Underlying base units for ``shares`` (rounded down)."""
        return ray_mul_floor(shares, self.rate(now))

    def convert_to_shares(self, assets: int, now: int | None = None) -> int:
        """Shares minted for ``assets`` underlying base units (rounded down, as Aave mints)."""
        return ray_div_floor(assets, self.rate(now))

    def total_assets(self, now: int | None = None) -> int:
        """The wrapper's aToken balance, underlying base units."""
        return ray_mul_floor(self.pool.scaled_balance_of(self.address, self.asset), self.rate(now))

    def cash(self) -> int:
        """Underlying the pool can pay out now (its ledger cash = virtual balance)."""
        return self.ledger.balance_of(self.asset, self.pool.address)

    # --- deposit / redeem ------------------------------------------------------------------

    def deposit(self, now: int, account: str, assets: int) -> int:
        """Supply ``assets`` of ``account``'s underlying; mint and return the shares."""
        shares = self.convert_to_shares(assets, now)
        if shares == 0:
            raise StaticATokenError(self.name, "INVALID_ZERO_AMOUNT", f"{assets} assets mint 0 shares")
        before = self.pool.scaled_balance_of(self.address, self.asset)
        self.ledger.transfer(self.asset, account, self.address, assets)
        try:
            self.pool.supply(now, self.address, self.asset, assets)
        except AaveError:
            self.ledger.transfer(self.asset, self.address, account, assets)
            raise
        minted = self.pool.scaled_balance_of(self.address, self.asset) - before
        self.ledger.mint(self.token, account, minted)
        return minted

    def redeem(self, now: int, account: str, shares: int) -> int:
        """Burn ``shares`` of ``account``; withdraw and pay out the underlying; returns it."""
        assets = self.convert_to_assets(shares, now)
        if assets == 0:
            raise StaticATokenError(self.name, "INVALID_ZERO_AMOUNT", f"{shares} shares redeem 0")
        if assets > self.cash():
            raise StaticATokenError(self.name, "INSUFFICIENT_LIQUIDITY",
                                    f"pool cash {self.cash()} < {assets}")
        have = self.ledger.balance_of(self.token, account)
        if have < shares:
            raise StaticATokenError(self.name, "INSUFFICIENT_SHARES", f"{account} holds {have}, needs {shares}")
        self.pool.withdraw(now, self.address, self.asset, assets)
        self.ledger.burn(self.token, account, shares)
        self.ledger.transfer(self.asset, self.address, account, assets)
        return assets

    def back_external_shares(self, block: int, now: int) -> list[Record]:
        """Back shares minted outside the wrapper (see module docs); returns the record."""
        missing = self.ledger.supply(self.token) - self.pool.scaled_balance_of(self.address, self.asset)
        if missing <= 0:
            return []
        assets = ray_mul_ceil(missing, self.rate(now))
        self.ledger.mint(self.asset, self.address, assets)
        self.pool.supply(now, self.address, self.asset, assets)
        return [ReceiptTokensBacked(block, self.name, self.token, self.protocol, self.asset, missing, assets)]

    # --- router interface --------------------------------------------------------------------

    def other(self, token: str) -> str:
        """The other side of the conversion."""
        return self.asset if token == self.token else self.token

    def get_amount_out(self, amount_in: int, token_in: str) -> int:
        """Deposit (underlying in) or redeem (shares in) output; 0 if the pool lacks cash."""
        if amount_in <= 0:
            return 0
        if token_in == self.token:
            assets = self.convert_to_assets(amount_in)
            return assets if assets <= self.cash() else 0
        if token_in == self.asset:
            return self.convert_to_shares(amount_in)
        raise StaticATokenError(self.name, "INVALID_TOKEN", token_in)

    def get_amount_in(self, amount_out: int, token_out: str) -> int:
        """Least input giving at least ``amount_out`` of ``token_out``."""
        rate = self.rate()
        if token_out == self.asset:  # shares in: ceil(amount_out * RAY / rate), then check
            shares = -(-amount_out * RAY // rate)
            while ray_mul_floor(shares, rate) < amount_out:
                shares += 1
            return shares
        if token_out == self.token:
            assets = ray_mul_ceil(amount_out, rate)
            while ray_div_floor(assets, rate) < amount_out:
                assets += 1
            return assets
        raise StaticATokenError(self.name, "INVALID_TOKEN", token_out)

    def swap_exact_in(self, block: int, now: int, trader: str, token_in: str, amount_in: int,
                      min_out: int = 0) -> SwapExecuted | None:
        """Deposit or redeem as a swap; None (nothing moved) if the output is 0 or < ``min_out``."""
        out = self.get_amount_out(amount_in, token_in)
        if out == 0 or out < min_out:
            return None
        if token_in == self.token:
            got = self.redeem(now, trader, amount_in)
        else:
            got = self.deposit(now, trader, amount_in)
        return SwapExecuted(
            block=block, pool=self.name, trader=trader, token_in=token_in, amount_in=amount_in,
            token_out=self.other(token_in), amount_out=got,
            reserve0=self.ledger.supply(self.token), reserve1=self.total_assets(now),
        )

    # --- checks ------------------------------------------------------------------------------

    def invariant_errors(self) -> list[str]:
        """Every share is backed by a scaled aToken of the wrapper; no loose underlying."""
        errors: list[str] = []
        scaled = self.pool.scaled_balance_of(self.address, self.asset)
        supply = self.ledger.supply(self.token)
        if scaled < supply:
            errors.append(f"{self.name}: {supply} shares but only {scaled} scaled aTokens")
        if self.ledger.balance_of(self.asset, self.address):
            errors.append(f"{self.name}: underlying left on the wrapper's ledger address")
        return errors
