"""Scales and published default parameters of the perpetual-exchange model.

Every default below is a number some public documentation states; the docstring of each
names the source. No perpetual exchange ships a contract package we could mirror (dYdX v4 is
a Cosmos chain written in Go, Hyperliquid's L1 is closed source), so the model follows their
documentation, and where the two differ the choice is stated.

Scales (all ints):

* quote amounts (collateral, notional, PnL, fees) are base units of the quote token
  (USDC: 6 decimals), valued at exactly 1 USD;
* prices are USD per whole asset token with 8 decimals (as every defisim oracle);
* sizes are signed base units of the market's asset (WETH: 18 decimals), positive = long;
* margin fractions, fees and step shares are **ppm** (parts per million, ``PPM`` = 100 %),
  as dYdX v4 stores them (``initial_margin_ppm``, ``max_liquidation_fee_ppm``);
* premiums and funding rates are **ppb** (``RATE_SCALE`` = 1e9 is 100 %), fine enough to
  hold Hyperliquid's 0.00125 % hourly interest exactly (12,500 ppb).
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_BACKSTOP_PPM",
    "DEFAULT_COOLDOWN_S",
    "DEFAULT_FUNDING_INTERVAL_S",
    "DEFAULT_INITIAL_MARGIN_PPM",
    "DEFAULT_INTEREST_PER_INTERVAL",
    "DEFAULT_LIQUIDATION_FEE_PPM",
    "DEFAULT_MAINTENANCE_MARGIN_PPM",
    "DEFAULT_MAX_FUNDING_RATE",
    "DEFAULT_PREMIUM_DIVISOR",
    "DEFAULT_PREMIUM_SAMPLE_S",
    "DEFAULT_STAGED_STEP_PPM",
    "DEFAULT_STAGED_THRESHOLD_USD",
    "MAX_FEE_PPM",
    "MAX_HEALTH",
    "PPM",
    "PRICE_SCALE",
    "RATE_SCALE",
    "WAD",
]

PPM = 10**6
"""100 % in parts per million (margin fractions, fees, step shares)."""

RATE_SCALE = 10**9
"""100 % in parts per billion (premiums, funding rates)."""

PRICE_SCALE = 10**8
"""USD 1.00 in the 8-decimal price scale of every defisim oracle."""

WAD = 10**18
"""Health factors (equity / maintenance requirement) are WAD, as in the lending plug-ins."""

MAX_HEALTH = 2**256 - 1
"""Health of an account without positions (no requirement), as Aave reports no debt."""

MAX_FEE_PPM = 50_000
"""5 %: the largest liquidation fee (or fee cap) a scenario may set. A sanity bound of ours,
above every venue we know (dYdX v4's default cap is 1.5 %)."""

DEFAULT_INITIAL_MARGIN_PPM = 50_000
"""5 % (20x): dYdX ETH-USD and BTC-USD initial margin requirement ("L2 Perpetual Contract
Specs", help.dydx.exchange)."""

DEFAULT_MAINTENANCE_MARGIN_PPM = 30_000
"""3 %: dYdX ETH-USD and BTC-USD maintenance margin requirement (same page). Hyperliquid sets
maintenance to half the initial margin at max leverage ("Liquidations", Hyperliquid docs)."""

DEFAULT_LIQUIDATION_FEE_PPM = 15_000
"""1.5 %: dYdX v4's maximum liquidation penalty, paid 100 % to the insurance fund
(``LiquidationsConfig.max_liquidation_fee_ppm``, v4-chain ``liquidations_config.proto``;
"Liquidations on dYdX Chain", help.dydx.exchange)."""

DEFAULT_STAGED_THRESHOLD_USD = 100_000
"""Hyperliquid: liquidatable positions larger than 100k USDC are liquidated in parts
("Liquidations" → "Partial liquidations", Hyperliquid docs)."""

DEFAULT_STAGED_STEP_PPM = 200_000
"""Hyperliquid: 20 % of such a position is sent as a market liquidation order per step."""

DEFAULT_COOLDOWN_S = 30
"""Hyperliquid: 30 s cooldown after a block with a partial liquidation of the user."""

DEFAULT_BACKSTOP_PPM = 666_667
"""Hyperliquid: below 2/3 of the maintenance margin the position is backstop-liquidated at
once ("Liquidations", Hyperliquid docs); 2/3 rounded to ppm."""

DEFAULT_FUNDING_INTERVAL_S = 3_600
"""Funding is paid every hour on dYdX v4 and on Hyperliquid."""

DEFAULT_PREMIUM_SAMPLE_S = 60
"""dYdX v4 samples the premium once a minute and averages the 60 samples of the hour
("Funding Rates on dYdX Chain"); Hyperliquid samples every 5 s."""

DEFAULT_PREMIUM_DIVISOR = 8
"""dYdX v4: ``Funding Rate = (Premium Component / 8) + Interest Rate Component`` per hour;
Hyperliquid computes an 8-hour rate and pays one eighth of it each hour."""

DEFAULT_INTEREST_PER_INTERVAL = 12_500
"""Hyperliquid's interest component: 0.01 % per 8 hours = 0.00125 % per hour = 12,500 ppb
(dYdX v4's default is 0)."""

DEFAULT_MAX_FUNDING_RATE = 40_000_000
"""4 % per hour: Hyperliquid's funding cap (40,000,000 ppb)."""
